"""The trainability-fractal networks as probe tasks: one flat vector, one loss, rates ``lr_in``/``lr_out``.

:func:`fractal_probe_task` wraps a network of :mod:`l2l_core.tasks.fractal_networks` as a
:class:`~l2l_core.tasks.base.Task` so that :func:`l2l_core.probe.run.inspect_run` and
:func:`l2l_core.probe.thresholds.stability_edge` take it. The loss is the paper's full-batch
training loss written from the task's arrays exactly as :mod:`l2l_core.landscape.fractal`'s
forward pass (z' = c X @ W1, h = phi(z'), r = h @ W2 / W - Y, mean r^2, the inputs pre-scaled by
:func:`~l2l_core.landscape.fractal.input_scale` in float64 and then cast), so plain SGD with
``lr_in`` on W1 and ``lr_out`` on W2 trains the run of the map's pixel (lr_in, lr_out).

Only the full-batch learning-rate variants are accepted: the minibatch variant's loss changes with
the step (the probe trains one fixed loss) and the offset variant's axes are not two learning rates.
"""

from __future__ import annotations

from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np

from l2l_core.inner.optimizers import lr_axis
from l2l_core.landscape.fractal import DEFAULT_WINDOWS, input_scale, phi
from l2l_core.tasks.base import Task
from l2l_core.tasks.fractal_networks import SPECS, NetworkTask, make_task

#: The width the probe opens (the paper's, and the fractal page's default).
PROBE_WIDTH = 16


def supported(name: str) -> str | None:
    """None when the network ``name`` can be probed, else why not (one sentence)."""
    spec = SPECS.get(name)
    if spec is None:
        return f"{name!r} is not a trainability-fractal network"
    if spec.batch_size is not None:
        return (f"{name} trains on minibatches (the loss changes each step); opening a pixel trains one "
                "full-batch loss")
    if spec.phase_space != "lr":
        return f"{name}'s axes are an initial-weight offset and one shared lr, not the two learning rates lr_in, lr_out"
    return None


def probe_names() -> tuple[str, ...]:
    """The networks :func:`fractal_probe_task` accepts."""
    return tuple(n for n in SPECS if supported(n) is None)


def network_loss(params, inputs, targets, activation: str):
    """The fractal kernel's full-batch MSE of (W1 (W, W), W2 (W, 1)) on ``inputs`` (n, W) (already
    multiplied by the input scale) and ``targets`` (n, 1), in the weights' dtype."""
    w1, w2 = params
    width = w1.shape[0]
    h = phi(activation, inputs @ w1)[0]
    r = (h @ w2) * jnp.asarray(1.0 / width, w1.dtype) - targets
    return jnp.mean(r * r)


def task_of(net: NetworkTask):
    """A :class:`~l2l_core.tasks.base.Task` for the network task ``net`` (its arrays as they are)."""
    why = supported(net.name)
    if why is not None:
        raise ValueError(f"cannot open {net.name} as a pixel: {why}")
    act = net.spec.activation
    scaled = net.inputs * input_scale(act, net.width)
    targets = net.targets
    init = (np.asarray(net.init[0], np.float64), np.asarray(net.init[1], np.float64))

    def loss(params):
        dt = params[0].dtype
        return network_loss(params, jnp.asarray(scaled, dt), jnp.asarray(targets, dt), act)

    return Task(name=net.name, title=net.spec.title,
                description=f"{net.spec.description} (width {net.width}, seed {net.seed})",
                init=lambda _seed: init, value_and_grad=jax.value_and_grad(loss),
                dim=net.width * net.width + net.width, labels=("lr_in", "lr_out"), data=net.task_arrays(),
                axes={"lr_in": lr_axis("lr_in", DEFAULT_WINDOWS["lr"][:2], "log10 lr_in"),
                      "lr_out": lr_axis("lr_out", DEFAULT_WINDOWS["lr"][2:], "log10 lr_out")})


@lru_cache(maxsize=16)
def fractal_probe_task(name: str, seed: int = 0, width: int = PROBE_WIDTH):
    """The network ``name`` drawn from ``seed`` at ``width`` as a probe task (cached: one jitted loss each).

    Raises:
      ValueError: an unknown name, or a variant the probe cannot train (minibatch, offset), saying why.
    """
    why = supported(name)
    if why is not None:
        raise ValueError(f"cannot open {name} as a pixel: {why}")
    return task_of(make_task(name, width=int(width), seed=int(seed)))
