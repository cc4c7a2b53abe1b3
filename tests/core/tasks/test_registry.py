"""The one registry of tasks: every kind's table is in it, a name means one thing, and every
task of the maps (the digits MLPs included) runs on the general landscape."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from l2l_core import tasks
from l2l_core.landscape.general import chunk_cols, default_axes, hyper_grid
from l2l_core.tasks import families, fractal_networks, mlp, problems
from l2l_core.tasks import general as functions


def test_every_kind_table_is_in_the_one_registry():
    reg = tasks.registry()
    tables = {"problems": problems.PROBLEMS, "functions": functions.TASKS, "mlp": mlp.MLP_TASKS,
              "fractal": fractal_networks.SPECS, "families": families.TASK_FAMILIES}
    for where, table in tables.items():
        missing = set(table) - set(reg)
        assert not missing, (where, missing)
    assert set(reg) == set().union(*tables.values())
    assert tasks.get("fractal_tanh").fast_path == "fractal_grid"
    assert tasks.get("log_sin").fast_path == "sgd_momentum_grid+sincos"
    # a family, or any task of the maps as a family of one
    assert set(tasks.names("learned")) == set(families.TASK_FAMILIES) | set(tasks.names("landscape"))
    assert set(tasks.names("fractal")) == set(fractal_networks.SPECS)
    with pytest.raises(ValueError, match="unknown task 'nope'"):
        tasks.get("nope")
    with pytest.raises(ValueError, match="unknown role"):
        tasks.names("everything")


def test_a_name_in_two_tables_is_the_same_network():
    """digits_mlp is the learned optimizer's family and, full batch, a task of the maps: one network."""
    shared = set(mlp.MLP_TASKS) & set(families.TASK_FAMILIES)
    assert shared == {"digits_mlp"}
    spec = families.TASK_FAMILIES["digits_mlp"].sample(jax.random.PRNGKey(0), 1).spec
    task = mlp.MLP_TASKS["digits_mlp"]
    assert (spec.dataset, tuple(spec.hidden), spec.activation) == ("digits", (20,), "sigmoid")
    assert task["layer_sizes"] == (64, 20, 10) and task["activation"] == "sigmoid"
    assert task["loss_kind"] == "cross_entropy"
    assert set(tasks.get("digits_mlp").roles) == {"landscape", "learned"}
    assert families.get_family("digits_mlp").kind == "network"  # the minibatch family, not a family of one
    # and the two quadratics are two names now
    assert tasks.get("parabola").kind == "function" and tasks.get("quadratic").kind == "family"


@pytest.mark.parametrize("name", tasks.names("landscape"))
def test_every_map_task_draws_a_small_map(name):
    x, y = default_axes(name, "sgd")
    z = hyper_grid(name, "sgd", x, y, [-2.0, -1.0], [-2.0, -1.5], inner_steps=3)
    assert z.shape == (2, 2) and np.isfinite(z).all()


def _gd_reference(name, lr_in, lr_out, steps):
    """Plain gradient descent with per-layer rates, a Python loop over jax.grad of the task's own
    flat loss (not the grid's kernel)."""
    m = mlp.mlp_task(name)
    theta = jnp.asarray(m.init(0), jnp.float32)
    rates = np.concatenate([np.full(n, lr_out if i == len(m.shapes) - 1 else lr_in, np.float32)
                            for i, n in enumerate(a * b + b for a, b in m.shapes)])
    grad = jax.jit(jax.value_and_grad(m.loss))
    losses = []
    for _ in range(steps):
        value, g = grad(theta)
        losses.append(float(value))
        theta = theta - rates * g
    return np.mean(losses)


@pytest.mark.parametrize("name", ["digits_mlp", "digits_fc_tanh"])
def test_the_digits_networks_on_the_map_are_gradient_descent_per_layer(name):
    lr_in, lr_out = np.log10([0.5, 0.05]), np.log10([0.2, 1.0])
    z = hyper_grid(name, "sgd", "lr_in", "lr_out", lr_in, lr_out, inner_steps=6, fixed={"momentum": 0.0})
    for i, b in enumerate(lr_out):
        for j, a in enumerate(lr_in):
            np.testing.assert_allclose(z[i, j], _gd_reference(name, 10**a, 10**b, 6), rtol=2e-4)


def test_costly_tasks_take_small_chunks():
    cheap, costly = functions.resolve_task("tanh_net"), functions.resolve_task("digits_mlp")
    assert chunk_cols(cheap, 16) == 4096  # one bucket: no recompiles for the cheap tasks
    assert chunk_cols(costly, 10**6) == 32 and chunk_cols(costly, 4) == 8
    assert all(c & (c - 1) == 0 for c in (chunk_cols(costly, n) for n in range(1, 200)))  # few shapes


@pytest.mark.parametrize("name", ["fractal_tanh", "fractal_relu", "fractal_linear", "fractal_single"])
def test_the_fractal_kernel_is_a_fast_path_of_the_general_one(name):
    """A trainability-fractal network is a task of the maps: its hand-written kernel (plain gradient
    descent, one rate per layer) and the general optax path (SGD with momentum 0) on the same Task give
    the same map, summary by summary, diverged cells included."""
    from l2l_core.landscape import fractal, general
    from l2l_core.tasks.fractal_networks import make_task

    assert "landscape" in tasks.get(name).roles and tasks.get(name).fast_path == "fractal_grid"
    xs, ys = np.array([-1.0, 0.0, 0.5, 1.5]), np.array([-1.0, 0.3, 1.0, 2.0])
    for summary in ("mean", "final", "converge"):
        fast = fractal.fractal_grid(xs, ys, task=make_task(name, seed=0), inner_steps=30, summary=summary)
        slow = general.hyper_grid(name, "sgd", "lr_in", "lr_out", xs, ys, inner_steps=30, summary=summary,
                                  fixed={"momentum": 0.0})
        np.testing.assert_array_equal(np.isnan(fast), np.isnan(slow))
        np.testing.assert_allclose(slow, fast, rtol=5e-4, atol=1e-6, equal_nan=True)


def test_the_fractal_variants_without_two_rates_are_not_tasks_of_the_maps():
    for name in ("fractal_minibatch", "fractal_offset"):
        assert "landscape" not in tasks.get(name).roles
        with pytest.raises(ValueError, match="not a task of the maps"):
            functions.resolve_task(name)
