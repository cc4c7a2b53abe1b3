"""Small networks whose trainability boundary is fractal (Sohl-Dickstein, 2024).

The paper's network: one hidden layer of width ``W``, no biases, mean-field
parameterization (each layer computes ``z = x @ w / sqrt(fan_in)``; the output
is the last ``z`` divided once more by ``sqrt(W)``), hidden activation
``tanh(sqrt(2) z)``, mean squared error on ``n`` Gaussian points, trained by
full-batch gradient descent with one learning rate per layer::

    W1 <- W1 - lr_in  * dL/dW1
    W2 <- W2 - lr_out * dL/dW2

A :class:`NetworkTask` holds everything that defines one experiment as plain
arrays (inputs, targets, initial weights by layer), so that anyone can
re-check an image from the arrays alone. Tasks are drawn with
``jax.random`` from one seed: the same (name, width, seed) always gives the
same arrays, on any machine.

References:
  J. Sohl-Dickstein, "The boundary of neural network trainability is
  fractal", arXiv:2402.06184 (2024).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np

from l2l_core.checks import check_int
from l2l_core.inner.axes import lr_axis
from l2l_core.tasks.base import Task

#: Hidden activations phi: tanh(sqrt(2) z), sqrt(2) relu(z), z.
ACTIVATIONS = ("tanh", "relu", "linear")

#: Default views, log10 units: lr_in x lr_out (both [-3, 6], the paper's), and
#: the offset of W1's initial entries (linear) x log10 of one shared lr.
DEFAULT_WINDOWS = {"lr": (-3.0, 6.0, -3.0, 6.0), "offset": (-2.0, 2.0, -3.0, 3.0)}

#: Largest width accepted (the paper's is 16; 64 keeps a pixel's run small).
MAX_WIDTH = 64
#: Largest number of training points accepted.
MAX_POINTS = 4096


@dataclass(frozen=True)
class NetworkSpec:
    """How a task variant is built (static settings only)."""

    name: str
    title: str
    activation: str
    #: "params" (n = W*W + W, the number of parameters), "width" (n = W) or an int.
    points: str | int
    #: Points per gradient step; None = full batch.
    batch_size: int | None
    #: "lr" (lr_in x lr_out) or "offset" (offset of W1's init x one shared lr).
    phase_space: str
    #: The paper's Table 1 fractal dimension for this variant.
    paper_dimension: float
    description: str


SPECS: dict[str, NetworkSpec] = {
    s.name: s
    for s in (
        NetworkSpec("fractal_tanh", "tanh network (the paper's)", "tanh", "params", None, "lr", 1.66,
                    "width 16, one hidden layer, tanh(sqrt(2) z), 272 points, full-batch GD"),
        NetworkSpec("fractal_relu", "ReLU network", "relu", "params", None, "lr", 1.20,
                    "as the paper's, hidden activation sqrt(2) relu(z)"),
        NetworkSpec("fractal_linear", "linear network", "linear", "width", None, "lr", 1.17,
                    "as the paper's, identity activation, n = width points"),
        NetworkSpec("fractal_minibatch", "tanh, minibatch 16", "tanh", "params", 16, "lr", 1.55,
                    "as the paper's, each step on the next 16 points in order (17 batches an epoch)"),
        NetworkSpec("fractal_single", "tanh, single datapoint", "tanh", 1, None, "lr", 1.41,
                    "as the paper's, trained on one point"),
        NetworkSpec("fractal_offset", "tanh, offset vs learning rate", "tanh", "params", None, "offset", 1.98,
                    "as the paper's; axes: an offset added to every initial W1 entry x one shared lr"),
    )
}

DEFAULT_TASK = "fractal_tanh"


@dataclass(frozen=True, eq=False)
class NetworkTask:
    """One experiment's arrays (float64 numpy holding float32-drawn values).

    Attributes:
      inputs: (n, W) training inputs X.
      targets: (n, 1) training targets Y.
      init: initial weights by layer, (W1 of shape (W, W), W2 of shape (W, 1)).
    """

    spec: NetworkSpec
    width: int
    seed: int
    inputs: np.ndarray
    targets: np.ndarray
    init: tuple[np.ndarray, np.ndarray]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def n_points(self) -> int:
        return self.inputs.shape[0]

    @property
    def batch_size(self) -> int:
        return self.spec.batch_size or self.n_points

    def task_arrays(self) -> dict[str, np.ndarray]:
        """The arrays that define the task, under the grid NPZ's names."""
        return {"task_inputs": self.inputs, "task_targets": self.targets,
                "task_init_0": self.init[0], "task_init_1": self.init[1]}




def get_spec(name: str) -> NetworkSpec:
    if name not in SPECS:
        raise ValueError(f"unknown network task {name!r}; choose one of {list(SPECS)}")
    return SPECS[name]


def n_points(spec: NetworkSpec, width: int) -> int:
    if spec.points == "params":
        return width * width + width
    if spec.points == "width":
        return width
    return int(spec.points)


