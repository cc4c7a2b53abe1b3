"""The one registry of tasks (inner problems) any inner optimizer can train.

A task (:class:`~l2l_core.tasks.base.Task`) is what is trained: initial
parameters (a pytree) and a loss over them, with its gradient. Three kinds are
defined here:

- the 1-D presets of :mod:`~l2l_core.tasks.problems` and typed formulas in x
  (parameters: one scalar; ``problem`` keeps the 1-D record, so the seed
  post's SGD-with-momentum grid runs on its fast kernel);
- 2-D functions (``rosenbrock``, ``beale``, ``himmelblau``) and typed formulas
  in x and y (parameters: a pair of scalars ``(x, y)``, so a grid of them is
  elementwise work);
- small networks (parameters: one weight matrix per layer); they add their
  per-layer learning rates (``lr_in``, ``lr_out``) as axes of their own.

:func:`resolve_task` accepts a :class:`Task`, a registry name, a 1-D preset
name or a formula in x (or in x and y).
"""

from __future__ import annotations

from functools import lru_cache, partial

import jax
import jax.numpy as jnp
import numpy as np

from l2l_core.expr import compile_expression_xy, formula_variables, normalize, problem_from_formula
from l2l_core.inner.axes import lr_axis
from l2l_core.tasks.base import Task
from l2l_core.tasks.fractal_networks import SPECS as FRACTAL_SPECS
from l2l_core.tasks.fractal_networks import fractal_probe_task
from l2l_core.tasks.mlp import MLP_TASKS, mlp_task
from l2l_core.tasks.problems import PROBLEMS, InnerProblem, canonical_name


def _from_problem(p: InnerProblem) -> Task:
    return Task(name=p.name, title=p.title, description=p.description,
                init=lambda seed: np.float64(-4.0), value_and_grad=p.value_and_grad, dim=1,
                problem=p, domain=(p.x_range,), formula=p.formula)


def _xy_task(name, title, description, f, x0, domain, formula) -> Task:
    def loss(params):
        return f(params[0], params[1])

    return Task(name=name, title=title, description=description,
                init=lambda seed: (np.float64(x0[0]), np.float64(x0[1])),
                value_and_grad=jax.value_and_grad(loss), dim=2, domain=domain, formula=formula)


