"""``python -m l2l_core reproduce --small``: every figure is a real PNG, and the
headline numbers agree with independent float64 numpy re-computations and with
the posts' qualitative claims."""

import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from l2l_core.cli import figures as reproduce

pytestmark = pytest.mark.slow  # one run of the whole command, shared by the module

ROOT = Path(__file__).resolve().parents[3]


def f(x):
    return np.log(x**2 + 1.0 + np.sin(3.0 * x)) + 1.5


def df(x):
    return (2.0 * x + 3.0 * np.cos(3.0 * x)) / (x**2 + 1.0 + np.sin(3.0 * x))


def np_unroll(lr, mom, x0=-4.0, steps=50):
    """The post's loop, float64 numpy: returns (final x, mean inner loss)."""
    x, v, losses = x0, 0.0, []
    for _ in range(steps):
        losses.append(f(x))
        v = mom * v + df(x)
        x = x - lr * v
    return x, float(np.mean(losses))


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """The command itself, on small settings, with an untrained LSTM as the checkpoint."""
    import jax

    from l2l_core.learned.checkpoints import save_checkpoint
    from l2l_core.learned.config import preset_config
    from l2l_core.learned.lstm import init_meta_params

    base = tmp_path_factory.mktemp("repro")
    cfg = preset_config("short", meta_steps=1)
    save_checkpoint(base / "ckpt", init_meta_params(jax.random.PRNGKey(0), cfg.lstm), cfg)
    out = base / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "l2l_core", "reproduce", "--out", str(out), "--small", "--json",
         "--checkpoint", str(base / "ckpt")],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    head = json.loads(proc.stdout)
    assert head == json.loads((out / "headline.json").read_text())
    return out, head


def test_every_figure_of_both_posts_is_a_png(small_run):
    out, head = small_run
    assert set(head["figures"]) == set(reproduce.FIGURES)
    for name in reproduce.FIGURES:
        w, h = png_size(out / f"{name}.png")
        assert 400 <= w <= 2000 and 300 <= h <= 2000, (name, w, h)
        assert (out / f"{name}.png").stat().st_size > 5_000  # not a blank canvas
    # --small exports at scale 1: the heatmap is drawn at its layout size
    assert png_size(out / "landscape.png") == (800, 700)


def test_inner_run_matches_numpy_and_ends_in_the_local_minimum(small_run):
    _, head = small_run
    run, prob = head["inner_run"], head["inner_problem"]
    x_np, outer_np = np_unroll(0.1, 0.9)
    assert run["final_x"] == pytest.approx(x_np, abs=1e-3)
    assert run["outer_loss"] == pytest.approx(outer_np, rel=1e-4)
    # the post: it passes the global minimum (x ~ -0.43) and settles near the local one (x ~ 1.2)
    assert prob["global_min_x"] == pytest.approx(-0.427, abs=0.01)
    assert abs(run["final_x"] - prob["local_min_x"]) < 0.3
    assert run["final_loss"] > prob["local_min"] and run["final_loss"] < prob["local_min"] + 0.1


def test_sweep_best_learning_rate_is_a_real_minimum(small_run):
    _, head = small_run
    s = head["sweep"]
    _, best_np = np_unroll(s["best_lr"], 0.9)
    assert s["best_loss"] == pytest.approx(best_np, abs=2e-3)
    # nothing on a fine numpy sweep of the same 400 points beats it by more than float32 noise
    others = [np_unroll(10.0**g, 0.9)[1] for g in np.linspace(-3, 2, 400)[::7]]
    assert s["best_loss"] <= min(others) + 2e-3
    assert 0.01 < s["best_lr"] < 1.0
    assert s["max_neighbour_jump"] > 1.0  # "noisy": neighbouring learning rates end very differently


def test_landscape_best_cell_matches_numpy(small_run):
    _, head = small_run
    g = head["landscape"]
    _, loss_np = np_unroll(g["best_lr"], g["best_momentum"])
    assert g["best_loss"] == pytest.approx(loss_np, abs=2e-3)
    assert g["best_loss"] < head["inner_run"]["outer_loss"]  # better than the post's lr 0.1 / momentum 0.9


