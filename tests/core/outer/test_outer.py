"""Outer optimizers, estimators, local shifts and deep zoom: checked against
finite differences, sampling error and the post's story."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from l2l_core import landscape, outer
from l2l_core.landscape import zoom

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("method", list(outer.METHODS))
def test_shapes_and_losses_are_the_landscape_at_the_iterates(method):
    traj, losses = outer.run_outer(method, (-1.5, -0.5), 20, seed=1, problem="parabola")
    assert traj.shape == (21, 2) and losses.shape == (20,)
    assert traj.dtype == np.float32 and np.isfinite(traj).all()
    want = outer.outer_loss_at(traj[:-1], problem="parabola")
    np.testing.assert_allclose(losses, want, rtol=1e-5)


@pytest.mark.parametrize("method", ["es", "pes", "random"])
def test_same_seed_same_trajectory_other_seed_differs(method):
    a, la = outer.run_outer(method, (-2.0, -0.5), 200, seed=3)
    b, lb = outer.run_outer(method, (-2.0, -0.5), 200, seed=3)
    c, _ = outer.run_outer(method, (-2.0, -0.5), 200, seed=4)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)
    assert not np.array_equal(a, c)


def _fd_grad(point, h=1e-3, **problem):
    p = np.asarray(point, np.float64)
    pts = [p + [h, 0], p - [h, 0], p + [0, h], p - [0, h]]
    v = outer.outer_loss_at(np.array(pts), **problem).astype(np.float64)
    return np.array([(v[0] - v[1]) / (2 * h), (v[2] - v[3]) / (2 * h)])


@pytest.mark.parametrize("point,problem", [((-2.0, -0.5), "log_sin"), ((-2.5, -0.3), "log_sin"),
                                           ((-1.0, -0.5), "parabola")])
def test_grad_matches_finite_differences_where_smooth(point, problem):
    fd = _fd_grad(point, problem=problem)
    # The "grad" method's first step is -lr * gradient (no clipping at this size).
    traj, _ = outer.run_outer("grad", point, 1, lr=1e-2, clip=1e6, problem=problem)
    g_step = -(traj[1].astype(np.float64) - traj[0]) / 1e-2
    np.testing.assert_allclose(g_step, fd, rtol=2e-2, atol=2e-3)
    d = outer.estimator_diagnostic(point, samples=4, problem=problem)
    np.testing.assert_allclose(d["true_grad"], fd, rtol=1e-2, atol=1e-3)


def test_es_mean_approaches_true_gradient_on_smooth_outer_loss():
    # Quadratic inner loss, converging region: the outer loss is smooth, and
    # with a small std the smoothed gradient equals the true one.
    d = outer.estimator_diagnostic((-1.0, -0.5), samples=4096, pairs=1, std=0.01, problem="parabola")
    es = d["estimators"]["es (1 pair)"]
    se = np.sqrt(np.var(es.samples, axis=0) / len(es.samples))
    true = d["true_grad"]
    assert np.all(np.abs(es.mean - true) < 4 * se + 1e-3 * np.abs(true)), (es.mean, true, se)
    # ... and the error shrinks with more pairs per estimate (variance ~ 1/pairs).
    d8 = outer.estimator_diagnostic((-1.0, -0.5), samples=512, pairs=8, std=0.01, problem="parabola")
    es8 = d8["estimators"]["es (8 pairs)"]
    assert es8.variance < 0.4 * es.variance


def test_pes_is_unbiased_and_tbptt_is_biased_on_a_smooth_point():
    d = outer.estimator_diagnostic((-1.0, -0.5), samples=2048, std=0.01, truncation_length=10,
                                   problem="parabola")
    true = d["true_grad"]
    pes = d["estimators"]["pes (K=10)"]
    se = np.sqrt(np.var(pes.samples, axis=0) / len(pes.samples))
    assert np.all(np.abs(pes.mean - true) < 4 * se + 2e-3 * np.abs(true)), (pes.mean, true, se)
    tb = d["estimators"]["tbptt (K=10)"]
    assert tb.variance == 0.0
    assert np.linalg.norm(tb.bias) > 0.05 * np.linalg.norm(true)


def test_post_story_grad_stuck_es_ends_lower():
    seeds = range(5)
    for start, worse in [((-2.0, -0.5), False), ((0.0, -1.5), True)]:
        g = outer.run_outer_full("grad", start, 300)
        # Clipped GD stops moving: the last 50 steps stay within a tiny set (a 2-cycle or a point).
        tail = g.trajectory[-50:]
        assert len({tuple(p) for p in tail.round(6)}) <= 2
        es = [outer.run_outer_full("es", start, 2000, seed=s).final_loss for s in seeds]
        assert np.median(es) < g.final_loss
        if worse:
            assert g.final_loss > 4.0  # far worse than from (-2, -0.5)


def test_local_shift_centre_is_the_point():
    c = outer.local_shift((-1.2, -1.1), n=11)
    assert c["shift"].shape == (11,) and c["shift"][5] == 0
    v = outer.outer_loss_at([(-1.2, -1.1)])[0]
    assert c["lr_shift"][5] == pytest.approx(v, rel=1e-6) and c["mom_shift"][5] == pytest.approx(v, rel=1e-6)


@pytest.mark.parametrize("call,match", [
    (lambda: outer.run_outer("sgd", (0, 0), 10), "unknown outer method"),
    (lambda: outer.run_outer("es", (0,), 10), "two numbers"),
    (lambda: outer.run_outer("es", ("a", 0), 10), "two numbers"),
    (lambda: outer.run_outer("es", (np.nan, 0), 10), "finite"),
    (lambda: outer.run_outer("es", (0, -1), 0), "from 1 to"),
    (lambda: outer.run_outer("es", (0, -1), 10**6), "from 1 to"),
    (lambda: outer.run_outer("es", (0, -1), 10, seed=-1), "seed"),
    (lambda: outer.run_outer("es", (0, -1), 10, std=-0.1), "std must be positive"),
    (lambda: outer.run_outer("es", (0, -1), 10, truncation_length=5), "unknown option"),
    (lambda: outer.run_outer("pes", (0, -1), 10, truncation_length=7), "must divide"),
    (lambda: outer.run_outer("grad", (0, -1), 10, optimizer="lbfgs"), "optimizer"),
    (lambda: outer.run_outer("grad", (0, -1), 10, problem="nope"), "nope"),
    (lambda: outer.run_outer("tbptt", (0, -1), 10, reduce="min"), "summary='mean'"),
    (lambda: outer.run_outer("tbptt", (0, -1), 10, summary="min"), "summary='mean'"),
    (lambda: outer.run_outer("es", (0, -1), 10, summary="min", reduce="mean"), "disagree"),
    (lambda: outer.parse_points("1,2,3"), "two numbers"),
    (lambda: outer.parse_seeds("x"), "not an integer"),
    (lambda: zoom.check_window((1, 0, -1, 0)), "lower end"),
    (lambda: zoom.choose_precision((0, 1e-14, -1, -1 + 1e-14), 250), "float64"),
])
def test_validation_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_parse_helpers():
    assert outer.parse_points("-2,-0.5; 0,-1.5") == [(-2.0, -0.5), (0.0, -1.5)]
    assert outer.parse_seeds("0-2, 5, 1") == [0, 1, 2, 5]


def test_zoom_precision_switch_and_stack_roundtrip():
    assert zoom.choose_precision((-3, 2, -3, 0), 500) == "float32"
    deep = (-1.2, -1.2 + 1e-6, -0.7, -0.7 + 1e-6)
    assert zoom.choose_precision(deep, 250) == "float64"
    stack = [(-3.0, 2.0, -3.0, 0.0), deep]
    assert zoom.decode_stack(zoom.encode_stack(stack)) == stack
    assert zoom.sub_window((-3, 2, -3, 0), [1.5, -1], [-0.5, -5]) == (-1.0, 1.5, -3.0, -0.5)


def test_deep_zoom_float64_resolves_and_leaves_float32_untouched():
    log_lrs, log_omm = landscape.axes((-2.0, 1.0), (-3.0, 0.0), 16)
    before = landscape.meta_loss_grid(log_lrs, log_omm)
    deep = (-1.2, -1.2 + 1e-9, -0.7, -0.7 + 1e-9)
    xs, ys, z, precision = zoom.zoom_grid(deep, 16)
    assert precision == "float64" and z.dtype == np.float64
    assert np.unique(z[np.isfinite(z)]).size > 16  # distinct pixels, not blocks
    # x64 was a thread-local context: float32 defaults and results are unchanged.
    import jax.numpy as jnp

    assert jnp.asarray(1.0).dtype == jnp.float32
    np.testing.assert_array_equal(landscape.meta_loss_grid(log_lrs, log_omm), before)


@pytest.mark.slow
def test_cli_outer_json():
    out = subprocess.run([sys.executable, "-m", "l2l_core", "outer", "--method", "es", "--init", "-2", "-0.5",
                          "--steps", "300", "--seed", "0", "--json"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    run = res["runs"][0]
    assert len(run["trajectory"]) == 301 and run["trajectory"][0] == [-2.0, -0.5]
    traj, _ = outer.run_outer("es", (-2, -0.5), 300, seed=0)
    np.testing.assert_allclose(run["end"], traj[-1], rtol=1e-6)
    bad = subprocess.run([sys.executable, "-m", "l2l_core", "outer", "--method", "pes", "--truncation-length", "7"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "must divide" in bad.stderr
