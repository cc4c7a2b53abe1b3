"""The registry of task families a learned optimizer is trained and scored on.

:data:`TASK_FAMILIES` maps a name to a :class:`~l2l_core.tasks.base.TaskFamily`:
how to draw a batch of tasks from a key, how many steps a run has, how many
tasks a comparison scores, and which shipped optimizer it is compared with by
default. The CLI's ``--task``, meta-training, ``compare`` and the
generalization map all read it through :func:`get_family`.

* ``quadratic``: f(theta) = ||W theta - y||^2 (:mod:`~l2l_core.tasks.quadratics`).
* ``digits_mlp``: the paper's MNIST network scaled to 8x8 digits
  (:mod:`~l2l_core.tasks.mlp_families`); and its variants for the
  generalization map: 40 hidden units, two hidden layers, ReLU, and the same
  network on the wine and breast-cancer datasets.
* every other task of the maps (``rosenbrock``, ``log_sin``, ``tanh_net`` ...,
  or a formula): a family of one (:func:`family_of_one`), every draw that task.
"""

from __future__ import annotations

from functools import lru_cache, partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from l2l_core.tasks import quadratics as quad
from l2l_core.tasks.base import CHECKPOINTS_DIR, Task, TaskFamily
from l2l_core.tasks.general import resolve_task
from l2l_core.tasks.mlp_families import MLPSpec, sample_mlp_tasks

__all__ = ["CHECKPOINTS_DIR", "DEFAULT_CHECKPOINT", "TASK_FAMILIES", "TRAINABLE", "OneTaskBatch",
           "family_of_one", "get_family"]

#: the shipped optimizer the app and its tests load by default (the quadratic family's)
DEFAULT_CHECKPOINT = CHECKPOINTS_DIR / "default"


def _draw_quadratics(key, batch, dim, dims):
    return quad.sample_mixed_tasks(key, batch, dims) if dims else quad.sample_tasks(key, batch, dim)


def _draw_mlps(spec, key, batch, dim, dims):
    return sample_mlp_tasks(key, batch, spec)


def _mlp(name, label, **spec):
    # 5 learning rates per decade over 1e-3 ... 10 (every tuned optimum of these
    # networks lies inside it) and 32 tasks keep a comparison near half a minute on 2 cores
    return TaskFamily(name, label, "network", partial(_draw_mlps, MLPSpec(**spec).validate()), eval_batch=32,
                      log_lr_range=(-3.0, 1.0), lr_points=21, checkpoint="digits_mlp")


TASK_FAMILIES: dict[str, TaskFamily] = {
    f.name: f
    for f in (
        TaskFamily("quadratic", "random quadratics ||W theta - y||^2", "quadratic", _draw_quadratics, base_lr=0.01),
        _mlp("digits_mlp", "digits MLP: 64-20-10, sigmoid"),
        _mlp("digits_mlp_h40", "digits MLP: 40 hidden units", hidden=(40,)),
        _mlp("digits_mlp_2layer", "digits MLP: two hidden layers of 20", hidden=(20, 20)),
        _mlp("digits_mlp_relu", "digits MLP: ReLU", activation="relu"),
        _mlp("wine_mlp", "wine MLP: 13-20-3, sigmoid", dataset="wine"),
        _mlp("breast_cancer_mlp", "breast-cancer MLP: 30-20-2, sigmoid", dataset="breast_cancer"),
    )
}
TRAINABLE = ("quadratic", "digits_mlp")  # families with presets and a shipped optimizer


# -- a single task as a family of one ------------------------------------------------------


@jax.tree_util.register_pytree_node_class
class OneTaskBatch:
    """``batch`` copies of one :class:`~l2l_core.tasks.base.Task`, its parameters flattened
    to one row each (a :class:`~l2l_core.tasks.base.TaskBatch`). Its loss is the task's own
    (no minibatches: ``step`` is ignored); the meta-loss sums the losses themselves, as
    Andrychowicz et al. do."""

    def __init__(self, theta0, loss_and_grad):
        self.theta0 = theta0
        self.loss_and_grad = loss_and_grad  # static: one function per task (see _flat)

    def tree_flatten(self):
        return (self.theta0,), self.loss_and_grad

    @classmethod
    def tree_unflatten(cls, loss_and_grad, children):
        return cls(children[0], loss_and_grad)

    def losses_and_grads(self, theta, step=0, reduction: str = "sum"):
        losses, grads = jax.vmap(self.loss_and_grad)(theta)
        return losses, (grads / theta.shape[0] if reduction == "mean" else grads)

    def step_losses(self, theta, step=0):
        return jax.vmap(self.loss_and_grad)(theta)[0]

    def meta_transform(self, losses):
        return losses

    def meta_losses(self, theta, step=0):
        return self.step_losses(theta, step)

    def final_losses(self, theta):
        return self.step_losses(theta)

    def metrics(self, theta) -> dict:
        return {}

    def take(self, lo: int, hi: int) -> "OneTaskBatch":
        return OneTaskBatch(self.theta0[lo:hi], self.loss_and_grad)


def _flat(task: Task):
    """(theta0 (P,) float32, flat loss-and-gradient) of ``task``."""
    params0 = jax.tree.map(lambda a: np.asarray(a, np.float32), task.init(0))
    theta0, unravel = ravel_pytree(params0)

    def loss_and_grad(theta):
        loss, grads = task.value_and_grad(unravel(theta))
        return loss, ravel_pytree(grads)[0]

    return np.asarray(theta0), loss_and_grad


def family_of_one(task: Task | str) -> TaskFamily:
    """The family whose every draw is ``task`` (a :class:`~l2l_core.tasks.base.Task`, a
    registry name or a formula): a learned optimizer trained on it learns that one task,
    and a comparison scores it once against the tuned baselines. A name gives the same
    family (one loss function, one compiled program) every time."""
    return _named_family_of_one(task) if isinstance(task, str) else _family_of_one(task)


@lru_cache(maxsize=64)
def _named_family_of_one(name: str) -> TaskFamily:
    return _family_of_one(resolve_task(name))


def _family_of_one(task: Task) -> TaskFamily:
    theta0, loss_and_grad = _flat(task)

    def draw(key, batch, dim, dims):
        quad.check_task_shape(batch, 1)
        return OneTaskBatch(jnp.tile(jnp.asarray(theta0), (int(batch), 1)), loss_and_grad)

    return TaskFamily(task.name, task.title, "single", draw, eval_batch=1, params=int(theta0.size))


def get_family(name: str) -> TaskFamily:
    """The family ``name``: a named family of :data:`TASK_FAMILIES`, or any task of the maps
    (a registry name or a formula) as a family of one. ValueError lists the families."""
    if name in TASK_FAMILIES:
        return TASK_FAMILIES[name]
    try:
        return family_of_one(name)
    except ValueError:
        raise ValueError(f"unknown task {name!r}; choose a family ({', '.join(TASK_FAMILIES)}) or a task of "
                         "the maps (rosenbrock, log_sin, tanh_net, ... or a formula)") from None
