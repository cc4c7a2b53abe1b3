"""Guarantees of the landscape engine: accuracy of its fast paths, no recompiles, sharding.

- the float32 fast path (shared-range-reduction sincos) is as accurate as XLA's sin;
- changing any parameter a widget sets never recompiles the grid kernel;
- the grid sharded over 4 virtual CPU devices gives the same numbers as one device;
- the persistent compilation cache and warmup() work and are idempotent;
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from l2l_core.inner.fastmath import sincos
from l2l_core.landscape import grid as landscape
from l2l_core.landscape import lr_sweep, meta_loss_grid, warmup
from l2l_core.runtime import compile_cache
from l2l_core.tasks.problems import PROBLEMS, InnerProblem
from tests.conftest import run_on_cpu_devices
from tests.reference import numpy_outer_loss, smooth_mask

ROOT = Path(__file__).resolve().parents[3]


# -- fast sin/cos -----------------------------------------------------------------


def test_sincos_accuracy_against_float64():
    y = np.concatenate([np.linspace(-20, 20, 400_001), np.linspace(-1e4, 1e4, 400_001)]).astype(np.float32)
    s, c = jax.jit(sincos)(y)
    y64 = y.astype(np.float64)
    assert np.abs(np.asarray(s, np.float64) - np.sin(y64)).max() < 2e-7
    assert np.abs(np.asarray(c, np.float64) - np.cos(y64)).max() < 2e-7


def test_sincos_special_values():
    s, c = jax.jit(sincos)(np.array([np.inf, -np.inf, np.nan, 3e9, -1e30, 0.0], np.float32))
    s, c = np.asarray(s), np.asarray(c)
    assert np.isnan(s[:3]).all() and np.isnan(c[:3]).all()
    assert (np.abs(s[3:]) <= 1).all() and (np.abs(c[3:]) <= 1).all()  # bounded far out
    assert s[5] == 0.0 and c[5] == 1.0


@pytest.mark.parametrize("name", sorted(n for n, p in PROBLEMS.items() if p.fast_value_and_grad is not None))
def test_fast_presets_match_their_definition(name):
    p = PROBLEMS[name]
    fast = p.fast_value_and_grad
    x = np.linspace(-6, 6, 100_001).astype(np.float32)
    (v, g), (v2, g2) = jax.jit(fast)(x), jax.jit(p.value_and_grad)(x)
    np.testing.assert_allclose(v, v2, rtol=2e-6, atol=2e-6)
    np.testing.assert_allclose(g, g2, rtol=2e-5, atol=2e-5)
    # ... and the gradient is the loss's derivative.
    np.testing.assert_allclose(g, jax.vmap(jax.grad(p.loss))(x), rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("problem", ["log_sin", "rippled_bowl"])
def test_fast_grid_matches_float64_reference_where_smooth(problem):
    log_lrs, log_omm = np.linspace(-3, 0, 41), np.linspace(-2, 0, 31)
    lr, mom = 10.0 ** log_lrs[None, :], 1 - 10.0 ** log_omm[:, None]
    z = meta_loss_grid(log_lrs, log_omm, problem=problem)
    ref = numpy_outer_loss(lr, mom, problem)
    nudged = numpy_outer_loss(lr * (1 + 1e-5), mom, problem)
    smooth = np.isfinite(ref) & (np.abs(nudged - ref) < 1e-5 * np.abs(ref))
    assert smooth.mean() > 0.5
    np.testing.assert_allclose(z[smooth], ref[smooth], rtol=3e-5)
    assert np.median(np.abs(z - ref)[smooth] / np.abs(ref[smooth])) < 1e-6


def test_user_problem_takes_the_generic_path_and_is_correct():
    # A formula-like problem: value_and_grad from jax.value_and_grad of a traced loss.
    def loss(x):
        return jnp.log(x**2 + 1.0 + jnp.sin(3.0 * x)) + 1.5

    user = InnerProblem("user", "user", "", loss, jax.value_and_grad(loss), (-5.0, 5.0), "")
    assert user.fast_value_and_grad is None
    log_lrs, log_omm = np.linspace(-3, 2, 30), np.linspace(-3, 0, 20)
    z = meta_loss_grid(log_lrs, log_omm, problem=user)
    z_fast = meta_loss_grid(log_lrs, log_omm, problem="log_sin")
    ref = numpy_outer_loss(10.0 ** log_lrs[None, :], 1 - 10.0 ** log_omm[:, None], "log_sin")
    smooth = np.isfinite(ref) & (np.abs(numpy_outer_loss(
        10.0 ** log_lrs[None, :] * (1 + 1e-5), 1 - 10.0 ** log_omm[:, None]) - ref) < 1e-5 * np.abs(ref))
    np.testing.assert_allclose(z[smooth], ref[smooth], rtol=3e-5)
    np.testing.assert_allclose(z_fast[smooth], z[smooth], rtol=3e-5)


# -- no recompiles ------------------------------------------------------------------


#: Every jaxpr trace in this process, counted through JAX's public monitoring events
#: (one event per trace of any jitted function, whatever the logging set-up).
_TRACES: list[str] = []
_COUNTING = [False]


def _count_trace(event: str, duration: float, **kwargs) -> None:
    if _COUNTING[0] and event == "/jax/core/compile/jaxpr_trace_duration":
        _TRACES.append(event)


jax.monitoring.register_event_duration_secs_listener(_count_trace)


@pytest.fixture
def traces():
    """The traces (compiles) that happen while the test runs; empty means no recompile."""
    _TRACES.clear()
    _COUNTING[0] = True
    try:
        yield _TRACES
    finally:
        _COUNTING[0] = False


def test_widget_changes_never_recompile(traces):
    warmup(problems=["log_sin", "parabola"], summaries=["mean", "min"])
    size = landscape._chunk_kernel._cache_size()
    traces.clear()
    # Resolution, both ranges, x0, steps (the slider), summary already warmed, problem.
    for res, (lo, hi), (mlo, mhi), x0, steps in [
        (7, (-3, 2), (-3, 0), -4.0, 50),
        (100, (-2, 1), (-2.5, -0.5), -3.0, 20),
        (250, (-1.2, -1.1), (-1.0, -0.99), 0.5, 137),
        (333, (-3, 2), (-3, 0), -4.0, 1),
    ]:
        log_lrs, log_omm = landscape.axes((lo, hi), (mlo, mhi), res)
        meta_loss_grid(log_lrs, log_omm, x0=x0, inner_steps=steps)
        meta_loss_grid(log_lrs[: res // 2 + 1], log_omm, problem="parabola", reduce="min", steps=steps)
    for points, momentum, steps in [(301, 0.9, 50), (1000, 0.5, 77), (4000, 0.999, 3), (9000, 0.0, 50)]:
        lr_sweep(np.linspace(-3, 2, points), momentum, steps=steps)
    assert landscape._chunk_kernel._cache_size() == size
    assert traces == [], f"{len(traces)} new traces: a widget change recompiled"


def test_warmup_is_idempotent():
    warmup(problems=["double_well"], summaries=["final"])
    assert warmup(problems=["double_well"], summaries=["final"]) == 0  # nothing left to compile
    thread = warmup(problems=["double_well"], summaries=["final"], background=True)
    thread.join(30)
    assert not thread.is_alive()


def test_persistent_cache_dir_is_the_ignored_project_dir():
    d = compile_cache.enable()
    if os.environ.get("L2L_JAX_CACHE") == "0":
        assert d is None
        return
    assert d is not None and jax.config.jax_compilation_cache_dir == d
    if not os.environ.get("L2L_JAX_CACHE"):
        assert Path(d) == ROOT / ".jax_cache"
        ignored = subprocess.run(["git", "check-ignore", "-q", ".jax_cache/x"], cwd=ROOT)
        assert ignored.returncode == 0


# -- sharding over devices ------------------------------------------------------------

_SHARDED_CHILD = r"""
import json, sys
import numpy as np, jax
import l2l_core.landscape as L
assert len(jax.devices()) == 4, jax.devices()
lrs, omm = np.linspace(-3, 2, 300), np.linspace(-3, 0, 222)
out = {"grid": L.meta_loss_grid(lrs, omm).tolist(),
       "quadratic": L.meta_loss_grid(lrs, omm, problem="parabola").tolist(),
       "small": L.meta_loss_grid(lrs[:9], omm[:3], problem="rippled_bowl", reduce="min").tolist(),
       "sweep": L.lr_sweep(np.linspace(-3, 2, 5000), 0.9, steps=70).tolist()}
