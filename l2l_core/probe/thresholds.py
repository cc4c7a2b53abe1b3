"""Linear stability: the sharpness an optimizer can take, and the edge a map's theory line draws.

On a quadratic of curvature lambda, one step of

- gradient descent at learning rate eta is stable iff eta lambda < 2;
- heavy-ball momentum m (optax ``sgd``: v <- m v + g, x <- x - eta v) iff
  eta lambda < 2 (1 + m) (Cohen et al. 2021);
- Nesterov momentum (optax ``sgd(nesterov=True)``: x <- x - eta (g + m (m v + g)))
  iff eta lambda < (2 + 2m) / (1 + 2m): its transition matrix on (x, eta v) has
  trace 1 + m - h (1 + m) and determinant m (1 - h), h = eta lambda, and Jury's
  condition 1 + trace + det > 0 gives h (1 + 2m) < 2 + 2m;
- per-layer learning rates (a diagonal P of rates) iff lambda_max(P H) < 2
  (times 1 + m with heavy ball): the threshold is on the *preconditioned* sharpness;
- Adam (Cohen et al. 2022): the preconditioned sharpness lambda_max(P^-1 H),
  P = diag(sqrt(v_hat) + eps), settles at (2 + 2 b1) / ((1 - b1) eta)
  (38 / eta at b1 = 0.9); RMSprop (no momentum) at 2 / eta. AdamW's weight
  decay is left out of the preconditioner (the threshold ignores it).

:func:`threshold` says which quantity its number bounds (``"sharpness"`` or
``"precond_sharpness"``). :func:`stability_edge` turns the start's curvature into
the edge on a map: one value per row, in the x axis' display unit.
"""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax
from threadpoolctl import threadpool_limits

from l2l_core.inner.optimizers import check_fixed, get_optimizer
from l2l_core.probe.curvature import hvp, lanczos_traced, top_eigenvalues
from l2l_core.probe.flat import flat_task, layer_rates, resolve

#: Up to this many parameters the per-layer edge solves on the dense Hessian; beyond, on a table of
#: lambda_max(P H) against the ratio of the two rates (Lanczos, :data:`RATIO_POINTS` ratios).
DENSE_DIM = 600
RATIO_POINTS = 65

#: Optimizers whose stability is a threshold on the plain Hessian's sharpness.
MOMENTUM_OPTIMIZERS = ("sgd", "nesterov")
#: Optimizers judged by their preconditioned sharpness (Cohen et al. 2022).
ADAPTIVE_OPTIMIZERS = ("adam", "adamw", "rmsprop")


def momentum_factor(optimizer: str, momentum: float) -> float:
    """c such that a step is stable iff eta lambda < c: 2 (GD), 2 (1 + m) (heavy ball),
    (2 + 2m) / (1 + 2m) (Nesterov)."""
    m = float(momentum)
    if not 0.0 <= m < 1.0:
        raise ValueError(f"momentum must lie in [0, 1), got {m}")
    if optimizer == "sgd":
        return 2.0 * (1.0 + m)
    if optimizer == "nesterov":
        return (2.0 + 2.0 * m) / (1.0 + 2.0 * m)
    raise ValueError(f"momentum_factor is for {MOMENTUM_OPTIMIZERS}, got {optimizer!r}")


def adaptive_factor(optimizer: str, hparams: dict) -> float:
    """c such that the preconditioned sharpness settles at c / eta (Adam: (2 + 2 b1) / (1 - b1); RMSprop: 2)."""
    if optimizer in ("adam", "adamw"):
        b1 = float(hparams["b1"])
        return (2.0 + 2.0 * b1) / (1.0 - b1)
    if optimizer == "rmsprop":
        return 2.0
    raise ValueError(f"adaptive_factor is for {ADAPTIVE_OPTIMIZERS}, got {optimizer!r}")


