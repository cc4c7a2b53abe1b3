"""The landscape a run crossed: 2-D slices of the loss in parameter space (Li et al. 2018).

- :func:`filter_normalized`: a Gaussian direction with each filter rescaled to the
  norm of the same filter in the center (for an MLP: each output unit's incoming
  weights, a column of W (fan_in, fan_out)); bias entries 0 ("ignore biasbn").
- :func:`slice_2d`: the loss at center + a dir_a + b dir_b on an N x N grid (rows: b,
  columns: a). For an :class:`~l2l_core.tasks.mlp.MLPTask` the first layer's
  pre-activation is linear in (a, b): X W1(a, b) = X c1 + a X A1 + b X B1, so the
  three products are computed once and every cell only runs the layers above.
- :func:`pca_directions`: the top-2 PCA directions of (theta_t - theta_final), the
  variance they explain and the path projected on them.
- :func:`interpolation`: the loss on the line from the start to the end
  (Goodfellow et al. 2015).
"""

from __future__ import annotations

import contextlib
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from l2l_core.tasks.mlp import ACTIVATIONS, MLPTask

#: Most cells on one side of a slice.
MAX_SLICE = 401


def filter_groups(task) -> list[tuple[np.ndarray, bool]]:
    """The flat indices of each filter of ``task`` and whether it is a bias (its direction is 0).

    An MLP task: one group per output unit of each layer (a column of W), one per bias vector. A
    registry network (leaves W (out, in)): one group per row. Anything else: the whole vector.
    """
    groups = []
    if isinstance(task, MLPTask):
        for (a, b), (ws, bs) in zip(task.shapes, task.layer_slices):
            idx = np.arange(ws.start, ws.stop).reshape(a, b)
            groups += [(idx[:, j], False) for j in range(b)]
            if bs is not None:
                groups.append((np.arange(bs.start, bs.stop), True))
        return groups
    if getattr(task, "labels", None) is not None:
        i = 0
        for leaf in jax.tree_util.tree_leaves(task.init(0)):
            leaf = np.asarray(leaf)
            n = leaf.size
            if leaf.ndim == 2:
                idx = np.arange(i, i + n).reshape(leaf.shape)
                groups += [(row, False) for row in idx]
            else:
                groups.append((np.arange(i, i + n), leaf.ndim == 1))
            i += n
        return groups
    dim = getattr(task, "dim", None)
    return [(np.arange(int(dim)), False)]


def filter_normalize(direction, center, groups) -> np.ndarray:
    """``direction`` with each filter rescaled to the norm of that filter in ``center``; bias groups 0."""
    d = np.array(direction, np.float64)
    c = np.asarray(center, np.float64)
    for idx, is_bias in groups:
        if is_bias:
            d[idx] = 0.0
            continue
        nd = np.linalg.norm(d[idx])
        d[idx] = d[idx] * (np.linalg.norm(c[idx]) / nd) if nd > 0 else 0.0
    return d