jax.config.update("jax_enable_x64", True)
from tests.reference import numpy_outer_loss
z64 = L.meta_loss_grid(lrs[:40], omm[:30], dtype=np.float64)
ref = numpy_outer_loss(10.0 ** lrs[:40][None, :], 1 - 10.0 ** omm[:30][:, None])
fin = np.isfinite(ref)
out["f64_dtype"] = str(z64.dtype)
out["f64_nan_equal"] = bool((np.isnan(z64) == np.isnan(ref)).all())
out["f64_max_rel_err_finite"] = float(np.nanmax(np.abs(z64[fin] - ref[fin]) / np.abs(ref[fin])))
print(json.dumps(out))
"""


def _agree_where_smooth(got, want, lr, mom, problem="log_sin", **kw):
    """Sharded and single-device grids are differently compiled programs: equal to float32
    rounding where the map is smooth; chaotic cells amplify one ulp by design."""
    ok = smooth_mask(numpy_outer_loss(lr, mom, problem, **kw), lr, mom, problem, **kw)
    assert ok.mean() > 0.25, ok.mean()
    np.testing.assert_allclose(np.asarray(got, np.float32)[ok], want[ok], rtol=1e-5)


@pytest.mark.slow
def test_four_devices_give_the_same_numbers_as_one():
    out = run_on_cpu_devices(_SHARDED_CHILD)
    lrs, omm = np.linspace(-3, 2, 300), np.linspace(-3, 0, 222)
    lr, mom = 10.0 ** lrs[None, :], 1 - 10.0 ** omm[:, None]
    _agree_where_smooth(out["grid"], meta_loss_grid(lrs, omm), lr, mom)
    # The convex quadratic has no chaotic cells: every cell agrees, the diverged ones included.
    np.testing.assert_allclose(np.array(out["quadratic"], np.float32),
                               meta_loss_grid(lrs, omm, problem="parabola"), rtol=1e-5, atol=1e-7)
    _agree_where_smooth(out["small"], meta_loss_grid(lrs[:9], omm[:3], problem="rippled_bowl", reduce="min"),
                        lr[:, :9], mom[:3], "rippled_bowl", reduce="min")
    sweep_lr = 10.0 ** np.linspace(-3, 2, 5000)
    _agree_where_smooth(out["sweep"], lr_sweep(np.linspace(-3, 2, 5000), 0.9, steps=70), sweep_lr, 0.9, steps=70)
    # float64 (the zoom and outer-method path) under x64 on the sharded engine: the reference to ~1e-12.
    assert out["f64_dtype"] == "float64" and out["f64_nan_equal"]
    assert out["f64_max_rel_err_finite"] < 1e-9
