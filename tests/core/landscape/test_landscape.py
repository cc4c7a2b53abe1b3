import numpy as np
import pytest

from l2l_core.landscape import MAX_CELLS, lr_sweep, meta_loss_grid
from l2l_core.landscape import grid as landscape
from tests.reference import numpy_outer_loss, smooth_mask


def assert_mostly_close(actual, desired, tol=2e-3, frac=0.99):
    close = np.abs(actual - desired) <= tol * (1 + np.abs(desired))
    assert close.mean() >= frac, f"only {close.mean():.1%} of {close.size} smooth cells agree"


@pytest.mark.parametrize("problem", ["log_sin", "parabola", "double_well", "rippled_bowl"])
@pytest.mark.parametrize("reduce", ["mean", "final", "min"])
def test_grid_matches_numpy_reference(problem, reduce):
    log_lrs = np.linspace(-3, 2, 23)
    log_omm = np.linspace(-3, 0, 17)
    z = meta_loss_grid(log_lrs, log_omm, problem=problem, reduce=reduce)
    assert z.shape == (17, 23) and z.dtype == np.float32
    lr, mom = 10.0 ** log_lrs[None, :], 1 - 10.0 ** log_omm[:, None]
    ref, top = numpy_outer_loss(lr, mom, problem, reduce=reduce, peak=True)
    # Diverged runs are NaN in both, except right at the edge of the float32 range.
    clear = (top < 1e36) | (top > 1e40)
    assert clear.mean() > 0.9
    np.testing.assert_array_equal(np.isnan(z)[clear], np.isnan(ref)[clear])
    ok = smooth_mask(ref, lr, mom, problem, reduce=reduce)
    assert ok.sum() > 0.25 * ok.size  # enough smooth cells to make the check mean something
    assert_mostly_close(z[ok], ref[ok])


def test_grid_default_matches_post_at_a_known_point():
    # lr 0.1, momentum 0.9: the post's inner run, whose mean loss we can check by hand.
    z = meta_loss_grid([-1.0], [-1.0])
    np.testing.assert_allclose(z[0, 0], numpy_outer_loss(0.1, 0.9), rtol=1e-4)


def test_sweep_matches_numpy_reference():
    log_lrs = np.linspace(-3, 2, 301)
    s = lr_sweep(log_lrs, 0.9)
    ref = numpy_outer_loss(10.0**log_lrs, 0.9)
    ok = smooth_mask(ref, 10.0**log_lrs, 0.9, "log_sin")
    assert s.shape == (301,) and ok.sum() > 100
    assert_mostly_close(s[ok], ref[ok])


def test_sweep_equals_grid_row():
    log_lrs = np.linspace(-3, 2, 50)
    row = meta_loss_grid(log_lrs, [-1.0])[0]
    np.testing.assert_array_equal(lr_sweep(log_lrs, 1 - 10.0**-1.0), row)


def test_chunking_does_not_change_results(monkeypatch):
    # Another chunk shape compiles another program, which may round differently by one ulp:
    # compare where the map is smooth (chaotic cells amplify that by design), and on the
    # convex quadratic everywhere. A cell written to the wrong place fails both.
    log_lrs, log_omm = np.linspace(-3, 2, 40), np.linspace(-3, 0, 30)
    z = meta_loss_grid(log_lrs, log_omm)
    q = meta_loss_grid(log_lrs, log_omm, problem="parabola")
    monkeypatch.setattr(landscape, "CHUNK_SHAPE", (2, 64))  # many small chunks, one partial
    lr, mom = 10.0 ** log_lrs[None, :], 1 - 10.0 ** log_omm[:, None]
    ok = smooth_mask(numpy_outer_loss(lr, mom), lr, mom)
    assert ok.mean() > 0.3
    np.testing.assert_allclose(meta_loss_grid(log_lrs, log_omm)[ok], z[ok], rtol=1e-5)
    np.testing.assert_allclose(meta_loss_grid(log_lrs, log_omm, problem="parabola"), q, rtol=1e-5, atol=1e-7)


def test_float64_grid_is_float64_in_every_chunk_thread(monkeypatch):
    """jax.enable_x64 is thread-local: every chunk (each on a pool thread) must still
    compute in float64 when the caller asked for it inside the context, as the deep zoom does."""
    import jax

    log_lrs, log_omm = np.linspace(-3, -1, 40), np.linspace(-3, -1, 30)
    monkeypatch.setattr(landscape, "CHUNK_SHAPE", (2, 64))  # 10 chunks over the pool's threads
    with jax.enable_x64(True):
        z = meta_loss_grid(log_lrs, log_omm, problem="parabola", dtype=np.float64)
    lr, mom = 10.0 ** log_lrs[None, :], 1 - 10.0 ** log_omm[:, None]
    ref = numpy_outer_loss(lr, mom, "parabola")
    ok = np.isfinite(ref)
    assert z.dtype == np.float64 and ok.mean() > 0.9
    np.testing.assert_allclose(z[ok], ref[ok], rtol=1e-11)  # float32 anywhere would give ~1e-7


@pytest.mark.parametrize("reduce", ["mean", "final", "min"])
def test_a_loss_that_overflows_late_makes_the_cell_nan(reduce):
    # x stays finite in float32 (~1e36) but the loss x^2/2 overflows on the way.
    z = meta_loss_grid([0.8636363636363633], [-3.0], problem="parabola", reduce=reduce)
    assert np.isnan(z[0, 0])


def test_divergence_gives_nan_not_an_exception():
    z = meta_loss_grid([-3.0, 1.5], [-1.0], problem="parabola", steps=200)
    assert np.isfinite(z[0, 0]) and np.isnan(z[0, 1])


@pytest.mark.parametrize("args, match", [
    (([], [0.0]), "empty"),
    (([[0.0, 1.0]], [0.0]), "1-D"),
    (([0.0, np.nan], [0.0]), "non-finite"),
    (([0.0], [np.inf]), "non-finite"),
    (([0.0], ["a"]), "numbers"),
    (([0.0, 31.0], [0.0]), "beyond"),
    ((np.zeros(MAX_CELLS // 2 + 1), np.zeros(2)), "exceeds the cap"),
])
def test_grid_validation(args, match):
    with pytest.raises(ValueError, match=match):
        meta_loss_grid(*args)


@pytest.mark.parametrize("kwargs, match", [
    (dict(steps=0), "steps"), (dict(reduce="median"), "summary"), (dict(problem="nope"), "not a preset"),
    (dict(x0=np.nan), "x0"), (dict(dtype=np.int32), "dtype"),
])
def test_grid_option_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        meta_loss_grid([0.0], [0.0], **kwargs)


def test_sweep_validation():
    with pytest.raises(ValueError, match="momentum"):
        lr_sweep([0.0], float("nan"))
    with pytest.raises(ValueError, match="empty"):
        lr_sweep([], 0.9)


def test_axes_and_best_cell():
    a, b = landscape.axes((-3, 2), (-3, 0), 11)
    assert a[0] == -3 and a[-1] == 2 and len(b) == 11
    with pytest.raises(ValueError, match="lower end"):
        landscape.axes((2, -3), (-3, 0), 11)
    with pytest.raises(ValueError, match="resolution"):
        landscape.axes((-3, 2), (-3, 0), 5000)
    z = np.array([[np.nan, 3.0], [1.0, 2.0]])
    assert landscape.best_cell(z, [0, 1], [5, 6]) == (0.0, 6.0, 1.0)
    assert landscape.best_cell(np.full((2, 2), np.nan), [0, 1], [0, 1]) is None
