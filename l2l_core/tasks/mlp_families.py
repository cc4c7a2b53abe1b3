"""Small-network task families: an MLP classifier on a bundled dataset.

The paper's MNIST task (Andrychowicz et al., 2016, section 3.2) scaled to
scikit-learn's 8x8 digits: one hidden layer of 20 sigmoid units, minibatches
of 128, cross-entropy, 100 steps. Every task is one fresh initialization and
one minibatch order, both drawn from the task's key; the data and the split
are fixed (:mod:`l2l_core.tasks.datasets`).

A batch of tasks is an :class:`MLPTasks` pytree whose optimizee is a
(B, P) array, one row of P flattened network parameters per task (the layout
of :meth:`MLPSpec.unflatten`), so the learned optimizer and the baselines run
on it exactly as on a batch of quadratics. Its methods are the task interface
(shared with :class:`~l2l_core.tasks.quadratics.QuadraticTasks`):

* ``losses_and_grads(theta, step, reduction)``: per-task minibatch losses (B,)
  and the gradient of the batch loss (B, P) at inner step ``step``;
* ``step_losses(theta, step)``: the minibatch losses only (``meta_transform``: their log, the meta-loss);
* ``final_losses(theta)``: the loss on the whole training split (B,);
* ``metrics(theta)``: held-out test loss and accuracy, each (B,).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from l2l_core.tasks.datasets import DATASETS, load_dataset

ACTIVATIONS = {"sigmoid": jax.nn.sigmoid, "relu": jax.nn.relu}


@dataclasses.dataclass(frozen=True)
class MLPSpec:
    """The structure of an MLP task (static: it decides shapes)."""

    dataset: str = "digits"
    hidden: tuple[int, ...] = (20,)
    activation: str = "sigmoid"
    batch: int = 128  # examples per minibatch

    def validate(self) -> "MLPSpec":
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {DATASETS}, got {self.dataset!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {self.activation!r}")
        if not 1 <= len(self.hidden) <= 4 or any(int(h) != h or not 1 <= h <= 512 for h in self.hidden):
            raise ValueError(f"hidden must be 1 to 4 layer widths between 1 and 512, got {self.hidden}")
        if int(self.batch) != self.batch or not 1 <= self.batch <= 4096:
            raise ValueError(f"batch must be an integer between 1 and 4096, got {self.batch}")
        return self

    def layer_sizes(self) -> tuple[int, ...]:
        data = load_dataset(self.dataset)
        return (data.x_train.shape[1], *self.hidden, data.n_classes)

    def shapes(self) -> list[tuple[tuple[int, int], tuple[int]]]:
        sizes = self.layer_sizes()
        return [((a, b), (b,)) for a, b in zip(sizes[:-1], sizes[1:])]

    @property
    def n_params(self) -> int:
        return sum(a * b + b for (a, b), _ in self.shapes())

    def unflatten(self, theta: jax.Array) -> list[tuple[jax.Array, jax.Array]]:
        """(P,) -> [(W_l (in, out), b_l (out,)), ...]: each layer's W row-major, then its b."""
        layers, i = [], 0
        for (a, b), _ in self.shapes():
            w = theta[i : i + a * b].reshape(a, b)
            i += a * b
            layers.append((w, theta[i : i + b]))
            i += b
        return layers

    def init(self, key: jax.Array) -> jax.Array:
        """One task's fresh parameters (P,): W ~ N(0, 1/fan_in), b = 0."""
        parts = []
        for k, ((a, b), _) in zip(jax.random.split(key, len(self.shapes())), self.shapes()):
            parts += [(jax.random.normal(k, (a, b)) / np.sqrt(a)).reshape(-1), jnp.zeros((b,))]
        return jnp.concatenate(parts)

    def logits(self, theta: jax.Array, x: jax.Array) -> jax.Array:
        act = ACTIVATIONS[self.activation]
        layers = self.unflatten(theta)
        for w, b in layers[:-1]:
            x = act(x @ w + b)
        w, b = layers[-1]
        return x @ w + b


def cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """Mean softmax cross-entropy of integer ``labels``."""
    logp = jax.nn.log_softmax(logits)
    return -jnp.mean(jnp.take_along_axis(logp, labels[:, None], axis=1))


@struct.dataclass
class MLPTasks:
    """A batch of MLP tasks: ``theta0`` (B, P), minibatch keys (B, 2) and the data."""

    theta0: jax.Array
    keys: jax.Array
    x: jax.Array
    y: jax.Array
    x_test: jax.Array
    y_test: jax.Array
    spec: MLPSpec = struct.field(pytree_node=False, default=MLPSpec())

    def _minibatch(self, key, step):
        idx = jax.random.randint(jax.random.fold_in(key, step), (self.spec.batch,), 0, self.x.shape[0])
        return self.x[idx], self.y[idx]

    def _task_loss(self, theta, key, step):
        xb, yb = self._minibatch(key, step)
        return cross_entropy(self.spec.logits(theta, xb), yb)

    def losses_and_grads(self, theta, step, reduction: str = "sum"):
        losses, grads = jax.vmap(jax.value_and_grad(self._task_loss), (0, 0, None))(theta, self.keys, step)
        return losses, (grads / theta.shape[0] if reduction == "mean" else grads)

    def step_losses(self, theta, step):
        return jax.vmap(self._task_loss, (0, 0, None))(theta, self.keys, step)

    def meta_transform(self, losses):
        # log: a 100-step run's loss falls from 2.3 to ~0.04, and a plain sum would only
        # teach the first steps; in logs every step's relative progress counts
        return jnp.log(losses)

    def meta_losses(self, theta, step):
        return self.meta_transform(self.step_losses(theta, step))

    def final_losses(self, theta):
        return jax.vmap(lambda t: cross_entropy(self.spec.logits(t, self.x), self.y))(theta)

    def metrics(self, theta) -> dict[str, Any]:
        def one(t):
            logits = self.spec.logits(t, self.x_test)
            return cross_entropy(logits, self.y_test), jnp.mean(jnp.argmax(logits, -1) == self.y_test)

        test_loss, test_acc = jax.vmap(one)(theta)
        return {"test_loss": test_loss, "test_accuracy": test_acc}

    def take(self, lo: int, hi: int) -> "MLPTasks":
        """Tasks lo ... hi - 1 of the batch (the data is shared)."""
        return self.replace(theta0=self.theta0[lo:hi], keys=self.keys[lo:hi])


def sample_mlp_tasks(key: jax.Array, batch: int, spec: MLPSpec = MLPSpec()) -> MLPTasks:
    """``batch`` fresh tasks: initializations and minibatch orders from ``key``."""
    spec.validate()
    if int(batch) != batch or not 1 <= batch <= 4096:
        raise ValueError(f"batch must be an integer between 1 and 4096, got {batch}")
    data = load_dataset(spec.dataset)
    k_init, k_data = jax.random.split(key)
    theta0 = jax.vmap(spec.init)(jax.random.split(k_init, int(batch)))
    return MLPTasks(theta0, jax.random.split(k_data, int(batch)), jnp.asarray(data.x_train),
                    jnp.asarray(data.y_train), jnp.asarray(data.x_test), jnp.asarray(data.y_test), spec)