def filter_normalized(task, center, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two filter-normalized Gaussian directions (float64, (P,)) around ``center``, drawn from ``seed``."""
    center = np.asarray(center, np.float64)
    rng = np.random.default_rng([int(seed), 1712_09913])
    groups = filter_groups(task)
    a = filter_normalize(rng.standard_normal(center.shape), center, groups)
    b = filter_normalize(rng.standard_normal(center.shape), center, groups)
    return a, b


def check_slice(n: int, span: float) -> tuple[int, float]:
    if int(n) != n or not 2 <= n <= MAX_SLICE:
        raise ValueError(f"slice size must be an integer from 2 to {MAX_SLICE}, got {n}")
    span = float(span)
    if not (np.isfinite(span) and 0 < span <= 1e3):
        raise ValueError(f"slice span must be above 0 and at most 1000, got {span}")
    return int(n), span


# -- the slice ----------------------------------------------------------------------------------


@partial(jax.jit, static_argnames=("task",))
def _mlp_slice(task, center, da, db, a_vals, b_vals):
    """The MLP slice, one row (one b) at a time. Each layer's weights are linear in (a, b):
    W = (Wc + b Wb) + a Wa. The first layer's X Wc, X Wa, X Wb are computed once for the whole slice;
    above it, a row's activations H (cells x examples, fan_in) meet [Wc + b Wb, Wa] in one matrix
    product and each cell adds its a-part."""
    dtype = center.dtype
    act = ACTIVATIONS[task.activation]
    x = jnp.asarray(task.inputs, dtype)
    y = jnp.asarray(task.targets, dtype)
    lc, la, lb = (task.unflatten(v) for v in (center, da, db))
    (wc, bc), (wa, ba), (wb, bb) = lc[0], la[0], lb[0]
    xc, xa, xb = x @ wc, x @ wa, x @ wb  # (n, h1) each, computed once
    if bc is not None:
        xc, xa, xb = xc + bc, xa + ba, xb + bb
    n_a = a_vals.shape[0]
    a3 = a_vals[:, None, None]

    def row(b):
        pre = (xc + b * xb)[None] + a3 * xa[None]  # (N, n, h1)
        for (wc_l, bc_l), (wa_l, ba_l), (wb_l, bb_l) in zip(lc[1:], la[1:], lb[1:]):
            fan_in, fan_out = wc_l.shape
            both = jnp.concatenate([wc_l + b * wb_l, wa_l], axis=1)  # (fan_in, 2 fan_out)
            z = (act(pre).reshape(-1, fan_in) @ both).reshape(n_a, -1, 2 * fan_out)
            pre = z[..., :fan_out] + a3 * z[..., fan_out:]
            if bc_l is not None:
                pre = pre + (bc_l + b * bb_l) + a3 * ba_l
        return jax.vmap(lambda out: task.loss_from_outputs(out, y))(pre)

    return jax.lax.map(row, b_vals)


@partial(jax.jit, static_argnames=("loss",))
def _generic_slice(loss, center, da, db, a_vals, b_vals):
    def row(b):
        return jax.vmap(lambda a: loss(center + a * da + b * db))(a_vals)

    return jax.lax.map(row, b_vals)


def slice_2d(task, loss, center, dir_a, dir_b, a_vals, b_vals, dtype=np.float32) -> np.ndarray:
    """The loss at center + a dir_a + b dir_b, shape (len(b_vals), len(a_vals)) (rows: b, columns: a).

    ``task`` an :class:`~l2l_core.tasks.mlp.MLPTask` takes the shared-product path; anything else
    evaluates ``loss`` (hashable, jax-traceable, of a flat vector) at every cell.
    """
    with _precision(dtype):
        args = [jnp.asarray(v, dtype) for v in (center, dir_a, dir_b, a_vals, b_vals)]
        out = _mlp_slice(task, *args) if isinstance(task, MLPTask) else _generic_slice(loss, *args)
        return np.asarray(out)


def _precision(dtype):
    """float64 work switches jax's x64 on for its own duration."""
    return jax.enable_x64(True) if np.dtype(dtype) == np.float64 else contextlib.nullcontext()


# -- PCA of the path and the interpolation -------------------------------------------------------


def pca_directions(path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top-2 PCA directions (2, P) of (theta_t - theta_final), the fraction of variance each explains (2,)
    and the path's coordinates on them (R, 2). Fewer than two independent displacements give zero rows."""
    path = np.asarray(path, np.float64)
    disp = path - path[-1]
    _, s, vt = np.linalg.svd(disp, full_matrices=False)
    total = float(np.sum(s ** 2))
    dirs = np.zeros((2, path.shape[1]))
    explained = np.zeros(2)
    r = min(2, vt.shape[0])
    dirs[:r] = vt[:r]
    if total > 0:
        explained[:r] = s[:r] ** 2 / total
        dirs[:r][s[:r] <= 1e-12 * s[0]] = 0.0
    return dirs, explained, disp @ dirs.T


def interpolation(loss, start, end, alphas, dtype=np.float32) -> np.ndarray:
    """loss((1 - alpha) start + alpha end) for each alpha."""
    with _precision(dtype):
        return np.asarray(_interp(loss, *(jnp.asarray(v, dtype) for v in (start, end, alphas))))


@partial(jax.jit, static_argnames=("loss",))
def _interp(loss, start, end, alphas):
    return jax.vmap(lambda t: loss((1 - t) * start + t * end))(alphas)