def test_gradient_descent_gets_stuck_where_es_does_not(small_run):
    _, head = small_run
    o = head["outer"]
    gd_a, gd_b, es_a, es_b = o["grad_a"], o["grad_b"], o["es_a"], o["es_b"]
    assert gd_a["start"] == [-2.0, -0.5] and gd_b["start"] == [0.0, -1.5]
    # the post: from (0, -1.5) gradient descent ends much worse than from (-2, -0.5)
    assert gd_b["end_loss"] > gd_a["end_loss"] + 1.0
    assert es_a["end_loss"] < gd_a["end_loss"]
    assert es_b["end_loss"] < gd_b["end_loss"]
    # the reported end loss is the outer loss at the reported end point
    _, at_end = np_unroll(gd_a["end_lr"], gd_a["end_momentum"])
    assert gd_a["end_loss"] == pytest.approx(at_end, abs=0.02)
    # ripples: the local-shift curves around the stuck point swing widely
    assert gd_b["shift_max"] - gd_b["shift_min"] > 0.5


def test_quadratic_baselines_match_numpy_and_lstm_runs(small_run):
    _, head = small_run
    q = head["quadratic"]
    assert "skipped" not in q and "lstm_skipped" not in q
    from l2l_core.tasks.quadratics import tasks_for_seed

    t = tasks_for_seed(q["seed"], q["batch"], q["dim"])
    w, y, theta = (np.asarray(a, np.float64) for a in (t.w, t.y, t.theta0))
    lr = q["best_lr"]["sgd"]
    for _ in range(q["steps"]):
        r = np.einsum("bij,bj->bi", w, theta) - y
        theta = theta - lr * 2.0 * np.einsum("bij,bi->bj", w, r)
    final_np = np.mean(np.sum((np.einsum("bij,bj->bi", w, theta) - y) ** 2, axis=1))
    assert q["final"]["sgd"] == pytest.approx(final_np, rel=1e-3)
    assert q["final"]["adam"] < q["final"]["sgd"]  # the post: Adam converges lower than SGD
    assert all(np.isfinite(v) for v in q["final"].values())
    assert q["final"]["lstm"] > 0 and "lstm_beats_all_baselines" in q


def test_export_validates_its_arguments():
    import plotly.graph_objects as go

    from l2l_core.io import export

    with pytest.raises(ValueError, match="scale"):
        export.figure_png(go.Figure(), scale=100)
    with pytest.raises(ValueError, match="width and height"):
        export.figure_png(go.Figure(), width=10)


def test_docs_copies_are_small_pngs(small_run, tmp_path):
    out, head = small_run
    written = reproduce.write_docs_copies(out, tmp_path / "docs", head)
    assert len(written) == len(reproduce.FIGURES)
    for p in written:
        w, h = png_size(p)
        w0, h0 = png_size(out / p.name)
        assert (w, h) == (round(w0 * 0.6), round(h0 * 0.6))
        assert p.stat().st_size < 300_000
    assert json.loads((tmp_path / "docs" / "headline.json").read_text())["landscape"] == head["landscape"]


def test_trainability_fractal_figure_matches_a_numpy_retraining(small_run):
    """The fractal figure's pixels, re-trained from the NPZ's own task arrays by the
    float64 numpy network of the kernel's test, land in the same phase."""
    from l2l_core.tasks.fractal_networks import task_from_arrays
    from tests.core.landscape.test_fractal import np_converge, np_run

    out, head = small_run
    entry = head["fractal"]
    assert entry["resolution"] == reproduce.SMALL.fractal_res and entry["steps"] == 100
    assert 0.2 < entry["trained_fraction"] < 0.9  # both phases in the top view
    d = np.load(out / "data" / "trainability_fractal.npz")
    z = d["loss"]
    assert z.shape == (reproduce.SMALL.fractal_res,) * 2 and float((z < 0).mean()) == entry["trained_fraction"]
    task = task_from_arrays("fractal_tanh", d["task_inputs"], d["task_targets"], d["task_init_0"], d["task_init_1"])
    rng = np.random.default_rng(0)
    for sign in (-1, 1):  # a few of the fastest trained and fastest diverged pixels, far from the edge
        side = np.sign(z) == sign
        ii, jj = np.nonzero(side & (np.abs(z) <= np.quantile(np.abs(z[side]), 0.3)))
        for k in rng.choice(len(ii), 3, replace=False):
            i, j = ii[k], jj[k]
            want = np_converge(np_run(task, 10.0 ** d["x_values"][j], 10.0 ** d["y_values"][i], 100)[:100])
            assert np.sign(want) == sign, (i, j, want, z[i, j])
