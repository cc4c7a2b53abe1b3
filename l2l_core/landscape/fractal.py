"""The trainability fractal: one network training run per pixel (Sohl-Dickstein, 2024).

Each pixel trains the task's network (``l2l_core.tasks.fractal_networks``) by gradient
descent for ``steps`` steps with its own learning rates and summarises the
run. Every summary is computed in the same pass, so switching summaries is
free:

- ``converge``, the paper's measure: the recorded losses (each before its
  update), non-finite ones replaced by 1e6, divided by the first, clipped at
  1e6, are ``v``; the run converged if the mean of the last 20 is below 1.
  Converged pixels get ``-sum(v)``, diverged ones ``sum(1/v)``: the sign is
  the phase, the magnitude how fast.
- ``mean``, ``final``, ``min``: the plain loss summaries (NaN once a run left
  the finite numbers), as in :mod:`l2l_core.landscape.grid`.

Speed: one kernel registry (:data:`KERNELS`). The general kernel runs 8 cells
a chunk, cells major, each step's products as batched matrix products over
the cells (about 10 µs of CPU per run-step for the paper setup, half the
cells-minor layout's: XLA's batched dot vectorises where per-cell reductions
over a non-minor axis do not). For a handful of points per step the ``tiny``
kernel keeps the cells as the minor axis and unrolls every short sum into
elementwise multiply-adds (about 55 ns per run-step, width 8, one point). The
gradient is hand-derived (no tape); chunks are dispatched from one thread per
core and split over devices (``l2l_core.runtime.sharding``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from l2l_core.checks import check_int
from l2l_core.landscape import zoom
from l2l_core.landscape.dimension import boundary_mask
from l2l_core.landscape.grid import check_dtype
from l2l_core.landscape.summaries import SUMMARIES as REGISTRY
from l2l_core.landscape.summaries import check_summary, older_names
from l2l_core.runtime import sharding
from l2l_core.tasks.fractal_networks import (
    DEFAULT_TASK,
    DEFAULT_WINDOWS,
    SPECS,
    NetworkTask,
    input_scale,
    make_task,
    phi,
    supported,
)

#: The summaries the kernel returns, in its output order (keys of the registry
#: l2l_core.landscape.summaries.SUMMARIES), with what they mean.
SUMMARIES = {k: REGISTRY[k].description for k in ("converge", "mean", "final", "min")}
#: Recorded losses whose mean decides convergence (the paper's 20).
CONVERGE_WINDOW = 20
#: Stand-in for a non-finite loss, and the clip of v (the paper's 1e6).
V_CAP = 1e6
MAX_STEPS = 5000
MAX_CELLS = 2048 * 2048
#: Bytes of the tiny kernel's per-chunk arrays (weights, gradients, activations):
#: measured best at 128-256 KiB (about 55 ns per run-step, width 8, one point).
CHUNK_BYTES = 1 << 18
MAX_CHUNK_CELLS = 1 << 14
#: Cells per chunk of the batched kernels.
BATCHED_CHUNK = 8

AXIS_NAMES = {"lr": ("log10 lr_in", "log10 lr_out"), "offset": ("offset of W1", "log10 lr")}


def _loss_grads(xs, y, w1, w2, activation):
    """MSE and its hand-derived gradient for B networks at once, cells major.

    xs = c X (n, W) with c = :func:`input_scale`, y (n,), w1 (B, W, W),
    w2 (B, W). With z' = xs @ W1, h = phi(z'), r = h W2 / W - Y, g = 2 r / (n W):
    dL/dW2 = h^T g and dL/dW1 = xs^T [(g W2^T) * phi'(z')]. Every product is a
    small batched matrix product over the cells (XLA's batched dot on CPU beats a
    cells-minor layout, whose per-cell reductions do not vectorise).
    """
    n, width = xs.shape
    z = jnp.einsum("ni,bij->bnj", xs, w1)
    h, dh = phi(activation, z)
    r = jnp.einsum("bnj,bj->bn", h, w2) * jnp.asarray(1.0 / width, w1.dtype) - y[None, :]  # (B, n)
    loss = jnp.mean(r * r, axis=1)
    g = r * jnp.asarray(2.0 / (n * width), w1.dtype)
    gw2 = jnp.einsum("bnj,bn->bj", h, g)
    dz = g[:, :, None] * w2[:, None, :]
    dz = dz if dh is None else dz * dh
    gw1 = jnp.einsum("ni,bnj->bij", xs, dz)
    return loss, gw1, gw2


def _loss_grads_tiny(xs, y, w1, w2, activation):
    """:func:`_loss_grads` for a handful of points, cells minor, all elementwise.

    w1 (W, W, B), w2 (W, B). With n of 1-4 points the per-cell matrices are too
    small for products: each sum over the (W or n) short axes is unrolled into
    elementwise multiply-adds over the cells, which XLA fuses into a few loops.
    """
    n, width = xs.shape
    z = sum(xs[:, i, None, None] * w1[i][None] for i in range(width))  # (n, W, B)
    h, dh = phi(activation, z)
    r = jnp.sum(h * w2[None], axis=1) * jnp.asarray(1.0 / width, w1.dtype) - y[:, None]  # (n, B)
    loss = jnp.mean(r * r, axis=0)
    g = (r * jnp.asarray(2.0 / (n * width), w1.dtype))[:, None, :]
    gw2 = jnp.sum(h * g, axis=0)
    dz = g * w2[None] if dh is None else g * w2[None] * dh  # (n, W, B)
    gw1 = sum(xs[k, :, None, None] * dz[k][None] for k in range(n))  # (W, W, B)
    return loss, gw1, gw2


def _loss_grads_autodiff(x, y, w1, w2, activation):
    """Same as :func:`_loss_grads` by jax.value_and_grad of one network, vmapped."""
    width = x.shape[1]

    def one(a, c):
        h = phi(activation, x @ a)[0]
        return jnp.mean((h @ c / width - y) ** 2)

    loss, (g1, g2) = jax.vmap(jax.value_and_grad(one, argnums=(0, 1)))(w1, w2)
    return loss, g1, g2


#: The kernels, by name: (loss-and-gradients, cells axis last?). ``batched`` is the
#: general one; ``tiny`` is for a handful of points per step (the single-datapoint
#: variant); ``autodiff`` checks the derived gradient.
KERNELS = {"batched": (_loss_grads, False), "tiny": (_loss_grads_tiny, True),
           "autodiff": (_loss_grads_autodiff, False)}
#: Points per step up to which the ``tiny`` kernel is chosen.
TINY_MAX_POINTS = 4


def pick_kernel(task: NetworkTask, gradient: str = "hand") -> str:
    if gradient == "autodiff":
        return "autodiff"
    return "tiny" if task.batch_size <= TINY_MAX_POINTS else "batched"


def _batch(x, y, t, batch_size):
    if batch_size == x.shape[0]:
        return x, y
    start = (t % (x.shape[0] // batch_size)) * batch_size
    return (jax.lax.dynamic_slice_in_dim(x, start, batch_size), jax.lax.dynamic_slice_in_dim(y, start, batch_size))


def train_cells(lr_in, lr_out, offset, x, y, w1_0, w2_0, steps, *, activation, batch_size, kernel):
    """All summaries of B training runs; (4, B) in SUMMARIES' order."""
    dt = lr_in.dtype
    fn, minor = KERNELS[kernel]
    if minor:  # weights (W, W, B) and (W, B)
        w1 = w1_0[:, :, None] + offset
        w2 = jnp.broadcast_to(w2_0[:, :1], w2_0.shape[:1] + lr_in.shape)
        a_in, a_out, axes1, axes2 = lr_in, lr_out, (0, 1), 0
    else:  # weights (B, W, W) and (B, W)
        w1 = w1_0[None] + offset[:, None, None]
        w2 = jnp.broadcast_to(w2_0[:, 0], lr_in.shape + w2_0.shape[:1])
        a_in, a_out, axes1, axes2 = lr_in[:, None, None], lr_out[:, None], (1, 2), 1
    zeros = jnp.zeros_like(lr_in)
    cap = jnp.asarray(V_CAP, dt)
    window = jnp.minimum(steps, CONVERGE_WINDOW)

    def body(t, c):
        w1, w2, loss0, s, sinv, last, total, low = c
        xb, yb = _batch(x, y, t, batch_size)
        loss, g1, g2 = fn(xb, yb, w1, w2, activation)
        loss0 = jnp.where(t == 0, loss, loss0)
        v = jnp.minimum(jnp.where(jnp.isfinite(loss), loss, cap) / loss0, cap)
        low = jnp.minimum(low, jnp.where(loss < jnp.inf, loss, jnp.nan))
        return (w1 - a_in * g1, w2 - a_out * g2, loss0, s + v, sinv + 1 / v,
                last + jnp.where(t >= steps - window, v, 0), total + loss, low)

    init = (w1, w2, zeros, zeros, zeros, zeros, zeros, zeros + jnp.inf)
    w1, w2, _, s, sinv, last, total, low = jax.lax.fori_loop(0, steps, body, init)
    xb, yb = _batch(x, y, steps, batch_size)
    final = fn(xb, yb, w1, w2, activation)[0]
    converged = last / window.astype(dt) < 1
    finite = jnp.all(jnp.isfinite(w1), axis=axes1) & jnp.all(jnp.isfinite(w2), axis=axes2)
    plain = [jnp.where(finite & jnp.isfinite(a), a, jnp.nan) for a in (total / steps.astype(dt), final, low)]
    return jnp.stack([jnp.where(converged, -s, sinv)] + plain)


