"""Stability thresholds against closed forms, and the edge on a map."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from l2l_core.probe import thresholds as th


def test_closed_forms():
    assert th.threshold("sgd", {"lr": 0.1, "momentum": 0.0}) == (pytest.approx(20.0), "sharpness")
    assert th.threshold("sgd", {"lr": 0.1, "momentum": 0.9})[0] == pytest.approx(38.0)
    assert th.threshold("nesterov", {"lr": 0.1, "momentum": 0.9})[0] == pytest.approx(3.8 / 2.8 / 0.1)
    assert th.threshold("nesterov", {"lr": 0.1, "momentum": 0.0})[0] == pytest.approx(20.0)
    assert th.threshold("adam", {"lr": 0.01, "b1": 0.9}) == (pytest.approx(3800.0), "precond_sharpness")
    assert th.threshold("rmsprop", {"lr": 0.01})[0] == pytest.approx(200.0)
    same = th.threshold("sgd", {"lr": 1.0, "momentum": 0.5, "lr_in": 0.2, "lr_out": 0.2}, ("lr_in", "lr_out"))
    assert same == (pytest.approx(15.0), "sharpness")
    per_layer = th.threshold("sgd", {"lr": 1.0, "momentum": 0.5, "lr_in": 0.2, "lr_out": 0.1}, ("lr_in", "lr_out"))
    assert per_layer == (pytest.approx(3.0), "precond_sharpness")
    with pytest.raises(ValueError, match="no stability threshold"):
        th.threshold("lion", {"lr": 0.1})
    with pytest.raises(ValueError, match="momentum must lie"):
        th.threshold("sgd", {"lr": 0.1, "momentum": 1.0})


@pytest.mark.parametrize("optimizer", ["sgd", "nesterov"])
@pytest.mark.parametrize("momentum", [0.0, 0.5, 0.9])
def test_momentum_thresholds_numerically(optimizer, momentum):
    """optax's update on the quadratic lambda x^2 / 2 converges just below the threshold, not just above."""
    import optax

    lr = 0.1
    lam = th.momentum_factor(optimizer, momentum) / lr

    def converges(curv):
        tx = optax.sgd(lr, momentum=momentum, nesterov=optimizer == "nesterov")
        x, state = np.float64(1.0), None
        state = tx.init(x)
        for _ in range(3000):
            u, state = tx.update(curv * x, state)
            x = x + u
        return abs(float(x)) < 1e-3

    assert converges(0.97 * lam)
    assert not converges(1.03 * lam)
    assert th.nesterov_check(lr, momentum, 0.97 * th.momentum_factor("nesterov", momentum) / lr)


def test_edge_on_a_quadratic_is_the_closed_form():
    xs, ys = np.linspace(-3, 1, 41), np.linspace(-2, 0, 9)  # log10 lr, log10(1 - m)
    edge = th.stability_edge("x**2 + 3*y**2", "sgd", "lr", "momentum", xs, ys)
    m = 1 - 10.0 ** ys
    np.testing.assert_allclose(edge, np.log10(2 * (1 + m) / 6.0), rtol=1e-9)
    nes = th.stability_edge("x**2 + 3*y**2", "nesterov", "lr", "momentum", xs, ys)
    np.testing.assert_allclose(nes, np.log10((2 + 2 * m) / (1 + 2 * m) / 6.0), rtol=1e-9)
    off = th.stability_edge("x**2 + 3*y**2", "sgd", "lr", "momentum", np.linspace(0.5, 1, 5), ys)
    assert np.all(np.isnan(off))


def test_edge_matches_gradient_descent_on_the_quadratic():
    """Along the predicted edge: a run just left of it converges, just right of it diverges."""
    ys = np.array([-1.0, -0.3])
    edge = th.stability_edge("x**2 + 3*y**2", "sgd", "lr", "momentum", np.linspace(-3, 1, 5), ys)
    import optax

    for log_lr, y in zip(edge, ys):
        for factor, ok in ((0.97, True), (1.03, False)):
            tx = optax.sgd(factor * 10.0 ** log_lr, momentum=1 - 10.0 ** y)
            p = jnp.array([1.0, 1.0])
            s = tx.init(p)
            for _ in range(2000):
                u, s = tx.update(jnp.array([2.0, 6.0]) * p, s)
                p = p + u
            assert (float(jnp.max(jnp.abs(p))) < 1e-2) == ok


def test_per_layer_edge_solves_lambda_max_of_ph():
    from l2l_core.probe.run import flat_task, resolve

    xs, ys = np.linspace(-3, 2, 11), np.linspace(-3, 1, 5)
    edge = th.stability_edge("tanh_net", "sgd", "lr_in", "lr_out", xs, ys, fixed={"momentum": 0.5})
    flat, loss, sizes = flat_task(resolve("tanh_net"), 0)
    with jax.enable_x64(True):
        h = np.asarray(jax.hessian(loss)(jnp.asarray(flat)), np.float64)
    hit = 0
    for log_in, y in zip(edge, ys):
        if math.isnan(log_in):
            continue
        hit += 1
        p = np.sqrt(np.concatenate([np.full(sizes[0], 10.0 ** log_in), np.full(sizes[1], 10.0 ** y)]))
        lam = np.linalg.eigvalsh(p[:, None] * h * p[None, :])[-1]
        assert lam == pytest.approx(2 * 1.5, rel=1e-6)
    assert hit >= 2


def test_edge_refusals():
    with pytest.raises(ValueError, match="no stability line"):
        th.stability_edge("log_sin", "adam", "lr", "b1", [0, 1], [0, 1])
    with pytest.raises(ValueError, match="no stability line"):
        th.stability_edge("log_sin", "sgd", "momentum", "lr", [0, 1], [0, 1])
    with pytest.raises(ValueError, match="non-empty and finite"):
        th.stability_edge("log_sin", "sgd", "lr", "momentum", [np.nan], [0.0])
    with pytest.raises(ValueError, match="unknown inner optimizer"):
        th.stability_edge("log_sin", "sgdd", "lr", "momentum", [0.0], [0.0])


def test_per_layer_edge_on_a_digits_network():
    """digits_mlp (1510 parameters): the edge from the table of rate ratios puts lambda_max(P H) at 2 (1 + m)."""
    from l2l_core.probe.curvature import hvp, lanczos_top
    from l2l_core.probe.run import flat_task, resolve

    ys = np.array([-1.0, 0.0])
    edge = th.stability_edge("digits_mlp", "sgd", "lr_in", "lr_out", np.linspace(-2, 3, 6), ys, fixed={"momentum": 0})
    flat, loss, _ = flat_task(resolve("digits_mlp"), 0)
    n_in = 64 * 20 + 20
    assert np.isfinite(edge).sum() >= 1
    for log_in, y in zip(edge, ys):
        if math.isnan(log_in):
            continue
        d = jnp.sqrt(jnp.concatenate([jnp.full(n_in, 10.0 ** log_in), jnp.full(flat.size - n_in, 10.0 ** y)]))
        theta = jnp.asarray(flat, jnp.float32)
        lam = float(lanczos_top(lambda v, d=d, theta=theta: d * hvp(loss, theta, d * v), jnp.ones(flat.size), k=1,
                                iters=60)[0][0])
        assert lam == pytest.approx(2.0, rel=0.02)
