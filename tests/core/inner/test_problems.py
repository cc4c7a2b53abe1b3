import jax
import jax.numpy as jnp
import numpy as np
import pytest

from l2l_core.inner.unroll import sgd_momentum_unroll
from l2l_core.tasks.problems import PROBLEMS, get_problem
from tests.reference import NUMPY_PROBLEMS

XS = np.linspace(-4.5, 4.5, 37)


def test_registry_has_the_post_default_and_three_more():
    assert "log_sin" in PROBLEMS and len(PROBLEMS) >= 4
    assert set(PROBLEMS) == set(NUMPY_PROBLEMS)
    for p in PROBLEMS.values():
        assert p.description and p.title and p.x_range[0] < p.x_range[1]


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_value_and_gradient_match_closed_form(name):
    p = PROBLEMS[name]
    f, df = NUMPY_PROBLEMS[name]
    value, grad = jax.vmap(p.value_and_grad)(jnp.asarray(XS, jnp.float32))
    np.testing.assert_allclose(value, f(XS), rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(grad, df(XS), rtol=2e-4, atol=2e-4)
    # The fused gradient agrees with autodiff of the loss.
    auto = jax.vmap(jax.grad(p.loss))(jnp.asarray(XS, jnp.float32))
    np.testing.assert_allclose(grad, auto, rtol=1e-4, atol=1e-4)


def test_post_minima():
    f = PROBLEMS["log_sin"].loss
    xs = jnp.linspace(-5, 5, 20001)
    ys = np.asarray(f(xs))
    i = int(np.argmin(ys))
    assert abs(float(xs[i]) + 0.5) < 0.1 and ys[i] < 0.1  # global min near -0.5, value ~0
    right = xs > 0.5
    j = int(np.argmin(np.where(right, ys, np.inf)))
    assert abs(float(xs[j]) - 1.5) < 0.35 and 1.8 < ys[j] < 2.3  # local min near 1.5, value ~2


def test_unknown_problem_lists_choices():
    with pytest.raises(ValueError, match="log_sin"):
        get_problem("nope")


def test_one_step_by_hand():
    u = sgd_momentum_unroll("log_sin", x0=-4.0, lr=0.1, momentum=0.9, steps=2)
    f, df = NUMPY_PROBLEMS["log_sin"]
    v1 = df(-4.0)
    x1 = -4.0 - 0.1 * v1
    v2 = 0.9 * v1 + df(x1)
    x2 = x1 - 0.1 * v2
    np.testing.assert_allclose(u.xs, [-4.0, x1, x2], rtol=1e-5)
    np.testing.assert_allclose(u.losses, [f(-4.0), f(x1)], rtol=1e-5)


def test_post_default_run_visits_global_then_settles_in_local_minimum():
    u = sgd_momentum_unroll()  # x0=-4, lr=0.1, momentum=0.9, 50 steps
    assert len(u.xs) == 51 and len(u.losses) == 50
    assert (np.abs(u.xs + 0.5) < 0.5).any()  # passes through the global minimum's basin
    assert abs(u.xs[-1] - 1.5) < 0.5  # ends near the local minimum
    assert np.min(u.losses) < 1.5 < u.losses[-1]


@pytest.mark.parametrize("kwargs, match", [
    (dict(steps=0), "steps"), (dict(steps=10**6), "steps"), (dict(steps=2.5), "integer"),
    (dict(lr=float("nan")), "learning rate"), (dict(x0=float("inf")), "x0"),
    (dict(momentum="a"), "momentum"),
])
def test_unroll_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sgd_momentum_unroll(**kwargs)


def test_divergence_is_data_not_an_exception():
    u = sgd_momentum_unroll("parabola", x0=1.0, lr=10.0, momentum=0.9, steps=200)
    assert not np.isfinite(u.xs[-1])


def test_the_earlier_name_quadratic_still_opens_the_parabola():
    """x²/2 was called "quadratic", the name the learned optimizer's random quadratics keep:
    old links and scripts that say problem=quadratic get the parabola."""
    from l2l_core.inner.unroll import resolve_problem
    from l2l_core.tasks.general import resolve_task

    assert get_problem("quadratic") is PROBLEMS["parabola"]
    assert resolve_problem("quadratic") is PROBLEMS["parabola"]
    assert resolve_task("quadratic").name == "parabola"
    assert "quadratic" not in PROBLEMS


def test_the_cli_takes_the_earlier_name(tmp_path, capsys):
    from l2l_core.cli import main

    assert main(["grid", "--problem", "quadratic", "--res", "4", "--steps", "5", "--out", str(tmp_path / "q.npz")]) == 0
    assert main(["grid", "--problem", "parabola", "--res", "4", "--steps", "5", "--out", str(tmp_path / "p.npz")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "q.npz")["loss"], np.load(tmp_path / "p.npz")["loss"])
