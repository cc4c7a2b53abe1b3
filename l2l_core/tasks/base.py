"""The task abstraction every part of the project trains on.

- :class:`Task`: one thing to train: ``init(seed)`` -> parameters (a pytree),
  ``value_and_grad(params)`` -> (loss, gradient), the arrays that define it
  (``data``) and the hyperparameter axes it adds (per-layer learning rates).
  The maps, the outer runs, opening a pixel and the tuner's audit take it.
- :class:`TaskBatch`: a batch of tasks as a learned optimizer sees them: one
  row of flattened parameters per task (``theta0``, (B, P)) and the losses and
  gradients of every row at once. Random quadratics
  (:class:`~l2l_core.tasks.quadratics.QuadraticTasks`), minibatch MLPs
  (:class:`~l2l_core.tasks.mlp_families.MLPTasks`) and any single :class:`Task`
  (:class:`~l2l_core.tasks.families.OneTaskBatch`) are task batches.
- :class:`TaskFamily`: ``sample(key, batch)`` -> a :class:`TaskBatch`, and what a
  learned optimizer's training and comparison need to know of the family. A
  single task is a family of one (:func:`~l2l_core.tasks.families.family_of_one`):
  every draw is that task.

Every name of :func:`l2l_core.tasks.registry` is one of these.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable, NamedTuple, Protocol, runtime_checkable

import jax
import numpy as np

from l2l_core.inner.axes import Axis
from l2l_core.tasks.problems import InnerProblem

CHECKPOINTS_DIR = Path(__file__).resolve().parents[2] / "checkpoints"


class Task(NamedTuple):
    """What an inner optimizer trains.

    Attributes:
      name: registry key (or the formula text).
      title, description: what the pages and ``--help`` show.
      init: seed -> initial parameters (a pytree of float64 numpy arrays); the
        seed draws a network's data and weights and is ignored by functions.
      value_and_grad: params -> (loss, gradient pytree), jax-traceable.
      dim: number of scalar parameters.
      axes: hyperparameter axes the task adds (per-layer learning rates).
      labels: for a network, the per-leaf name of the learning rate that moves
        it (a pytree like the parameters, e.g. ("lr_in", "lr_out")); else None.
      problem: the 1-D record for presets and formulas in x, else None (its
        fast kernel, the seed post's SGD-with-momentum grid, is registered on it).
      domain: ((x lo, x hi), (y lo, y hi)) to draw a 2-D task's contour in.
      formula: the loss as text, when it has one.
      data: arrays that define the task (a network's inputs and targets).
    """

    name: str
    title: str
    description: str
    init: Callable[[int], Any]
    value_and_grad: Callable
    dim: int
    axes: dict[str, Axis] = {}
    labels: Any = None
    problem: InnerProblem | None = None
    domain: tuple | None = None
    formula: str = ""
    data: dict | None = None


@runtime_checkable
class TaskBatch(Protocol):
    """A batch of B tasks, each with P parameters, as a learned optimizer and its
    baselines run on them (:mod:`l2l_core.learned`). ``step`` is the inner step
    (it picks a minibatch; tasks without minibatches ignore it)."""

    theta0: Any  # (B, P) starting parameters

    def losses_and_grads(self, theta, step, reduction: str = "sum"):
        """Per-task losses (B,) and the gradient (B, P) of their sum (``"sum"``) or mean."""

    def step_losses(self, theta, step):
        """Per-task losses (B,) at ``step`` (what ``meta_transform`` turns into the meta-loss)."""

    def meta_transform(self, losses):
        """The meta-loss's terms from per-task losses (identity, a dimension's weight, or a log)."""

    def meta_losses(self, theta, step):
        """``meta_transform(step_losses(theta, step))``."""

    def final_losses(self, theta):
        """Per-task losses (B,) on the task's whole data: what a comparison reports."""

    def metrics(self, theta) -> dict:
        """Extra per-task numbers (held-out loss and accuracy), or {}."""

    def take(self, lo: int, hi: int) -> "TaskBatch":
        """Tasks lo ... hi - 1."""


#: What a family's batches are: ``quadratic`` (random ||W theta - y||^2, their dimension is a
#: setting), ``network`` (minibatch MLPs with held-out data), ``single`` (one registry task).
FAMILY_KINDS = ("quadratic", "network", "single")


@dataclasses.dataclass(frozen=True)
class TaskFamily:
    """A family of tasks a learned optimizer is trained and scored on.

    Attributes:
      name, label: the registry key and what pages show.
      kind: one of :data:`FAMILY_KINDS`.
      draw: (key, batch, dim, dims) -> a :class:`TaskBatch` of ``batch`` tasks
        (``dim``/``dims``: quadratics' dimensions, ignored by the others).
      steps: inner steps of a run (training horizon and default comparison).
      eval_batch: tasks a comparison scores (1 for a family of one: every draw is the same).
      log_lr_range, lr_points: where, and on how many log-spaced points, each
        baseline's learning rate is tuned.
      checkpoint: the shipped optimizer it is compared with by default.
      base_lr: a base path's starting learning rate on this family (``--base nag``),
        near tuned NAG's; the rate is then meta-learned.
      params: parameters per task of a family of one (0: they vary or are a setting).
    """

    name: str
    label: str
    kind: str
    draw: Callable[..., TaskBatch] = dataclasses.field(compare=False, repr=False)
    steps: int = 100
    eval_batch: int = 128
    log_lr_range: tuple[float, float] = (-4.0, 1.0)
    lr_points: int = 51
    checkpoint: str = "default"
    base_lr: float = 1.0
    params: int = 0

    def __post_init__(self):
        if self.kind not in FAMILY_KINDS:
            raise ValueError(f"family kind must be one of {FAMILY_KINDS}, got {self.kind!r}")

    @property
    def is_quadratic(self) -> bool:
        return self.kind == "quadratic"

    @property
    def has_data(self) -> bool:
        """Whether its tasks have minibatches and held-out data (what ``meta_loss_on`` chooses among)."""
        return self.kind == "network"

    def sample(self, key, batch: int, dim: int = 10, dims: tuple[int, ...] = ()) -> TaskBatch:
        """``batch`` tasks drawn from ``key`` (``dim``/``dims`` only for quadratics)."""
        return self.draw(key, batch, dim, dims)

    def tasks_for_seed(self, seed: int, batch: int, dim: int = 10) -> TaskBatch:
        """The tasks ``compare --task NAME --seed S`` evaluates on."""
        return self.sample(jax.random.PRNGKey(int(seed)), batch, dim)

    def log_lrs(self) -> np.ndarray:
        lo, hi = self.log_lr_range
        return np.linspace(lo, hi, self.lr_points, dtype=np.float32)

    @property
    def default_checkpoint(self) -> Path:
        return CHECKPOINTS_DIR / self.checkpoint
