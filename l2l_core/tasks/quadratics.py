"""The quadratic task family of Andrychowicz et al. (2016).

Each task is f(theta) = ||W theta - y||^2 with W (dim x dim), y and the
starting point theta_0 drawn i.i.d. standard normal. Tasks come in batches;
the optimizee of a batch is a (batch, dim) array, one row per task.

Two ways to turn a batch into one scalar (``reduction``):

* ``"sum"`` (per-task, the default here): the batch loss is the sum of the
  task losses, so the gradient of each row is exactly the gradient of its own
  task. An optimizer sees the same numbers whatever the batch size.
* ``"mean"`` (the post's choice): the batch loss is the mean, so every task's
  gradient is scaled by 1/batch (1/128 in the post).

Reported losses are always the per-task losses (averaged over tasks for a
summary), so the two reductions are comparable.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

REDUCTIONS = ("sum", "mean")
MAX_BATCH = 4096
MAX_DIM = 256


class QuadraticTasks(NamedTuple):
    """A batch of quadratic tasks: ``w`` (B, D, D), ``y`` (B, D), ``theta0`` (B, D).

    ``dims`` (B,), when given, is each task's own dimension for a batch of
    mixed dimensions padded to D (see :func:`sample_mixed_tasks`); the
    meta-loss then divides each task's loss by its dimension. The methods are
    the task interface shared with :class:`~l2l_core.tasks.mlp_families.MLPTasks`
    (a quadratic has no minibatches: ``step`` is ignored).
    """

    w: jax.Array
    y: jax.Array
    theta0: jax.Array
    dims: jax.Array | None = None

    def losses_and_grads(self, theta, step=0, reduction: str = "sum"):
        return losses_and_grads(theta, self.w, self.y, reduction)

    def step_losses(self, theta, step=0):
        return task_losses(theta, self.w, self.y)

    def meta_transform(self, losses):
        return losses if self.dims is None else losses * (10.0 / self.dims)

    def meta_losses(self, theta, step=0):
        return self.meta_transform(task_losses(theta, self.w, self.y))

    def final_losses(self, theta):
        return task_losses(theta, self.w, self.y)

    def metrics(self, theta) -> dict:
        return {}

    def take(self, lo: int, hi: int) -> "QuadraticTasks":
        """Tasks lo ... hi - 1 of the batch."""
        return QuadraticTasks(*(None if a is None else a[lo:hi] for a in self))


def check_task_shape(batch: int, dim: int) -> tuple[int, int]:
    """Validates a batch size and a dimension; returns them as ints."""
    if int(batch) != batch or not 1 <= batch <= MAX_BATCH:
        raise ValueError(f"batch must be an integer between 1 and {MAX_BATCH}, got {batch}")
    if int(dim) != dim or not 1 <= dim <= MAX_DIM:
        raise ValueError(f"dim must be an integer between 1 and {MAX_DIM}, got {dim}")
    return int(batch), int(dim)


def check_reduction(reduction: str) -> str:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return reduction


def sample_tasks(key: jax.Array, batch: int = 128, dim: int = 10) -> QuadraticTasks:
    """Draws ``batch`` fresh tasks of dimension ``dim`` from ``key``."""
    batch, dim = check_task_shape(batch, dim)
    kw, ky, kt = jax.random.split(key, 3)
    return QuadraticTasks(
        w=jax.random.normal(kw, (batch, dim, dim)),
        y=jax.random.normal(ky, (batch, dim)),
        theta0=jax.random.normal(kt, (batch, dim)),
    )


def sample_mixed_tasks(key: jax.Array, batch: int, dims: tuple[int, ...]) -> QuadraticTasks:
    """``batch`` tasks whose dimensions cycle through ``dims``, padded to max(dims).

    Task b has dimension dims[b % len(dims)]: its W, y and theta_0 are zero
    outside the first d coordinates, so the padding never changes its loss
    (the optimizer's moves there are ignored). ``dims`` is recorded so that
    the meta-loss weighs every dimension alike (loss x 10 / d).
    """
    dims = tuple(int(d) for d in dims)
    batch, top = check_task_shape(batch, max(dims))
    t = sample_tasks(key, batch, top)
    d = jnp.asarray([dims[b % len(dims)] for b in range(batch)], jnp.float32)
    mask = (jnp.arange(top)[None, :] < d[:, None]).astype(jnp.float32)
    return QuadraticTasks(t.w * mask[:, :, None] * mask[:, None, :], t.y * mask, t.theta0 * mask, d)


def tasks_for_seed(seed: int, batch: int = 128, dim: int = 10) -> QuadraticTasks:
    """The tasks ``compare --seed S`` evaluates on: ``sample_tasks(PRNGKey(S))``."""
    return sample_tasks(jax.random.PRNGKey(int(seed)), batch, dim)


def task_losses(theta: jax.Array, w: jax.Array, y: jax.Array) -> jax.Array:
    """Per-task losses ||W_i theta_i - y_i||^2, shape (B,)."""
    residual = jnp.einsum("bij,bj->bi", w, theta) - y
    return jnp.sum(residual**2, axis=-1)


def batch_loss(theta: jax.Array, w: jax.Array, y: jax.Array, reduction: str = "sum") -> jax.Array:
    """The scalar whose gradient the optimizer sees (see the module docstring)."""
    losses = task_losses(theta, w, y)
    return jnp.sum(losses) if reduction == "sum" else jnp.mean(losses)


def losses_and_grads(theta, w, y, reduction: str = "sum"):
    """Per-task losses (B,) and the gradient of the batch loss (B, D), in closed form.

    grad_i = 2 W_i^T (W_i theta_i - y_i), divided by B for ``"mean"``; cheaper
    than autodiff and exact.
    """
    residual = jnp.einsum("bij,bj->bi", w, theta) - y
    losses = jnp.sum(residual**2, axis=-1)
    grads = 2.0 * jnp.einsum("bij,bi->bj", w, residual)
    if reduction == "mean":
        grads = grads / theta.shape[0]
    return losses, grads