def _rosenbrock(x, y):
    return (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2


def _beale(x, y):
    return ((1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2
            + (2.625 - x + x * y * y * y) ** 2)


def _himmelblau(x, y):
    return (x * x + y - 11.0) ** 2 + (x + y * y - 7.0) ** 2


# -- a small network ------------------------------------------------------------

#: Width, input size and number of examples of the small tanh network.
NET_WIDTH, NET_INPUTS, NET_EXAMPLES = 8, 8, 16


def _net_arrays(seed: int) -> dict[str, np.ndarray]:
    """The network's data and initial weights, drawn from ``seed`` (numpy, float64)."""
    rng = np.random.default_rng(seed)
    return dict(
        task_inputs=rng.standard_normal((NET_EXAMPLES, NET_INPUTS)),
        task_targets=rng.standard_normal((NET_EXAMPLES, 1)),
        task_init_0=rng.standard_normal((NET_WIDTH, NET_INPUTS)) / np.sqrt(NET_INPUTS),
        task_init_1=rng.standard_normal((1, NET_WIDTH)) / np.sqrt(NET_WIDTH),
    )


def net_loss(params, inputs, targets):
    """Mean squared error of y = W1 tanh(W0 x) over the full batch."""
    w0, w1 = params
    pred = jnp.tanh(inputs @ w0.T) @ w1.T
    return jnp.mean((pred - targets) ** 2)


@lru_cache(maxsize=16)
def tanh_net_task(seed: int = 0) -> Task:
    """A two-layer tanh network on Gaussian data (full batch, MSE), per-layer learning rates."""
    arrays = _net_arrays(seed)
    inputs, targets = arrays["task_inputs"], arrays["task_targets"]

    def loss(params):
        dtype = params[0].dtype
        return net_loss(params, jnp.asarray(inputs, dtype), jnp.asarray(targets, dtype))

    return Task(
        name="tanh_net", title="two-layer tanh network",
        description=f"y = W1 tanh(W0 x), {NET_INPUTS} inputs, {NET_WIDTH} hidden units, "
        f"{NET_EXAMPLES} Gaussian examples, MSE; each layer has its own learning rate.",
        init=lambda _seed: (arrays["task_init_0"], arrays["task_init_1"]),
        value_and_grad=jax.value_and_grad(loss), dim=NET_WIDTH * NET_INPUTS + NET_WIDTH,
        axes={"lr_in": lr_axis("lr_in", (-3.0, 1.0), "log10 lr_in"),
              "lr_out": lr_axis("lr_out", (-3.0, 1.0), "log10 lr_out")},
        labels=("lr_in", "lr_out"), data=arrays)


TASKS: dict[str, Task] = {name: _from_problem(p) for name, p in PROBLEMS.items()}
TASKS.update({t.name: t for t in (
    _xy_task("rosenbrock", "Rosenbrock's valley", "(1-x)^2 + 100 (y-x^2)^2 from (-1.2, 1): a narrow "
             "curved valley with its minimum 0 at (1, 1).", _rosenbrock, (-1.2, 1.0),
             ((-2.0, 2.0), (-1.0, 3.0)), "(1 - x)**2 + 100*(y - x**2)**2"),
    _xy_task("beale", "Beale's function", "Flat plateaus and steep walls; minimum 0 at (3, 0.5), "
             "from (1, 1).", _beale, (1.0, 1.0), ((-4.5, 4.5), (-4.5, 4.5)),
             "(1.5 - x + x*y)**2 + (2.25 - x + x*y**2)**2 + (2.625 - x + x*y**3)**2"),
    _xy_task("himmelblau", "Himmelblau's function", "Four minima of value 0; which one a run ends "
             "in splits the landscape into basins. From (0, 0).", _himmelblau, (0.0, 0.0),
             ((-5.0, 5.0), (-5.0, 5.0)), "(x**2 + y - 11)**2 + (x + y**2 - 7)**2"),
    tanh_net_task(0),
)})
#: Tasks whose parameters are a network's weights (seed-dependent).
def _layer_sizes(m) -> list[int]:
    return [a * b + (b if m.biases else 0) for a, b in m.shapes]


@lru_cache(maxsize=16)
def mlp_network_task(name: str, seed: int = 0) -> Task:
    """A full-batch digits MLP of :mod:`~l2l_core.tasks.mlp` as a Task: one parameter leaf per
    layer (its W then its b, flat), the output layer moved by ``lr_out`` and every other
    layer by ``lr_in``; ``seed`` draws the initial weights (the data is the training split)."""
    m = mlp_task(name)
    parts = tuple(np.split(m.init(int(seed)), np.cumsum(_layer_sizes(m))[:-1]))
    n_layers = len(parts)

    def loss(params):
        return m.loss(jnp.concatenate(params))

    return Task(
        name=name, title=MLP_TASKS[name]["title"],
        description=MLP_TASKS[name]["description"] + f" {m.n_params} parameters; each run is costly on a CPU "
        "(a 32 x 32 map of 50 steps is tens of seconds).",
        init=lambda _seed: parts, value_and_grad=jax.value_and_grad(loss), dim=m.n_params,
        axes={"lr_in": lr_axis("lr_in", (-3.0, 1.0), "log10 lr_in (every layer but the last)"),
              "lr_out": lr_axis("lr_out", (-3.0, 1.0), "log10 lr_out (the output layer)")},
        labels=tuple("lr_out" if i == n_layers - 1 else "lr_in" for i in range(n_layers)),
        data={**m.arrays(), "task_init": m.init(int(seed))})


#: Tasks whose parameters are a network's weights, drawn from a seed: name -> seed -> Task.
NETWORK_TASKS = {"tanh_net": tanh_net_task,
                 **{name: partial(mlp_network_task, name) for name in MLP_TASKS}}

DEFAULT_TASK = "log_sin"
#: Where a typed formula in x and y starts (change it with x0).
FORMULA_XY_START = (1.0, 1.0)


@lru_cache(maxsize=128)
def _formula_task(text: str) -> Task:
    if "y" not in formula_variables(text):
        return _from_problem(problem_from_formula(text))
    f = compile_expression_xy(text)
    shown = text  # already in normal form
    return _xy_task(shown, f"f(x, y) = {shown}", f"A typed formula: f(x, y) = {shown}, from "
                    f"{FORMULA_XY_START}.", f, FORMULA_XY_START, ((-5.0, 5.0), (-5.0, 5.0)), shown)


def resolve_task(task, seed: int = 0) -> Task:
    """A :class:`Task` from itself, a registry name (a trainability-fractal network's full-batch
    learning-rate variants included, width 16, drawn from ``seed``), or a formula in x (or x and y).

    Raises:
      ValueError: neither a task name nor a valid formula; the message says both.
    """
    if isinstance(task, Task):
        return task
    if isinstance(task, InnerProblem):
        return _from_problem(task)
    if not isinstance(task, str):
        raise ValueError(f"task must be a name, a formula or a Task, got {type(task).__name__}")
    task = canonical_name(task)
    if task in NETWORK_TASKS:
        return NETWORK_TASKS[task](int(seed))
    if task in FRACTAL_SPECS:  # a trainability-fractal network at the paper's width (its full-batch lr variants)
        return fractal_probe_task(task, int(seed))
    if task in TASKS:
        return TASKS[task]
    try:
        return _formula_task(normalize(task, ("x", "y")))  # one Task (one jitted kernel) per formula
    except ValueError as e:
        shown = task if len(task) <= 60 else task[:57] + "..."
        raise ValueError(f"{shown!r} is not a task ({', '.join(TASKS)}) and not a valid formula in x "
                         f"(or x and y): {e}") from None
