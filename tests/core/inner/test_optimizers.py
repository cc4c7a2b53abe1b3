"""The inner-optimizer and task registries: one contract test per entry, the fast-pow adapter."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from l2l_core.expr import compile_expression_xy, formula_variables
from l2l_core.inner.axes import UNITS
from l2l_core.inner.fastpow import fast_pow, with_fast_pow
from l2l_core.inner.optimizers import LOG10, OPTIMIZERS, check_fixed, get_optimizer
from l2l_core.tasks.general import TASKS, resolve_task


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_contract(name):
    o = OPTIMIZERS[name]
    assert list(o.axes)[0] == "lr" and set(o.axes) == set(o.defaults)
    for axis in o.axes.values():
        assert axis.unit in UNITS and axis.default_range[0] < axis.default_range[1]
        v = o.defaults[axis.name]
        assert axis.to_value(axis.to_display(v)) == pytest.approx(v, rel=1e-12)
    tx = o.build(**o.defaults)
    params = jnp.ones(3)
    upd, _ = tx.update(jnp.ones(3), tx.init(params), params)
    assert upd.shape == (3,) and bool(jnp.all(upd < 0))  # a descent step on a positive gradient


def test_units_are_the_posts():
    assert OPTIMIZERS["sgd"].axes["momentum"].to_value(-1.0) == pytest.approx(0.9)
    assert OPTIMIZERS["adam"].axes["b2"].to_display(0.999) == pytest.approx(-3.0)
    assert OPTIMIZERS["adamw"].axes["weight_decay"].unit == LOG10
    with pytest.raises(ValueError, match="b1 < 1"):
        OPTIMIZERS["adam"].axes["b1"].to_display(1.0)


def test_fixed_values_are_checked():
    assert check_fixed(get_optimizer("adam"), {"eps": 1e-6})["eps"] == 1e-6
    for bad, words in (({"nope": 1}, "no hyperparameter"), ({"lr": 0}, "lr"), ({"b1": 1.0}, "b1"),
                       ({"b1": "x"}, "number"), ({"eps": float("inf")}, "finite")):
        with pytest.raises(ValueError, match=words):
            check_fixed(get_optimizer("adam"), bad)
    with pytest.raises(ValueError, match="choose one of"):
        get_optimizer("lion")


def test_fast_pow_agrees_with_pow():
    x = np.array([-2, -2, -2, -0.5, 0, 0, 0, 3, 0.999, 0.9, -1.5, 2, 0.5], np.float32)
    y = np.array([3, 2, 0.5, 5, 0, 2, -1, 0.5, 1000, 7, 0, -2, 30], np.float32)
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(np.asarray(fast_pow(x, y)), np.power(x, y), rtol=2e-6)


def test_adam_update_through_the_adapter_is_optax_s():
    tx = optax.adamw(0.01, b1=0.8, b2=0.99, weight_decay=0.1)
    params = (jnp.array([1.0, -2.0]), jnp.array(0.5))
    state = tx.init(params)
    fast = jax.jit(with_fast_pow(tx.update))
    for g in ((jnp.array([0.3, -1.0]), jnp.array(2.0)), (jnp.array([0.1, 0.4]), jnp.array(-1.0))):
        a, s_a = tx.update(g, state, params)
        b, s_b = fast(g, state, params)
        for u, v in zip(jax.tree_util.tree_leaves((a, s_a)), jax.tree_util.tree_leaves((b, s_b))):
            np.testing.assert_allclose(np.asarray(v), np.asarray(u), rtol=1e-6)
        state = s_a


def test_optax_adam_still_computes_a_power():
    # The adapter exists because optax's bias correction is decay**count; if that
    # changes, this fails and the adapter can go.
    tx = optax.adam(0.1, b1=jnp.float32(0.9))
    jaxpr = jax.make_jaxpr(tx.update)(jnp.ones(2), tx.init(jnp.ones(2)), jnp.ones(2))
    assert "pow" in str(jaxpr)


@pytest.mark.parametrize("name", list(TASKS))
def test_task_contract(name):
    t = TASKS[name]
    params = t.init(0)
    value, grad = t.value_and_grad(jax.tree_util.tree_map(jnp.asarray, params))
    assert np.isfinite(float(value))
    assert sum(np.size(g) for g in jax.tree_util.tree_leaves(grad)) == t.dim
    assert (t.problem is not None) == (t.dim == 1 and t.labels is None)


@pytest.mark.parametrize("name, point, value", [
    ("rosenbrock", (1.0, 1.0), 0.0), ("rosenbrock", (-1.2, 1.0), 24.2), ("beale", (3.0, 0.5), 0.0),
    ("himmelblau", (3.0, 2.0), 0.0), ("himmelblau", (0.0, 0.0), 170.0),
])
def test_two_dimensional_functions(name, point, value):
    v, g = TASKS[name].value_and_grad(tuple(jnp.float32(p) for p in point))
    assert float(v) == pytest.approx(value, abs=1e-4)
    if value == 0.0:
        assert np.allclose([float(g[0]), float(g[1])], 0.0, atol=1e-4)


def test_formulas_in_x_and_y():
    f = compile_expression_xy("sin(x)*cos(y) + 0.1*(x**2 + y**2)")
    x, y = np.linspace(-2, 2, 5), np.linspace(3, -1, 5)
    np.testing.assert_allclose(np.asarray(f(x, y)), np.sin(x) * np.cos(y) + 0.1 * (x**2 + y**2), rtol=1e-6)
    assert formula_variables("x*y") == ("x", "y") and formula_variables("x**2") == ("x",)
    assert resolve_task("x*y + y**2").dim == 2 and resolve_task("x**2").problem is not None
    assert resolve_task("x*y+y**2") is resolve_task("x*y + y**2")  # one task (one kernel) per formula
    for bad in ("x + z", "__import__('os')", "y.real", "x if y else 1"):
        with pytest.raises(ValueError):
            resolve_task(bad)
    with pytest.raises(ValueError, match="x and y"):
        compile_expression_xy("x + z")
