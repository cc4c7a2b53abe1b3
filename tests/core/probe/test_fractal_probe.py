"""The trainability-fractal networks opened as a pixel: the probe's loss, rates, run and stability line
against l2l_core.landscape.fractal's own forward pass and grid."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from l2l_core.landscape import fractal
from l2l_core.probe.flat import flat_task, layer_rates, resolve
from l2l_core.probe.run import inspect_run
from l2l_core.probe.thresholds import stability_edge
from l2l_core.tasks.fractal_networks import make_task, network_loss, probe_names, supported

LR_NAMES = ("fractal_tanh", "fractal_relu", "fractal_linear", "fractal_single")


def test_probe_names_are_the_full_batch_lr_networks():
    assert set(probe_names()) == set(LR_NAMES)


@pytest.mark.parametrize("name, why", [("fractal_minibatch", "minibatch"), ("fractal_offset", "offset")])
def test_minibatch_and_offset_refused_with_reason(name, why):
    assert why in supported(name)
    with pytest.raises(ValueError, match=why):
        resolve(name)
    with pytest.raises(ValueError, match=why):
        inspect_run(name, "sgd", {"lr_in": 1.0, "lr_out": 1.0, "momentum": 0.0}, steps=2)


@pytest.mark.parametrize("name", LR_NAMES)
def test_flat_loss_and_gradient_equal_the_fractal_kernels(name):
    net = make_task(name, seed=3)
    t = resolve(name, 3)
    labels, sizes = layer_rates(t)
    assert labels == ("lr_in", "lr_out") and sizes == (256, 16)
    flat, loss, _ = flat_task(t, 3)
    w1, w2 = net.init
    np.testing.assert_array_equal(flat, np.concatenate([w1.ravel(), w2.ravel()]))
    rng = np.random.default_rng(1)
    with jax.enable_x64(True):
        xs = net.inputs * fractal.input_scale(net.spec.activation, net.width)
        for _ in range(3):  # the start and two random weight sets
            a = w1 + 0.3 * rng.standard_normal(w1.shape)
            b = w2 + 0.3 * rng.standard_normal(w2.shape)
            theta = jnp.asarray(np.concatenate([a.ravel(), b.ravel()]))
            value, grad = jax.value_and_grad(loss)(theta)
            ref = fractal._loss_grads(jnp.asarray(xs), jnp.asarray(net.targets[:, 0]), jnp.asarray(a)[None],
                                      jnp.asarray(b[:, 0])[None], net.spec.activation)
            auto = fractal._loss_grads_autodiff(jnp.asarray(xs), jnp.asarray(net.targets[:, 0]),
                                                jnp.asarray(a)[None], jnp.asarray(b[:, 0])[None],
                                                net.spec.activation)
            np.testing.assert_allclose(float(value), float(ref[0][0]), rtol=1e-12)
            np.testing.assert_allclose(float(value), float(auto[0][0]), rtol=1e-12)
            np.testing.assert_allclose(np.asarray(grad[:256]), np.asarray(ref[1][0]).ravel(), rtol=1e-9, atol=1e-14)
            np.testing.assert_allclose(np.asarray(grad[256:]), np.asarray(ref[2][0]), rtol=1e-9, atol=1e-14)
            direct = network_loss((jnp.asarray(a), jnp.asarray(b)), jnp.asarray(xs), jnp.asarray(net.targets),
                                  net.spec.activation)
            np.testing.assert_allclose(float(direct), float(value), rtol=1e-14)


def _converge(losses, steps):
    """The map's convergence measure from a probe run's loss curve (each loss before its update)."""
    loss = np.asarray(losses[:steps], np.float64)
    loss0 = loss[0]
    v = np.minimum(np.where(np.isfinite(loss), loss, fractal.V_CAP) / loss0, fractal.V_CAP)
    return -v.sum() if v[-fractal.CONVERGE_WINDOW:].mean() < 1 else (1 / v).sum()


@pytest.mark.parametrize("name", ["fractal_tanh", "fractal_relu"])
def test_inspect_run_is_the_maps_pixel_on_both_sides_of_the_edge(name):
    steps = 60
    xs = np.linspace(-1.0, 4.0, 11)
    ys = np.linspace(-1.0, 4.0, 5)
    z = fractal.fractal_summaries(xs, ys, task=name, inner_steps=steps)
    sign = np.sign(z["converge"])
    # cells whose row neighbours share their phase (no chaotic edge cells compared)
    calm = [(i, j) for i in range(len(ys)) for j in range(1, len(xs) - 1)
            if sign[i, j - 1] == sign[i, j] == sign[i, j + 1]]
    trained = [c for c in calm if sign[c] < 0][::3]
    diverged = [c for c in calm if sign[c] > 0][::3]
    assert len(trained) >= 2 and len(diverged) >= 2, sign
    for i, j in trained + diverged:
        hp = {"lr_in": 10.0 ** xs[j], "lr_out": 10.0 ** ys[i], "momentum": 0.0}
        out = inspect_run(name, "sgd", hp, steps=steps, sharpness_every=steps)
        c = _converge(out["loss"], steps)
        assert np.sign(c) == sign[i, j], (i, j, c, z["converge"][i, j])
        if sign[i, j] < 0:
            np.testing.assert_allclose(out["loss"][-1], z["final"][i, j], rtol=2e-2)  # float32 rounding, amplified
            np.testing.assert_allclose(c, z["converge"][i, j], rtol=2e-2)
        else:
            assert not np.isfinite(z["final"][i, j]) or not out["loss"][-1] < out["loss"][0]
        assert out["meta"]["task"] == name and out["params"].shape[1] == 272


def test_stability_edge_draws_a_line_for_the_papers_network():
    xs = np.linspace(-3.0, 6.0, 64)
    ys = np.linspace(-3.0, 6.0, 7)
    edge = stability_edge("fractal_tanh", "sgd", "lr_in", "lr_out", xs, ys, fixed={"momentum": 0.0})
    assert edge.shape == ys.shape
    assert np.isfinite(edge).sum() >= 3
    ok = np.isfinite(edge)
    assert np.all((edge[ok] >= xs[0]) & (edge[ok] <= xs[-1]))
    # a larger lr_out leaves less room for lr_in
    assert np.all(np.diff(edge[ok]) <= 1e-9)