#: The jitted kernel. With several devices the cells axis is split over them and each
#: device runs its share (no communication).
_chunk_kernel = jax.jit(train_cells, static_argnames=("activation", "batch_size", "kernel"))


def chunk_cells(task: NetworkTask, n_cells: int, itemsize: int, n_workers: int, kernel: str = "batched") -> int:
    """Cells per chunk per device, a power of two: BATCHED_CHUNK for the batched
    kernels (measured best: the per-cell matrices of 8 cells stay in L1/L2); for
    ``tiny``, as many as keep its activations and W1 within CHUNK_BYTES; no more
    than the grid needs to keep every worker busy."""
    if kernel == "tiny":
        per_cell = (2 * task.batch_size + 3 * task.width) * task.width * itemsize
        b = 1 << max(3, int(np.log2(max(1, CHUNK_BYTES // per_cell))))
    else:
        b = BATCHED_CHUNK
    need = 1 << max(0, int(np.ceil(np.log2(max(1, -(-n_cells // max(1, n_workers)))))))
    return int(min(b, need, MAX_CHUNK_CELLS))


def check_axis_range(name, values, lo, hi):
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a 1-D array of numbers") from None
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or arr.min() < lo or arr.max() > hi:
        raise ValueError(f"{name} must hold finite values within [{lo:g}, {hi:g}]")
    return arr


def resolve_task(task, width: int = 16, seed: int = 0) -> NetworkTask:
    return task if isinstance(task, NetworkTask) else make_task(task, width=width, seed=seed)


def fractal_summaries(x_values, y_values, *, task: str | NetworkTask = DEFAULT_TASK, width: int = 16,
                      seed: int = 0, inner_steps: int | None = None, dtype=np.float32, gradient: str = "hand",
                      kernel: str | None = None, **older) -> dict[str, np.ndarray]:
    """Every summary of the trainability image, each of shape (len(y), len(x)).

    Args:
      x_values, y_values: the axes. For an "lr" task: log10 lr_in (columns) and
        log10 lr_out (rows). For the "offset" task: the offset added to every
        initial W1 entry (columns) and log10 of the one shared lr (rows).
      task: a registry name of ``l2l_core.tasks.fractal_networks.SPECS`` or a NetworkTask.
      width, seed: used when ``task`` is a name.
      inner_steps: gradient-descent steps per run (1..MAX_STEPS; default 100; ``steps``,
        its older name, is still accepted).
      dtype: float32 or float64 (float64 needs jax_enable_x64).
      gradient: "hand" (the derived gradient) or "autodiff" (jax.grad; slower).
      kernel: a name of :data:`KERNELS`; default :func:`pick_kernel`'s choice.

    Returns:
      {summary: array} for every key of SUMMARIES.
    """
    if "reduce" in older:
        raise TypeError("fractal_summaries returns every summary; pick one with fractal_grid(summary=...)")
    steps, _ = older_names(inner_steps, None, older, default_steps=100)
    t = resolve_task(task, width, seed)
    xs = check_axis_range("x_values", x_values, -30.0 if t.spec.phase_space == "lr" else -100.0, 30.0)
    ys = check_axis_range("y_values", y_values, -30.0, 30.0)
    if xs.size * ys.size > MAX_CELLS:
        raise ValueError(f"{ys.size} x {xs.size} cells exceed the cap of {MAX_CELLS:,} (2048^2); zoom instead")
    steps = check_int("steps", steps, 1, MAX_STEPS)
    if gradient not in ("hand", "autodiff"):
        raise ValueError(f"gradient must be 'hand' or 'autodiff', got {gradient!r}")
    dtype = check_dtype(dtype)
    n, n_cols = xs.size * ys.size, xs.size
    cols_in, rows_out, cols_off = phase_columns(t, xs, ys)
    devices = sharding.grid_devices()
    n_dev = len(devices)
    kernel = kernel or pick_kernel(t, gradient)
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {list(KERNELS)}, got {kernel!r}")
    b = chunk_cells(t, -(-n // n_dev), dtype.itemsize, sharding.workers(), kernel)
    per_chunk = b * n_dev
    n_chunks = -(-n // per_chunk)
    out = np.empty((len(SUMMARIES), n_chunks, per_chunk), dtype)
    xs_scaled = t.inputs * input_scale(t.spec.activation, t.width)
    consts = [np.asarray(a, dtype) for a in (xs_scaled, t.targets[:, 0], t.init[0], t.init[1])]
    steps = np.int32(steps)

    x64 = dtype == np.float64

    def run_chunk(c: int) -> None:
        # jax.enable_x64 is thread-local: a pool thread needs it again, or float64 inputs become float32.
        with jax.enable_x64(x64):
            _run_chunk(c)

    def _run_chunk(c: int) -> None:
        idx = np.minimum(np.arange(c * per_chunk, (c + 1) * per_chunk), n - 1)
        col, row = idx % n_cols, idx // n_cols
        lr_out = rows_out[row]
        lr_in = lr_out if cols_in is None else cols_in[col]
        cells = [sharding.shard_rows(np.asarray(a, dtype), devices)
                 for a in (lr_in, lr_out, cols_off[col])]
        z = _chunk_kernel(*cells, *consts, steps, activation=t.spec.activation, batch_size=t.batch_size,
                          kernel=kernel)
        out[:, c] = sharding.to_host(z).reshape(len(SUMMARIES), -1)

    with np.errstate(over="ignore"):
        sharding.run_parallel(run_chunk, n_chunks)
    flat = out.reshape(len(SUMMARIES), -1)[:, :n]
    return {k: flat[i].reshape(ys.size, xs.size) for i, k in enumerate(SUMMARIES)}


def fractal_grid(x_values, y_values, *, summary: str | None = None, **kwargs) -> np.ndarray:
    """One summary of :func:`fractal_summaries` (default ``converge``; ``reduce``, its older
    name, is still accepted): array (len(y_values), len(x_values))."""
    older = {"reduce": kwargs.pop("reduce")} if "reduce" in kwargs else {}
    _, summary = older_names(None, summary, older, default_summary="converge")
    check_summary(summary, SUMMARIES)
    return fractal_summaries(x_values, y_values, **kwargs)[summary]


# -- views, precision and deep zoom ------------------------------------------------------


#: What ``--optimizer`` may say for the paper's gradient descent (none given, ``gd``, or ``sgd`` with
#: nothing set: momentum 0 here, as in the paper).
FAST_PATH_OPTIMIZERS = (None, "gd", "sgd")


def is_fast_path(task: str, optimizer: str | None = None, fixed: dict | None = None) -> bool:
    """Whether a map of ``task`` trained by ``optimizer`` (with ``fixed`` hyperparameters) is this
    kernel's: a trainability-fractal network trained by the paper's gradient descent. Its full-batch
    lr variants are also tasks of the maps, where any other optimizer runs on the general kernel;
    the other variants have only this one."""
    if task not in SPECS:
        return False
    return (optimizer in FAST_PATH_OPTIMIZERS and not fixed) or supported(task) is not None


def default_window(task: str | NetworkTask = DEFAULT_TASK) -> tuple[float, float, float, float]:
    t = task.spec if isinstance(task, NetworkTask) else resolve_task(task).spec
    return DEFAULT_WINDOWS[t.phase_space]


def phase_columns(t: NetworkTask, xs, ys):
    """The plane's axes as the kernel takes them: (lr_in per column or None, lr_out per row,
    W1's offset per column); x is log10 lr_in (or the offset), y log10 lr_out (or log10 lr)."""
    if t.spec.phase_space == "lr":
        return 10.0 ** xs, 10.0 ** ys, np.zeros_like(xs)
    return None, 10.0 ** ys, xs


#: Most multiply-adds one interactive image may take (the paper's setup at 256², 100 steps);
#: the command line has only :data:`MAX_CELLS` and :data:`MAX_STEPS`.
MAX_VIEW_WORK = 256 * 256 * 100 * 272 * 16 * 16 * 2


def check_view_work(task: NetworkTask, resolution: int, steps: int) -> int:
    """The multiply-adds of a ``resolution``² image of ``steps`` steps of ``task``; ValueError
    past :data:`MAX_VIEW_WORK` (what a server computes for one view)."""
    work = int(resolution) ** 2 * int(steps) * task.batch_size * task.width ** 2 * 2
    if work > MAX_VIEW_WORK:
        raise ValueError(f"{resolution}² pixels x {steps} steps of this network is more than this server "
                         "computes for one view; lower the resolution or the steps")
    return work


def check_window(window) -> tuple[float, float, float, float]:
    """(x_lo, x_hi, y_lo, y_hi): four finite numbers, each range increasing, within +-30."""
    return zoom.check_window(window, names=("x_lo", "x_hi", "y_lo", "y_hi"), y_max=30.0,
                             units="every end within +-30 (log10 units, or the offset)")


def choose_precision(window, resolution: int, phase_space: str = "lr", w1_scale: float = 3.0) -> str:
    """"float32" where adjacent pixels stay distinct (by 4 ulps) in float32, else
    "float64"; ValueError past what float64 resolves.

    For a learning-rate axis both log10 lr and lr = 10**log10 lr must resolve;
    for the offset axis, the initial weights ``w1 + offset`` (|w1| ~ w1_scale).
    """
    lo, hi, ylo, yhi = check_window(window)
    xs, ys = np.linspace(lo, hi, resolution), np.linspace(ylo, yhi, resolution)
    # offset: a weight w1 + offset (|w1| ~ w1_scale) moves by the pixel step, at the ulp of |offset| + w1_scale
    # (kept monotone across 0, so that the +-offset pixels of a symmetric axis do not look alike)
    x_vals = 10.0 ** xs if phase_space == "lr" else xs + np.where(xs < 0, -w1_scale, w1_scale)
    for dtype in (np.float32, np.float64):
        if zoom.resolved(xs, x_vals, dtype) and zoom.resolved(ys, 10.0 ** ys, dtype):
            return np.dtype(dtype).name
    raise ValueError(
        f"window {hi - lo:.3g} x {yhi - ylo:.3g} at {resolution} pixels per axis is narrower than float64 "
        "can resolve (the float64 limit): adjacent pixels would train with the same numbers. "
        "Go back a level, or lower the resolution."
    )


def fractal_zoom(window, resolution: int, *, precision: str = "auto", grid_fn=None, **kwargs):
    """All summaries in ``window`` at ``resolution`` pixels a side, in the precision it needs.

    Args:
      window: (x_lo, x_hi, y_lo, y_hi) in the task's axes.
      precision: "auto" (float32 while it resolves the window, else float64),
        "float32" or "float64" (the paper's).
      grid_fn: a drop-in for :func:`fractal_summaries` (the page's job-limited one).
      **kwargs: task, width, seed, steps, gradient.

    Returns:
      (x_values, y_values, {summary: array}, precision).
    """
    lo, hi, ylo, yhi = check_window(window)
    resolution = check_int("resolution", resolution, 2, 2048)
    t = resolve_task(kwargs.pop("task", DEFAULT_TASK), kwargs.pop("width", 16), kwargs.pop("seed", 0))
    needed = choose_precision(window, resolution, t.spec.phase_space, float(np.abs(t.init[0]).max()))
    if precision not in ("auto", "float32", "float64"):
        raise ValueError(f"precision must be auto, float32 or float64, got {precision!r}")
    if precision == "float64" or needed == "float64":
        precision = "float64"
    else:
        precision = "float32"
    xs, ys = np.linspace(lo, hi, resolution), np.linspace(ylo, yhi, resolution)
    grid_fn = grid_fn or fractal_summaries
    if precision == "float32":
        z = grid_fn(xs, ys, task=t, dtype=np.float32, **kwargs)
    else:
        with jax.enable_x64(True):
            z = grid_fn(xs, ys, task=t, dtype=np.float64, **kwargs)
    return xs, ys, z, precision


def boundary_window(z: np.ndarray, window, zoom: float = 2.0):
    """A window ``zoom`` times narrower, centred on the boundary pixel nearest the
    view's centre (the paper's key-frame step); None if the view has no boundary."""
    mask = boundary_mask(z)
    if not mask.any():
        return None
    lo, hi, ylo, yhi = check_window(window)
    ii, jj = np.nonzero(mask)
    ny, nx = z.shape
    k = np.argmin((ii + 1 - ny / 2) ** 2 + (jj + 1 - nx / 2) ** 2)
    cx = lo + (jj[k] + 1) / nx * (hi - lo)
    cy = ylo + (ii[k] + 1) / ny * (yhi - ylo)
    hx, hy = (hi - lo) / (2 * zoom), (yhi - ylo) / (2 * zoom)
    return check_window((cx - hx, cx + hx, cy - hy, cy + hy))
