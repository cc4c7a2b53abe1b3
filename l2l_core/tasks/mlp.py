"""Full-batch MLP tasks on the digits training split, as one flat parameter vector.

Two networks people know from the loss-landscape literature, trained on the
whole training split of scikit-learn's digits (:func:`~l2l_core.tasks.datasets.load_dataset`):

- ``digits_mlp``: 64-20-10, sigmoid, cross-entropy (mean of -log softmax at the
  label): the learned optimizer's network;
- ``digits_fc_tanh``: 64-32-32-10, tanh, MSE (1/2 x mean over examples of the
  squared error summed over outputs, one-hot targets): the fully connected tanh
  network of Cohen et al. (2021)'s edge-of-stability experiments, scaled to digits.

The flat layout is each layer's W (fan_in, fan_out) row-major, then its b.
``init(seed)`` draws W ~ N(0, 1/fan_in) and b = 0 from numpy's generator
seeded with ``seed`` (the same vector on every machine).
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np


def sigmoid(z):
    """The logistic function as 1/2 + tanh(z/2)/2: the same function, and on CPU XLA's tanh is
    several times cheaper than its logistic."""
    return 0.5 + 0.5 * jnp.tanh(0.5 * z)


ACTIVATIONS = {"sigmoid": sigmoid, "tanh": jnp.tanh, "relu": jax.nn.relu}
LOSSES = ("mse", "cross_entropy")


@dataclasses.dataclass(frozen=True, eq=False)
class MLPTask:
    """A full-batch MLP task on fixed data.

    Attributes:
      name: registry key.
      layer_sizes: (inputs, hidden..., outputs).
      activation: hidden activation, one of :data:`ACTIVATIONS`.
      loss_kind: ``"mse"`` or ``"cross_entropy"``.
      biases: whether each layer has a bias vector.
      inputs: (n, d) float64 features.
      targets: (n, classes) float64 one-hot targets.
      title, description: what pages and ``--help`` show.
    """

    name: str
    layer_sizes: tuple[int, ...]
    activation: str
    loss_kind: str
    biases: bool
    inputs: np.ndarray
    targets: np.ndarray
    title: str = ""
    description: str = ""

    def __post_init__(self):
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {self.activation!r}")
        if self.loss_kind not in LOSSES:
            raise ValueError(f"loss_kind must be one of {LOSSES}, got {self.loss_kind!r}")
        if len(self.layer_sizes) < 2 or any(int(s) != s or s < 1 for s in self.layer_sizes):
            raise ValueError(f"layer_sizes must be two or more positive integers, got {self.layer_sizes}")
        x, y = np.asarray(self.inputs), np.asarray(self.targets)
        if x.ndim != 2 or x.shape[1] != self.layer_sizes[0]:
            raise ValueError(f"inputs must be (n, {self.layer_sizes[0]}), got {x.shape}")
        if y.shape != (x.shape[0], self.layer_sizes[-1]):
            raise ValueError(f"targets must be ({x.shape[0]}, {self.layer_sizes[-1]}), got {y.shape}")

    # -- layout -------------------------------------------------------------------

    @property
    def shapes(self) -> list[tuple[int, int]]:
        return list(zip(self.layer_sizes[:-1], self.layer_sizes[1:]))

    @property
    def layer_slices(self) -> list[tuple[slice, slice | None]]:
        """Per layer: (slice of W (fan_in * fan_out entries), slice of b or None) in the flat vector."""
        out, i = [], 0
        for a, b in self.shapes:
            w = slice(i, i + a * b)
            i += a * b
            bias = None
            if self.biases:
                bias = slice(i, i + b)
                i += b
            out.append((w, bias))
        return out

    @property
    def n_params(self) -> int:
        return sum(a * b + (b if self.biases else 0) for a, b in self.shapes)

    dim = n_params

    @property
    def n_examples(self) -> int:
        return int(np.asarray(self.inputs).shape[0])

    @property
    def labels_int(self) -> np.ndarray:
        return np.argmax(np.asarray(self.targets), axis=1)

    def unflatten(self, theta) -> list[tuple]:
        """(P,) -> [(W (fan_in, fan_out), b (fan_out,) or None), ...]."""
        layers = []
        for (a, b), (ws, bs) in zip(self.shapes, self.layer_slices):
            layers.append((theta[ws].reshape(a, b), None if bs is None else theta[bs]))
        return layers

    def init(self, seed: int = 0) -> np.ndarray:
        """Flat float64 parameters: W ~ N(0, 1/fan_in), b = 0, drawn from ``seed``."""
        rng = np.random.default_rng(int(seed))
        parts = []
        for a, b in self.shapes:
            parts.append((rng.standard_normal((a, b)) / np.sqrt(a)).reshape(-1))
            if self.biases:
                parts.append(np.zeros(b))
        return np.concatenate(parts)

    # -- the loss -----------------------------------------------------------------

    def outputs_from_first(self, pre1, theta):
        """The network's outputs given the first layer's pre-activation (n, h1) (its bias included)."""
        act = ACTIVATIONS[self.activation]
        layers = self.unflatten(theta)
        h = pre1
        for w, b in layers[1:]:
            h = act(h)
            h = h @ w
            if b is not None:
                h = h + b
        return h

    def loss_from_outputs(self, out, targets):
        if self.loss_kind == "mse":
            return 0.5 * jnp.mean(jnp.sum((out - targets) ** 2, axis=-1))
        # -log softmax at the label = logsumexp(out) - out . target (targets one-hot)
        return jnp.mean(jax.nn.logsumexp(out, axis=-1) - jnp.sum(out * targets, axis=-1))

    def outputs(self, theta, inputs=None):
        x = jnp.asarray(self.inputs if inputs is None else inputs, theta.dtype)
        w, b = self.unflatten(theta)[0]
        pre = x @ w
        if b is not None:
            pre = pre + b
        return self.outputs_from_first(pre, theta)

    def loss(self, theta, inputs=None, targets=None):
        """The full-batch training loss of the flat parameters ``theta`` (jax-traceable)."""
        y = jnp.asarray(self.targets if targets is None else targets, theta.dtype)
        return self.loss_from_outputs(self.outputs(theta, inputs), y)

    def subset(self, n: int) -> "MLPTask":
        """The same network on the first ``n`` training examples (tests, quick looks)."""
        n = int(n)
        if not 1 <= n <= self.n_examples:
            raise ValueError(f"subset size must be from 1 to {self.n_examples}, got {n}")
        return dataclasses.replace(self, inputs=np.asarray(self.inputs)[:n], targets=np.asarray(self.targets)[:n])

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays that define the task (an inspect NPZ carries them)."""
        return {"task_inputs": np.asarray(self.inputs), "task_targets": np.asarray(self.targets),
                "layer_sizes": np.asarray(self.layer_sizes, np.int64)}

    def meta(self) -> dict:
        return {"activation": self.activation, "loss": self.loss_kind, "biases": bool(self.biases)}


