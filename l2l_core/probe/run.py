"""One pixel opened: a single training run with its curvature and the landscape it crossed.

:func:`inspect_run` trains any task (a registry task, a 1-D preset, a typed formula,
``digits_mlp``, ``digits_fc_tanh``) with any optimizer of
:data:`~l2l_core.inner.optimizers.OPTIMIZERS` at raw hyperparameter values, full
batch. The run goes in chunks of ``sharpness_every`` steps (one ``lax.scan`` each);
at step 0, after each chunk and at the last step the top-k Hessian eigenvalues of the
training loss are computed by Lanczos inside jit (:mod:`~l2l_core.probe.curvature`),
and for Adam/RMSprop and per-layer rates also the preconditioned ones. With
``slice_n`` it adds the slices of :mod:`~l2l_core.probe.slices`. The arrays are named
as the ``inspect`` NPZ of the design: ``loss``, ``sharpness_steps``, ``sharpness``,
``params``, ``threshold``, ``center``, ``dir_a``, ``dir_b``, ``slice_a``, ``slice_b``,
``slice_loss``, the MLP arrays, plus ``meta`` (a dict) and ``seconds`` (per part).
"""

from __future__ import annotations

import contextlib
import math
import time
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax

from l2l_core.checks import check_dtype, check_int
from l2l_core.inner.optimizers import check_fixed, get_optimizer
from l2l_core.probe import curvature, slices, thresholds
from l2l_core.probe.flat import flat_task, layer_rates, resolve
from l2l_core.tasks.mlp import MLPTask

__all__ = ["flat_task", "inspect_run", "resolve"]

MAX_STEPS = 10_000
MAX_EIGS = 20
#: Most curvature checkpoints (each stores the parameters).
MAX_CHECKPOINTS = 2001
#: Points of the start -> end interpolation (alpha from -0.25 to 1.25).
INTERP_POINTS = 61
#: Lanczos steps at a checkpoint started from the last one's top Ritz vector (k = 1, default steps).
WARM_ITERS = 12
#: Tasks with at most this many parameters also return their whole path (``path``, (T+1, P)).
PATH_DIM = 2


# -- tasks as one flat vector --------------------------------------------------------------------


# -- training --------------------------------------------------------------------------------------


def _split(flat, sizes):
    return tuple(jnp.split(flat, np.cumsum(sizes)[:-1])) if len(sizes) > 1 else (flat,)


def _tx(build, labels, hp):
    if not labels:
        return build(**hp)
    rate_names = tuple(dict.fromkeys(labels))
    base = {k: v for k, v in hp.items() if k not in rate_names and k != "lr"}
    groups = {name: build(**dict(base, lr=hp[name])) for name in rate_names}
    return optax.multi_transform(groups, labels)


@partial(jax.jit, static_argnames=("build", "labels", "sizes"))
def _init_state(flat, hp, *, build, labels, sizes):
    return _tx(build, labels, hp).init(_split(flat, sizes))


@partial(jax.jit, static_argnames=("loss", "build", "labels", "sizes", "length", "keep_path"))
def _train_chunk(flat, state, hp, *, loss, build, labels, sizes, length, keep_path):
    tx = _tx(build, labels, hp)

    def seg_loss(p):
        return loss(jnp.concatenate(p) if len(p) > 1 else p[0])

    def step(carry, _):
        p, s = carry
        value, g = jax.value_and_grad(seg_loss)(p)
        u, s = tx.update(g, s, p)
        p = optax.apply_updates(p, u)
        out = (value, jnp.concatenate(p) if keep_path else None)
        return (p, s), out

    (params, state), (losses, path) = jax.lax.scan(step, (_split(flat, sizes), state), None, length=length)
    flat = jnp.concatenate(params) if len(params) > 1 else params[0]
    return flat, state, losses, path


def _find_moment(state):
    """The (count, nu) of an adaptive optimizer's state (Adam: ScaleByAdamState; RMSprop: ScaleByRmsState)."""
    if hasattr(state, "nu"):
        return getattr(state, "count", None), state.nu
    if isinstance(state, (tuple, list)):
        for s in state:
            found = _find_moment(s)
            if found is not None:
                return found
    return None


