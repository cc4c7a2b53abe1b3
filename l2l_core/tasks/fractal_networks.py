"""Small networks whose trainability boundary is fractal (Sohl-Dickstein, 2024).

The paper's network: one hidden layer of width ``W``, no biases, mean-field
parameterization (each layer computes ``z = x @ w / sqrt(fan_in)``; the output
is the last ``z`` divided once more by ``sqrt(W)``), hidden activation
``tanh(sqrt(2) z)``, mean squared error on ``n`` Gaussian points, trained by
full-batch gradient descent with one learning rate per layer::

    W1 <- W1 - lr_in  * dL/dW1
    W2 <- W2 - lr_out * dL/dW2

A :class:`NetworkTask` holds everything that defines one experiment as plain
arrays (inputs, targets, initial weights by layer), so that anyone can
re-check an image from the arrays alone. Tasks are drawn with
``jax.random`` from one seed: the same (name, width, seed) always gives the
same arrays, on any machine.

References:
  J. Sohl-Dickstein, "The boundary of neural network trainability is
  fractal", arXiv:2402.06184 (2024).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from l2l_core.checks import check_int

#: Hidden activations phi: tanh(sqrt(2) z), sqrt(2) relu(z), z.
ACTIVATIONS = ("tanh", "relu", "linear")

#: Largest width accepted (the paper's is 16; 64 keeps a pixel's run small).
MAX_WIDTH = 64
#: Largest number of training points accepted.
MAX_POINTS = 4096


@dataclass(frozen=True)
class NetworkSpec:
    """How a task variant is built (static settings only)."""

    name: str
    title: str
    activation: str
    #: "params" (n = W*W + W, the number of parameters), "width" (n = W) or an int.
    points: str | int
    #: Points per gradient step; None = full batch.
    batch_size: int | None
    #: "lr" (lr_in x lr_out) or "offset" (offset of W1's init x one shared lr).
    phase_space: str
    #: The paper's Table 1 fractal dimension for this variant.
    paper_dimension: float
    description: str


SPECS: dict[str, NetworkSpec] = {
    s.name: s
    for s in (
        NetworkSpec("fractal_tanh", "tanh network (the paper's)", "tanh", "params", None, "lr", 1.66,
                    "width 16, one hidden layer, tanh(sqrt(2) z), 272 points, full-batch GD"),
        NetworkSpec("fractal_relu", "ReLU network", "relu", "params", None, "lr", 1.20,
                    "as the paper's, hidden activation sqrt(2) relu(z)"),
        NetworkSpec("fractal_linear", "linear network", "linear", "width", None, "lr", 1.17,
                    "as the paper's, identity activation, n = width points"),
        NetworkSpec("fractal_minibatch", "tanh, minibatch 16", "tanh", "params", 16, "lr", 1.55,
                    "as the paper's, each step on the next 16 points in order (17 batches an epoch)"),
        NetworkSpec("fractal_single", "tanh, single datapoint", "tanh", 1, None, "lr", 1.41,
                    "as the paper's, trained on one point"),
        NetworkSpec("fractal_offset", "tanh, offset vs learning rate", "tanh", "params", None, "offset", 1.98,
                    "as the paper's; axes: an offset added to every initial W1 entry x one shared lr"),
    )
}

DEFAULT_TASK = "fractal_tanh"


@dataclass(frozen=True, eq=False)
class NetworkTask:
    """One experiment's arrays (float64 numpy holding float32-drawn values).

    Attributes:
      inputs: (n, W) training inputs X.
      targets: (n, 1) training targets Y.
      init: initial weights by layer, (W1 of shape (W, W), W2 of shape (W, 1)).
    """

    spec: NetworkSpec
    width: int
    seed: int
    inputs: np.ndarray
    targets: np.ndarray
    init: tuple[np.ndarray, np.ndarray]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def n_points(self) -> int:
        return self.inputs.shape[0]

    @property
    def batch_size(self) -> int:
        return self.spec.batch_size or self.n_points

    def task_arrays(self) -> dict[str, np.ndarray]:
        """The arrays that define the task, under the grid NPZ's names."""
        return {"task_inputs": self.inputs, "task_targets": self.targets,
                "task_init_0": self.init[0], "task_init_1": self.init[1]}




def get_spec(name: str) -> NetworkSpec:
    if name not in SPECS:
        raise ValueError(f"unknown network task {name!r}; choose one of {list(SPECS)}")
    return SPECS[name]


def n_points(spec: NetworkSpec, width: int) -> int:
    if spec.points == "params":
        return width * width + width
    if spec.points == "width":
        return width
    return int(spec.points)


def make_task(name: str = DEFAULT_TASK, *, width: int = 16, seed: int = 0) -> NetworkTask:
    """The task ``name`` at ``width``, drawn from ``seed``.

    Draws, as the straightforward peer does: ``k1..k4 = split(PRNGKey(seed), 4)``;
    W1 ~ N(0,1) (W, W) from k1, W2 ~ N(0,1) (W, 1) from k2, X ~ N(0,1) (n, W)
    from k3, Y ~ N(0,1) (n, 1) from k4, all in float32.

    Raises:
      ValueError: unknown name, width outside 1..MAX_WIDTH, a batch larger than
        the data, or too many points.
    """
    import jax

    spec = get_spec(name)
    width = check_int("width", width, 1, MAX_WIDTH)
    seed = check_int("seed", seed, 0, 2**31 - 1)
    n = n_points(spec, width)
    if n > MAX_POINTS:
        raise ValueError(f"{name} at width {width} has {n} points, over the cap of {MAX_POINTS}; lower the width")
    if spec.batch_size is not None and (n % spec.batch_size or spec.batch_size > n):
        raise ValueError(f"{name} needs a point count divisible by its minibatch {spec.batch_size}; "
                         f"width {width} gives {n} points (try width 16)")
    k1, k2, k3, k4 = jax.random.split(jax.random.PRNGKey(seed), 4)
    f32 = np.float32

    def draw(key, shape):
        return np.asarray(jax.random.normal(key, shape, dtype=f32)).astype(np.float64)

    w1, w2 = draw(k1, (width, width)), draw(k2, (width, 1))
    x, y = draw(k3, (n, width)), draw(k4, (n, 1))
    return NetworkTask(spec, width, seed, x, y, (w1, w2))


def task_from_arrays(name: str, inputs, targets, init_0, init_1) -> NetworkTask:
    """A task rebuilt from its arrays (a grid NPZ's ``task_*``), for re-checking."""
    spec = get_spec(name)
    x, y = np.asarray(inputs, np.float64), np.asarray(targets, np.float64).reshape(-1, 1)
    w1, w2 = np.asarray(init_0, np.float64), np.asarray(init_1, np.float64).reshape(-1, 1)
    width = w1.shape[0]
    if x.ndim != 2 or x.shape[1] != width or w1.shape != (width, width) or w2.shape[0] != width \
            or y.shape[0] != x.shape[0]:
        raise ValueError(f"task arrays do not fit together: inputs {x.shape}, targets {y.shape}, "
                         f"init {w1.shape} and {w2.shape}")
    if not all(np.isfinite(a).all() for a in (x, y, w1, w2)):
        raise ValueError("task arrays hold non-finite values")
    return NetworkTask(spec, width, -1, x, y, (w1, w2))