def threshold(optimizer: str, hparams: dict, rate_names: tuple[str, ...] = ()) -> tuple[float, str]:
    """(the stability threshold, the quantity it bounds: ``"sharpness"`` or ``"precond_sharpness"``).

    ``hparams`` holds every hyperparameter's raw value (``lr``, ``momentum``, ...); a task with per-layer
    learning rates names them in ``rate_names`` (their values are in ``hparams``). With per-layer rates
    the bound is lambda_max(P H) < c, P the diagonal of rates: on the preconditioned sharpness, unless all
    rates are equal, where it is c / eta on the sharpness.
    """
    if optimizer in MOMENTUM_OPTIMIZERS:
        c = momentum_factor(optimizer, hparams.get("momentum", 0.0))
        rates = [float(hparams[n]) for n in dict.fromkeys(rate_names)] or [float(hparams["lr"])]
        if any(not r > 0 for r in rates):
            raise ValueError(f"learning rates must be above 0, got {rates}")
        if len(set(rates)) == 1:
            return c / rates[0], "sharpness"
        return c, "precond_sharpness"
    if optimizer in ADAPTIVE_OPTIMIZERS:
        if rate_names:
            raise ValueError(f"per-layer learning rates with {optimizer} have no threshold here")
        lr = float(hparams["lr"])
        return adaptive_factor(optimizer, hparams) / lr, "precond_sharpness"
    raise ValueError(f"no stability threshold for optimizer {optimizer!r}; known: "
                     f"{list(MOMENTUM_OPTIMIZERS + ADAPTIVE_OPTIMIZERS)}")


def nesterov_check(lr: float, momentum: float, curvature: float, steps: int = 2000) -> bool:
    """Whether optax's Nesterov SGD converges on the 1-D quadratic curvature x^2 / 2 (a numerical check of
    :func:`momentum_factor`)."""
    tx = optax.sgd(lr, momentum=momentum, nesterov=True)
    x = np.float64(1.0)
    state = tx.init(x)
    for _ in range(steps):
        u, state = tx.update(curvature * x, state)
        x = x + u
        if not np.isfinite(x) or abs(x) > 1e12:
            return False
    return abs(float(x)) < 1e-3


# -- the edge on a map --------------------------------------------------------------------------


def _lr_axis(name: str) -> bool:
    return name == "lr" or name.startswith("lr_")


def stability_applies(optimizer: str, x_axis: str, y_axis: str, rate_names: tuple[str, ...] = ()) -> bool:
    """Whether a map with these axes gets a stability line: a learning rate on x, and on y a momentum of
    sgd/nesterov or a second per-layer learning rate."""
    if optimizer not in MOMENTUM_OPTIMIZERS:
        return False
    if x_axis == "lr" and y_axis == "momentum":
        return True
    return x_axis in rate_names and y_axis in rate_names and x_axis != y_axis