def make_task(name: str = DEFAULT_TASK, *, width: int = 16, seed: int = 0) -> NetworkTask:
    """The task ``name`` at ``width``, drawn from ``seed``.

    Draws, as the straightforward peer does: ``k1..k4 = split(PRNGKey(seed), 4)``;
    W1 ~ N(0,1) (W, W) from k1, W2 ~ N(0,1) (W, 1) from k2, X ~ N(0,1) (n, W)
    from k3, Y ~ N(0,1) (n, 1) from k4, all in float32.

    Raises:
      ValueError: unknown name, width outside 1..MAX_WIDTH, a batch larger than
        the data, or too many points.
    """
    import jax

    spec = get_spec(name)
    width = check_int("width", width, 1, MAX_WIDTH)
    seed = check_int("seed", seed, 0, 2**31 - 1)
    n = n_points(spec, width)
    if n > MAX_POINTS:
        raise ValueError(f"{name} at width {width} has {n} points, over the cap of {MAX_POINTS}; lower the width")
    if spec.batch_size is not None and (n % spec.batch_size or spec.batch_size > n):
        raise ValueError(f"{name} needs a point count divisible by its minibatch {spec.batch_size}; "
                         f"width {width} gives {n} points (try width 16)")
    k1, k2, k3, k4 = jax.random.split(jax.random.PRNGKey(seed), 4)
    f32 = np.float32

    def draw(key, shape):
        return np.asarray(jax.random.normal(key, shape, dtype=f32)).astype(np.float64)

    w1, w2 = draw(k1, (width, width)), draw(k2, (width, 1))
    x, y = draw(k3, (n, width)), draw(k4, (n, 1))
    return NetworkTask(spec, width, seed, x, y, (w1, w2))


def task_from_arrays(name: str, inputs, targets, init_0, init_1) -> NetworkTask:
    """A task rebuilt from its arrays (a grid NPZ's ``task_*``), for re-checking."""
    spec = get_spec(name)
    x, y = np.asarray(inputs, np.float64), np.asarray(targets, np.float64).reshape(-1, 1)
    w1, w2 = np.asarray(init_0, np.float64), np.asarray(init_1, np.float64).reshape(-1, 1)
    width = w1.shape[0]
    if x.ndim != 2 or x.shape[1] != width or w1.shape != (width, width) or w2.shape[0] != width \
            or y.shape[0] != x.shape[0]:
        raise ValueError(f"task arrays do not fit together: inputs {x.shape}, targets {y.shape}, "
                         f"init {w1.shape} and {w2.shape}")
    if not all(np.isfinite(a).all() for a in (x, y, w1, w2)):
        raise ValueError("task arrays hold non-finite values")
    return NetworkTask(spec, width, -1, x, y, (w1, w2))


# -- the forward pass, shared by the hand-written kernel and the task below ----------------------


def phi(name, z):
    """phi(z) for the *pre-scaled* z' = sqrt(2) z (tanh, relu) or z (linear), and
    dphi/dz' (None for the identity): sqrt(2) is folded into the inputs."""
    if name == "tanh":
        h = jnp.tanh(z)
        return h, 1 - h * h
    if name == "relu":
        return jnp.maximum(z, 0), (z > 0).astype(z.dtype)
    return z, None


def input_scale(activation: str, width: int) -> float:
    """c in z' = c X @ W1: 1/sqrt(fan_in), times sqrt(2) for tanh and relu."""
    return (np.sqrt(2.0) if activation != "linear" else 1.0) / np.sqrt(width)


# -- a full-batch network as a Task of the maps --------------------------------------------------

# The full-batch learning-rate variants are tasks of the maps (any optax optimizer, opening a pixel,
# a family of one): their loss is the paper's full-batch training loss written from the task's
# arrays exactly as the hand-written kernel's forward pass (z' = c X @ W1, h = phi(z'),
# r = h @ W2 / W - Y, mean r^2, the inputs pre-scaled by input_scale in float64 and then cast),
# so plain SGD with lr_in on W1 and lr_out on W2 trains the run of the fractal map's pixel
# (lr_in, lr_out). The minibatch variant's loss changes with the step and the offset variant's
# axes are not two learning rates: they stay the kernel's own.

#: The width they are opened at (the paper's, and the fractal page's default).
PROBE_WIDTH = 16


def supported(name: str) -> str | None:
    """None when the network ``name`` is a task of the maps, else why not (one sentence)."""
    spec = SPECS.get(name)
    if spec is None:
        return f"{name!r} is not a trainability-fractal network"
    if spec.batch_size is not None:
        return (f"{name} trains on minibatches (the loss changes each step); a task of the maps trains one "
                "full-batch loss")
    if spec.phase_space != "lr":
        return f"{name}'s axes are an initial-weight offset and one shared lr, not the two learning rates lr_in, lr_out"
    return None


def probe_names() -> tuple[str, ...]:
    """The networks :func:`fractal_probe_task` accepts: the full-batch learning-rate variants."""
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
        raise ValueError(f"{net.name} is not a task of the maps: {why}")
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
    """The network ``name`` drawn from ``seed`` at ``width`` as a Task (cached: one jitted loss each).

    Raises:
      ValueError: an unknown name, or a variant the probe cannot train (minibatch, offset), saying why.
    """
    why = supported(name)
    if why is not None:
        raise ValueError(f"{name} is not a task of the maps: {why}")
    return task_of(make_task(name, width=int(width), seed=int(seed)))