def _precond_scale(optimizer: str, state, hp, step: int, dtype):
    """s with the preconditioned Hessian = diag(s) H diag(s): s = P^-1/2 (Adam: P = sqrt(v_hat) + eps;
    RMSprop: P = sqrt(nu + eps)). None where undefined (Adam before its first step)."""
    count, nu = _find_moment(state)
    nu = jnp.concatenate([jnp.ravel(v) for v in jax.tree_util.tree_leaves(nu)]).astype(dtype)
    if optimizer in ("adam", "adamw"):
        if step == 0:
            return None
        nu_hat = nu / (1.0 - hp["b2"] ** step)
        p = jnp.sqrt(nu_hat) + hp["eps"]
    else:
        p = jnp.sqrt(nu + hp["eps"])
    return 1.0 / jnp.sqrt(p)


@partial(jax.jit, static_argnames=("loss", "k", "m"))
def _eigs(theta, key, prev, *, loss, k, m):
    """Top-k eigenvalues and the top Ritz vector; ``prev`` (the last checkpoint's top Ritz vector, or
    zeros) plus a random tenth starts the Lanczos run: the sharpness moves little between checkpoints."""
    noise = jax.random.normal(jax.random.fold_in(key, 1), theta.shape, theta.dtype)
    v0 = prev + 0.1 * noise / jnp.linalg.norm(noise)
    evals, ritz = curvature.lanczos_traced(lambda v: curvature.hvp(loss, theta, v), v0, key, m=m, k=k)
    return evals, ritz[0]


@partial(jax.jit, static_argnames=("loss", "k", "m"))
def _precond_eigs(theta, scale, key, *, loss, k, m):
    v0 = jax.random.normal(jax.random.fold_in(key, 2), theta.shape, theta.dtype)

    def matvec(v):
        return scale * curvature.hvp(loss, theta, scale * v)

    return curvature.lanczos_traced(matvec, v0, key, m=m, k=k)[0]


# -- checks ----------------------------------------------------------------------------------------


def check_hparams(optimizer, task, hparams: dict | None) -> tuple[object, dict, tuple[str, ...], tuple[int, ...]]:
    """(optimizer record, every hyperparameter's raw value, the learning-rate name of each parameter
    segment (() for one rate), the segment sizes) with clear refusals. An MLP task trains with per-layer
    rates when ``lr_in`` or ``lr_out`` is given (the other one defaults to ``lr``), else with ``lr``."""
    opt = get_optimizer(optimizer)
    hparams = dict(hparams or {})
    for name in hparams:
        if not isinstance(name, str):
            raise ValueError(f"hyperparameter names must be text, got {name!r}")
    labels, sizes = layer_rates(task)
    rate_names = tuple(dict.fromkeys(labels))
    hp = check_fixed(opt, hparams, rate_names)
    if isinstance(task, MLPTask) and not set(rate_names) & set(hparams):
        labels, sizes, rate_names = (), (task.n_params,), ()
    for name in rate_names:
        hp.setdefault(name, hp["lr"])
    if not hp["lr"] > 0:
        raise ValueError(f"lr must be above 0, got {hp['lr']}")
    return opt, hp, labels, sizes


# -- the run ---------------------------------------------------------------------------------------