def stability_edge(task, optimizer, x_axis: str, y_axis: str, x_values, y_values, *, fixed: dict | None = None,
                   seed: int = 0, x0=None) -> np.ndarray:
    """The edge linear stability predicts at the start, one value per row (y value), in the x axis'
    display unit (log10 of the learning rate); NaN where the edge lies off the x range or where the
    start's curvature is not positive.

    Plain GD and heavy ball: lr = 2 (1 + m) / lambda_max; Nesterov: (2 + 2m) / ((1 + 2m) lambda_max);
    per-layer rates (lr_in x lr_out): the lr_in where lambda_max(P H) = 2 (1 + m), found by bisection
    on the dense Hessian of the start (lambda_max(P H) grows with each rate).

    Args:
      task: anything :func:`l2l_core.probe.run.resolve` takes (registry task, formula, MLP task name).
      optimizer: ``sgd`` or ``nesterov`` (others raise ValueError).
      x_axis, y_axis: ``lr`` x ``momentum``, or two per-layer learning rates.
      x_values, y_values: each axis in its display unit (log10 lr; log10(1 - m) for a momentum).
      fixed: raw values of the hyperparameters on no axis (the optimizer's defaults otherwise).
      x0: start of a 1-D or 2-D task (default its own).
    """
    opt = get_optimizer(optimizer)
    task = resolve(task, seed)
    labels, sizes = layer_rates(task)
    rate_names = tuple(dict.fromkeys(labels))
    if not stability_applies(opt.name, x_axis, y_axis, rate_names):
        raise ValueError(f"no stability line for {opt.name} with x={x_axis!r}, y={y_axis!r}: it needs a "
                         f"learning rate on x and a momentum of {list(MOMENTUM_OPTIMIZERS)} or a second "
                         "per-layer learning rate on y")
    xs = np.asarray(x_values, np.float64).ravel()
    ys = np.asarray(y_values, np.float64).ravel()
    if xs.size == 0 or ys.size == 0 or not (np.all(np.isfinite(xs)) and np.all(np.isfinite(ys))):
        raise ValueError("x_values and y_values must be non-empty and finite")
    lo, hi = float(xs.min()), float(xs.max())
    hp = check_fixed(opt, {k: v for k, v in (fixed or {}).items() if k not in (x_axis, y_axis)}, rate_names)
    flat, loss, _ = flat_task(task, seed, x0)
    out = np.full(ys.shape, np.nan)
    if x_axis == "lr":  # lr x momentum
        lam = start_sharpness(loss, flat)
        if not lam > 0:
            return out
        for i, y in enumerate(ys):
            m = 1.0 - 10.0 ** y
            if not 0.0 <= m < 1.0:
                continue
            edge = math.log10(momentum_factor(opt.name, m) / lam)
            out[i] = edge if lo <= edge <= hi else np.nan
        return out
    c = momentum_factor(opt.name, hp.get("momentum", 0.0))
    on_x = np.asarray([name == x_axis for name in labels])
    if flat.size <= DENSE_DIM:
        hess = _dense_hessian(loss, flat)

        def lam_of(lr_x, lr_y):  # lambda_max(P H), P the per-parameter rates
            p = np.sqrt(np.where(np.repeat(on_x, sizes), lr_x, lr_y))
            return float(np.linalg.eigvalsh(p[:, None] * hess * p[None, :])[-1])
    else:  # lambda_max(P H) = lr_y g(lr_x / lr_y): g on a table of ratios, interpolated in log-log
        log_r = np.linspace(lo - ys.max() - 0.5, hi - ys.min() + 0.5, RATIO_POINTS)
        g = _ratio_table(loss, flat, np.repeat(on_x, sizes), 10.0 ** log_r)
        log_g = np.log10(np.maximum(g, 1e-300))

        def lam_of(lr_x, lr_y):
            return lr_y * 10.0 ** float(np.interp(math.log10(lr_x / lr_y), log_r, log_g))

    # one BLAS thread: hundreds of small eigvalsh calls run ~10x slower when its threads contend with XLA's
    with threadpool_limits(1, user_api="blas"):
        for i, y in enumerate(ys):
            def f(log_x, y=y):
                return lam_of(10.0 ** log_x, 10.0 ** y) - c

            if not (f(lo) <= 0.0 <= f(hi)):
                continue
            a, b = lo, hi
            for _ in range(50):
                mid = 0.5 * (a + b)
                if f(mid) < 0:
                    a = mid
                else:
                    b = mid
            out[i] = 0.5 * (a + b)
    return out


def _ratio_table(loss, flat, mask_x, ratios) -> np.ndarray:
    """g(r) = lambda_max(D H D), D^2 = r on the x layer's parameters and 1 elsewhere, for each ratio r."""
    with jax.enable_x64(True):
        theta = jnp.asarray(flat, jnp.float64)
        mask = jnp.asarray(mask_x, jnp.float64)
        return np.asarray([float(_scaled_top(theta, mask, jnp.float64(r), loss=loss)) for r in ratios])


@partial(jax.jit, static_argnames=("loss",))
def _scaled_top(theta, mask, r, *, loss):
    d = jnp.sqrt(1.0 + (r - 1.0) * mask)
    v0 = jax.random.normal(jax.random.PRNGKey(0), theta.shape, theta.dtype)
    m = min(theta.shape[0], 40)
    return lanczos_traced(lambda v: d * hvp(loss, theta, d * v), v0, jax.random.PRNGKey(1), m=m, k=1)[0][0]


def start_sharpness(loss, flat) -> float:
    """The top Hessian eigenvalue at ``flat`` in float64 (exact for up to 60 parameters, Lanczos beyond)."""
    with jax.enable_x64(True):
        theta = jnp.asarray(flat, jnp.float64)
        return float(top_eigenvalues(loss, theta, k=1, iters=min(theta.size, 60))[0])


def _dense_hessian(loss, flat) -> np.ndarray:
    """The start's Hessian in float64 (jax's x64 switched on only for this computation)."""
    with jax.enable_x64(True):
        theta = jnp.asarray(flat, jnp.float64)
        h = np.asarray(jax.jit(jax.hessian(loss))(theta), np.float64)
    return 0.5 * (h + h.T)
