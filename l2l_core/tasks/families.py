"""The registry of task families a learned optimizer is trained and scored on.

:data:`TASK_FAMILIES` maps a name to a :class:`TaskFamily`: how to draw a
batch of tasks from a key, how many steps a run has, how many tasks a
comparison scores, and which shipped optimizer it is compared with by default.
The CLI's ``--task``, meta-training, ``compare`` and the generalization map
all read this one registry.

* ``quadratic``: f(theta) = ||W theta - y||^2 (:mod:`~l2l_core.tasks.quadratics`).
* ``digits_mlp``: the paper's MNIST network scaled to 8x8 digits
  (:mod:`~l2l_core.tasks.mlp_families`); and its variants for the
  generalization map: 40 hidden units, two hidden layers, ReLU, and the same
  network on the wine and breast-cancer datasets.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import numpy as np

from l2l_core.tasks import quadratics as quad
from l2l_core.tasks.mlp_families import MLPSpec, sample_mlp_tasks

CHECKPOINTS_DIR = Path(__file__).resolve().parents[2] / "checkpoints"
#: the shipped optimizer the app and its tests load by default (the quadratic family's)
DEFAULT_CHECKPOINT = CHECKPOINTS_DIR / "default"


@dataclasses.dataclass(frozen=True)
class TaskFamily:
    """One family of tasks; ``spec`` is None for quadratics."""

    name: str
    label: str
    spec: MLPSpec | None = None
    steps: int = 100  # inner steps of a run (training horizon and default comparison)
    eval_batch: int = 128  # tasks a comparison scores
    log_lr_range: tuple[float, float] = (-4.0, 1.0)  # where each baseline's learning rate is tuned
    lr_points: int = 51  # log-spaced learning rates in that range (10 per decade)
    checkpoint: str = "default"  # the shipped optimizer it is compared with by default
    #: A base path's starting learning rate on this family (``--base nag``), near tuned NAG's:
    #: about 0.013 on quadratics, 1-2 on the networks. The rate is then meta-learned.
    base_lr: float = 1.0

    @property
    def is_quadratic(self) -> bool:
        return self.spec is None

    def sample(self, key: jax.Array, batch: int, dim: int = 10, dims: tuple[int, ...] = ()):
        """``batch`` fresh tasks from ``key`` (``dim``/``dims`` only for quadratics)."""
        if self.spec is None:
            return quad.sample_mixed_tasks(key, batch, dims) if dims else quad.sample_tasks(key, batch, dim)
        return sample_mlp_tasks(key, batch, self.spec)

    def tasks_for_seed(self, seed: int, batch: int, dim: int = 10):
        """The tasks ``compare --task NAME --seed S`` evaluates on."""
        return self.sample(jax.random.PRNGKey(int(seed)), batch, dim)

    def log_lrs(self):
        lo, hi = self.log_lr_range
        return np.linspace(lo, hi, self.lr_points, dtype=np.float32)

    @property
    def default_checkpoint(self) -> Path:
        return CHECKPOINTS_DIR / self.checkpoint


def _mlp(name, label, **spec):
    # 5 learning rates per decade over 1e-3 ... 10 (every tuned optimum of these
    # networks lies inside it) and 32 tasks keep a comparison near half a minute on 2 cores
    return TaskFamily(name, label, MLPSpec(**spec), eval_batch=32, log_lr_range=(-3.0, 1.0), lr_points=21,
                      checkpoint="digits_mlp")


TASK_FAMILIES: dict[str, TaskFamily] = {
    f.name: f
    for f in (
        TaskFamily("quadratic", "random quadratics ||W theta - y||^2", base_lr=0.01),
        _mlp("digits_mlp", "digits MLP: 64-20-10, sigmoid"),
        _mlp("digits_mlp_h40", "digits MLP: 40 hidden units", hidden=(40,)),
        _mlp("digits_mlp_2layer", "digits MLP: two hidden layers of 20", hidden=(20, 20)),
        _mlp("digits_mlp_relu", "digits MLP: ReLU", activation="relu"),
        _mlp("wine_mlp", "wine MLP: 13-20-3, sigmoid", dataset="wine"),
        _mlp("breast_cancer_mlp", "breast-cancer MLP: 30-20-2, sigmoid", dataset="breast_cancer"),
    )
}
TRAINABLE = ("quadratic", "digits_mlp")  # families with presets and a shipped optimizer


def get_family(name: str) -> TaskFamily:
    if name not in TASK_FAMILIES:
        raise ValueError(f"unknown task {name!r}; choose from {sorted(TASK_FAMILIES)}")
    return TASK_FAMILIES[name]