def _digits() -> tuple[np.ndarray, np.ndarray]:
    from l2l_core.tasks.datasets import load_dataset

    d = load_dataset("digits")
    x = np.asarray(d.x_train, np.float64)
    return x, np.eye(d.n_classes)[np.asarray(d.y_train)]


@lru_cache(maxsize=None)
def mlp_task(name: str) -> MLPTask:
    """The MLP task ``name`` (one of :data:`MLP_TASKS`); ValueError lists the choices."""
    if name not in MLP_TASKS:
        raise ValueError(f"unknown MLP task {name!r}; choose one of {list(MLP_TASKS)}")
    x, y = _digits()
    return MLPTask(name=name, inputs=x, targets=y, **MLP_TASKS[name])


#: The MLP tasks: name -> their structure (the data is the digits training split).
MLP_TASKS: dict[str, dict] = {
    "digits_mlp": dict(
        layer_sizes=(64, 20, 10), activation="sigmoid", loss_kind="cross_entropy", biases=True,
        title="digits MLP (64-20-10 sigmoid)",
        description="The learned optimizer's network: 64-20-10, sigmoid, cross-entropy, full batch on the "
        "digits training split."),
    "digits_fc_tanh": dict(
        layer_sizes=(64, 32, 32, 10), activation="tanh", loss_kind="mse", biases=True,
        title="digits tanh network (64-32-32-10, MSE)",
        description="Cohen et al.'s edge-of-stability network scaled to digits: 64-32-32-10, tanh, MSE on "
        "one-hot targets, full batch on the digits training split."),
}
