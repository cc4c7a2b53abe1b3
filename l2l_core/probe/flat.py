"""Tasks as one flat parameter vector: what :mod:`~l2l_core.probe` trains, differentiates and slices.

:func:`resolve` gives an :class:`~l2l_core.tasks.mlp.MLPTask` for ``digits_mlp`` and
``digits_fc_tanh`` (its flat layout lets a slice share the first layer's products) and
the registry's :class:`~l2l_core.tasks.base.Task` for everything else.
:func:`flat_task` gives the start as one float64 vector and the loss of such a vector;
:func:`layer_rates` the per-layer learning-rate names and the segment each moves.
"""

from __future__ import annotations

import jax
import numpy as np

from l2l_core.tasks.general import resolve_task
from l2l_core.tasks.mlp import MLP_TASKS, MLPTask, mlp_task


def resolve(task, seed: int = 0):
    """An :class:`~l2l_core.tasks.mlp.MLPTask` (by itself or name) or a registry task (any name or
    formula :func:`~l2l_core.tasks.general.resolve_task` takes, a trainability-fractal network's
    full-batch lr variants included; its minibatch and offset variants raise ValueError)."""
    if isinstance(task, MLPTask):
        return task
    if isinstance(task, str) and task in MLP_TASKS:
        return mlp_task(task)
    try:
        return resolve_task(task, seed)
    except ValueError as e:
        raise ValueError(f"{e} (network tasks: {', '.join(MLP_TASKS)})") from None


class _FlatLoss:
    """A registry task's loss as a function of one flat vector (hashable by the task: jit keys on it)."""

    def __init__(self, task, leaves, treedef):
        self.task, self.treedef = task, treedef
        self.shapes = tuple(np.shape(leaf) for leaf in leaves)
        self.sizes = tuple(int(np.size(leaf)) for leaf in leaves)

    def unflatten(self, flat):
        parts, i = [], 0
        for shape, n in zip(self.shapes, self.sizes):
            parts.append(flat[i:i + n].reshape(shape))
            i += n
        return jax.tree_util.tree_unflatten(self.treedef, parts)

    def __call__(self, flat):
        return self.task.value_and_grad(self.unflatten(flat))[0]

    def __hash__(self):
        return hash((id(self.task), self.shapes))

    def __eq__(self, other):
        return isinstance(other, _FlatLoss) and other.task is self.task and other.shapes == self.shapes


_LOSSES: dict = {}


def flat_task(task, seed: int = 0, x0=None, dtype=np.float32):
    """(flat start (P,) float64, loss of a flat vector (hashable, jax-traceable), leaf sizes).

    ``x0`` replaces a 1-D or 2-D task's start.
    """
    if isinstance(task, MLPTask):
        return task.init(seed), task.loss, (task.n_params,)
    params = task.init(seed)
    if x0 is not None:
        if task.labels is not None or task.dim > 2:
            raise ValueError(f"x0 applies to 1-D and 2-D tasks, not to {task.name!r}")
        x0 = np.atleast_1d(np.asarray(x0, np.float64))
        if x0.size != task.dim or not np.all(np.isfinite(x0)):
            raise ValueError(f"x0 must be {task.dim} finite number(s) for {task.name!r}, got {x0.tolist()}")
        params = np.float64(x0[0]) if task.dim == 1 else tuple(np.float64(v) for v in x0)
    leaves, treedef = jax.tree_util.tree_flatten(params)
    key = (id(task), treedef)
    if key not in _LOSSES:
        _LOSSES[key] = (task, _FlatLoss(task, leaves, treedef))  # the task is kept so its id stays its own
    loss = _LOSSES[key][1]
    flat = np.concatenate([np.ravel(np.asarray(leaf, np.float64)) for leaf in leaves])
    return flat, loss, loss.sizes


def layer_rates(task) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """(the learning-rate name of each parameter segment, the segment sizes); ((), (P,)) without
    per-layer rates. An MLP task: one segment per layer (its W then its b), the output layer moved
    by ``lr_out`` and every other by ``lr_in`` (as the registry's maps do)."""
    if isinstance(task, MLPTask):
        n = len(task.shapes)
        sizes = tuple(a * b + (b if task.biases else 0) for a, b in task.shapes)
        return tuple("lr_out" if i == n - 1 else "lr_in" for i in range(n)), sizes
    labels = getattr(task, "labels", None)
    if labels is None:
        return (), (int(task.dim),)
    leaves = jax.tree_util.tree_leaves(task.init(0))
    return tuple(jax.tree_util.tree_leaves(labels)), tuple(int(np.size(leaf)) for leaf in leaves)