def inspect_run(task, optimizer="sgd", hparams: dict | None = None, *, steps: int = 1000, seed: int = 0,
                sharpness_every: int = 100, eigs: int = 1, slice_n: int = 0, slice_span: float = 1.0,
                dtype="float32", lanczos_iters: int | None = None, x0=None) -> dict:
    """One training run of ``task`` by ``optimizer`` with its curvature (and slices).

    Args:
      task: a registry name, a 1-D preset, a typed formula, ``digits_mlp``/``digits_fc_tanh``, or a task.
      optimizer: a name of :data:`~l2l_core.inner.optimizers.OPTIMIZERS`.
      hparams: raw values (``lr=0.1``, ``momentum=0``); the rest keep the optimizer's defaults.
      steps: updates T (1 to :data:`MAX_STEPS`).
      seed: draws a network's initial weights and the slice directions.
      sharpness_every: K, steps between curvature checkpoints (checkpoints: 0, K, 2K, ..., T).
      eigs: k, how many top eigenvalues (1 to :data:`MAX_EIGS`, at most the task's dimension).
      slice_n: N > 0 adds the N x N slices (filter-normalized and PCA) and the interpolation.
      slice_span: the filter-normalized slice covers a, b in [-span, span].
      dtype: ``"float32"`` or ``"float64"`` (float64 switches jax's x64 on for this run only).
      lanczos_iters: Lanczos steps per checkpoint (default :func:`~l2l_core.probe.curvature.lanczos_iters`).
      x0: start of a 1-D or 2-D task.

    Returns:
      a dict of numpy arrays (``loss`` (T+1,), ``sharpness_steps`` (R,), ``sharpness`` (R, k), ``params``
      (R, P), ``threshold`` (), ...; see the module doc), ``meta`` (a JSON-able dict) and ``seconds``
      (``train``, ``sharpness``, ``slice``).
    """
    t = resolve(task, seed if isinstance(seed, (int, np.integer)) else 0)
    steps = check_int("steps", steps, 1, MAX_STEPS)
    seed = check_int("seed", seed, 0, 2**31 - 1)
    every = check_int("sharpness_every", sharpness_every, 1, MAX_STEPS)
    n_checkpoints = steps // every + 1 + (steps % every > 0)
    if n_checkpoints > MAX_CHECKPOINTS:
        need = math.ceil(steps / (MAX_CHECKPOINTS - 1))
        raise ValueError(f"{steps} steps with sharpness every {every} make {n_checkpoints} curvature checkpoints; "
                         f"at most {MAX_CHECKPOINTS}: raise sharpness_every to {need}")
    dt = check_dtype(dtype, switches_x64=True)
    opt, hp, labels, sizes = check_hparams(optimizer, t, hparams)
    rate_names = tuple(dict.fromkeys(labels))
    flat0, loss, _ = flat_task(t, seed, x0)
    dim = flat0.size
    k = check_int("eigs", eigs, 1, min(MAX_EIGS, dim))
    if lanczos_iters is not None:
        lanczos_iters = check_int("lanczos_iters", lanczos_iters, k, 1000)
    m = curvature.lanczos_iters(dim, k, lanczos_iters)
    # the top eigenvalue from the last checkpoint's Ritz vector: half the steps (unless given)
    m_warm = m if lanczos_iters is not None else min(m, max(WARM_ITERS, m // 2))
    slice_n = check_int("slice_n", slice_n, 0, slices.MAX_SLICE)
    if slice_n:
        slice_n, slice_span = slices.check_slice(slice_n, slice_span)
        if dim <= 2:
            raise ValueError(f"slices are for tasks with more than 2 parameters; {t.name!r} has {dim}: its own "
                             "plot is its landscape")
    if not rate_names or opt.name in thresholds.MOMENTUM_OPTIMIZERS:
        thr, thr_of = thresholds.threshold(opt.name, hp, rate_names)
    else:
        thr, thr_of = float("nan"), "none"
    x64 = dt == np.float64
    with jax.enable_x64(True) if x64 else contextlib.nullcontext():
        out = _run(t, opt, hp, labels, flat0, loss, sizes, steps=steps, every=every, k=k, m=m, m_warm=m_warm, dt=dt,
                   seed=seed, thr_of=thr_of, slice_n=slice_n, slice_span=slice_span)
    out["threshold"] = np.asarray(thr, np.float64)
    meta = {"task": t.name, "optimizer": opt.name, "hparams": {k_: float(v) for k_, v in hp.items()},
            "steps": steps, "seed": seed, "sharpness_every": every, "eigs": k, "lanczos_iters": m,
            "dtype": np.dtype(dt).name, "threshold_of": thr_of, "dim": int(dim), "x64": bool(x64)}
    if isinstance(t, MLPTask):
        out.update(t.arrays())
        meta.update(t.meta())
    elif getattr(t, "data", None):
        out.update({k_: np.asarray(v) for k_, v in t.data.items()})
    out["meta"] = meta
    return out


def _run(t, opt, hp, labels, flat0, loss, sizes, *, steps, every, k, m, m_warm, dt, seed, thr_of, slice_n,
         slice_span) -> dict:
    labels = labels or None
    hp_arr = {name: jnp.asarray(v, dt) for name, v in hp.items()}
    key = jax.random.PRNGKey(seed)
    keep_path = flat0.size <= PATH_DIM
    static = dict(loss=loss, build=opt.build, labels=labels, sizes=sizes)
    precond = thr_of == "precond_sharpness"
    rate_scale = None
    if precond and labels:
        rate_scale = jnp.sqrt(jnp.asarray(np.concatenate(
            [np.full(n, hp[name]) for n, name in zip(sizes, labels)]), dt))

    theta = jnp.asarray(flat0, dt)
    prev = jnp.zeros_like(theta)
    state = _init_state(theta, hp_arr, build=opt.build, labels=labels, sizes=sizes)
    losses = [np.empty(0, np.float64)]
    path = [np.asarray(flat0, np.float64)[None]] if keep_path else None
    ck_steps, sharp, prec, params = [], [], [], []
    sec = {"train": 0.0, "sharpness": 0.0, "slice": 0.0}
    done, finite = 0, True
    while True:
        ck_steps.append(done)
        params.append(np.asarray(theta, np.float64))
        tic = time.perf_counter()
        if finite:
            ck_key = jax.random.fold_in(key, done)
            warm = done > 0 and k == 1 and m_warm < m
            ev, prev = _eigs(theta, ck_key, prev, loss=loss, k=k, m=m_warm if warm else m)
            ev = np.asarray(ev, np.float64)
            pv = np.full(k, np.nan)
            if precond:
                scale = rate_scale if rate_scale is not None else _precond_scale(opt.name, state, hp_arr, done, dt)
                if scale is not None:
                    pv = np.asarray(_precond_eigs(theta, scale, ck_key, loss=loss, k=k, m=m), np.float64)
        else:
            ev = pv = np.full(k, np.nan)
        sec["sharpness"] += time.perf_counter() - tic
        sharp.append(ev)
        prec.append(pv)
        if done == steps:
            break
        length = min(every, steps - done)
        tic = time.perf_counter()
        if finite:
            theta, state, chunk_losses, chunk_path = _train_chunk(theta, state, hp_arr, length=length,
                                                                  keep_path=keep_path, **static)
            chunk_losses = np.asarray(chunk_losses, np.float64)
            theta_np = np.asarray(theta)
            finite = bool(np.all(np.isfinite(theta_np)))
            if not finite:
                theta = jnp.full_like(theta, jnp.nan)
        else:
            chunk_losses, chunk_path = np.full(length, np.nan), None
        sec["train"] += time.perf_counter() - tic
        losses.append(chunk_losses)
        if keep_path:
            path.append(np.asarray(chunk_path, np.float64) if chunk_path is not None
                        else np.full((length, flat0.size), np.nan))
        done += length
    tic = time.perf_counter()
    final_loss = float(loss(theta)) if finite else np.nan
    sec["train"] += time.perf_counter() - tic
    loss_curve = np.concatenate(losses + [np.asarray([final_loss])])
    loss_curve[~np.isfinite(loss_curve)] = np.nan
    out = {"loss": loss_curve, "sharpness_steps": np.asarray(ck_steps, np.int64),
           "sharpness": np.asarray(sharp, np.float64), "params": np.asarray(params, np.float64)}
    if precond:
        out["precond_sharpness"] = np.asarray(prec, np.float64)
    if keep_path:
        out["path"] = np.concatenate(path)
    if slice_n:
        tic = time.perf_counter()
        out.update(run_slices(t, loss, out["params"], flat0, seed, slice_n, slice_span, dt))
        sec["slice"] = time.perf_counter() - tic
    out["seconds"] = sec
    return out


def run_slices(t, loss, path, start, seed, n, span, dt) -> dict:
    finite = np.all(np.isfinite(path), axis=1)
    if not finite.any():
        raise ValueError("the run diverged at its start: no parameters to slice around")
    path = path[finite]
    center = path[-1]
    da, db = slices.filter_normalized(t, center, seed)
    grid = np.linspace(-span, span, n)
    out = {"center": center, "dir_a": da, "dir_b": db, "slice_a": grid, "slice_b": grid.copy(),
           "slice_loss": slices.slice_2d(t, loss, center, da, db, grid, grid, dt).astype(np.float64)}
    dirs, explained, coords = slices.pca_directions(path)
    lo, hi = coords.min(axis=0), coords.max(axis=0)
    pad = np.maximum(0.25 * (hi - lo), 1e-3)
    pa, pb = np.linspace(lo[0] - pad[0], hi[0] + pad[0], n), np.linspace(lo[1] - pad[1], hi[1] + pad[1], n)
    out.update({"pca_dir_a": dirs[0], "pca_dir_b": dirs[1], "pca_explained": explained, "pca_path": coords,
                "pca_slice_a": pa, "pca_slice_b": pb,
                "pca_slice_loss": slices.slice_2d(t, loss, center, dirs[0], dirs[1], pa, pb, dt).astype(np.float64)})
    alphas = np.linspace(-0.25, 1.25, INTERP_POINTS)
    out.update({"interp_alpha": alphas,
                "interp_loss": slices.interpolation(loss, start, center, alphas, dt).astype(np.float64)})
    return out
