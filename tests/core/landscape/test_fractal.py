"""The trainability-fractal kernel against an independent float64 numpy network."""

import json

import jax
import numpy as np
import pytest

from l2l_core.landscape import fractal
from l2l_core.tasks import fractal_networks as networks


def np_loss_and_grads(act, x, y, w1, w2):
    """The paper's network written out in numpy: mean-field layers, MSE, and the
    gradient by the chain rule (no shared code with the kernel)."""
    width = w1.shape[0]
    z = x @ w1 / np.sqrt(width)
    if act == "tanh":
        h, dh = np.tanh(np.sqrt(2) * z), np.sqrt(2) * (1 - np.tanh(np.sqrt(2) * z) ** 2)
    elif act == "relu":
        h, dh = np.sqrt(2) * np.maximum(z, 0), np.sqrt(2) * (z > 0)
    else:
        h, dh = z, np.ones_like(z)
    out = h @ w2 / np.sqrt(width) / np.sqrt(width)
    r = out - y
    d_out = 2 * r / len(x)
    g2 = h.T @ d_out / width
    g1 = x.T @ ((d_out @ w2.T / width) * dh) / np.sqrt(width)
    return np.mean(r**2), g1, g2


def np_run(task, lr_in, lr_out, steps, offset=0.0):
    w1, w2 = task.init[0] + offset, task.init[1].copy()
    bs, n = task.batch_size, task.n_points
    losses = []
    with np.errstate(all="ignore"):
        for t in range(steps + 1):
            rows = slice((t * bs) % n, (t * bs) % n + bs)
            loss, g1, g2 = np_loss_and_grads(task.spec.activation, task.inputs[rows], task.targets[rows], w1, w2)
            losses.append(loss)
            w1, w2 = w1 - lr_in * g1, w2 - lr_out * g2
    return np.array(losses)


def np_converge(losses):
    """The paper's measure from the recorded losses (each before its update)."""
    v = np.where(np.isfinite(losses), losses, 1e6)
    v = np.minimum(v / v[0], 1e6)
    return -v.sum() if v[-20:].mean() < 1 else (1 / v).sum()


def test_hand_gradient_matches_finite_differences():
    task = networks.make_task("fractal_tanh", width=4)
    x, y, w1, w2 = task.inputs, task.targets, task.init[0], task.init[1]
    _, g1, _ = np_loss_and_grads("tanh", x, y, w1, w2)
    e = np.zeros_like(w1)
    e[1, 2] = 1e-6
    fd = (np_loss_and_grads("tanh", x, y, w1 + e, w2)[0] - np_loss_and_grads("tanh", x, y, w1 - e, w2)[0]) / 2e-6
    assert g1[1, 2] == pytest.approx(fd, rel=1e-5)


@pytest.mark.parametrize("name", ["fractal_tanh", "fractal_relu", "fractal_linear", "fractal_minibatch",
                                  "fractal_single"])
def test_kernel_matches_numpy_float64_away_from_the_boundary(name):
    task = networks.make_task(name, width=16 if name == "fractal_minibatch" else 6)
    xs = np.linspace(-3, 3, 7)
    steps = 30
    with jax.enable_x64(True):
        got = fractal.fractal_summaries(xs, xs, task=task, steps=steps, dtype=np.float64)
    checked = 0
    for i, ly in enumerate(xs):
        for j, lx in enumerate(xs):
            losses = np_run(task, 10.0**lx, 10.0**ly, steps)
            want = np_converge(losses[:steps])
            if abs(np.log10(np.abs(losses[:steps][-20:]).mean() / losses[0] + 1e-300)) < 0.05:
                continue  # too near the boundary to expect the same phase
            nudged = np_converge(np_run(task, 10.0**lx * (1 + 1e-15), 10.0**ly, steps)[:steps])
            if want < 0 and abs(nudged - want) > 1e-9 * abs(want):
                # a chaotic (if converging) run: a change in the 16th digit moves the measure in the
                # 7th-9th, so float64 rounding decides it, not the arithmetic (the numpy reference
                # itself is then ~1e-6 from an extended-precision run); judged like a boundary cell
                continue
            assert np.sign(got["converge"][i, j]) == np.sign(want), (name, lx, ly)
            # diverging runs amplify rounding exponentially; the 3-step test pins the arithmetic
            assert got["converge"][i, j] == pytest.approx(want, rel=1e-6 if want < 0 else 1e-2)
            if losses[steps - 20:steps].mean() < 0.5 * losses[0]:
                # clearly trained: no chaotic amplification of rounding (near the edge, see the 3-step test)
                assert got["mean"][i, j] == pytest.approx(losses[:steps].mean(), rel=1e-6)
                assert got["final"][i, j] == pytest.approx(losses[steps], rel=1e-6)
                assert got["min"][i, j] == pytest.approx(losses[:steps].min(), rel=1e-6)
            checked += 1
    assert checked >= 30


def test_float64_is_float64_in_every_worker_thread():
    task = networks.make_task("fractal_tanh", width=8)
    xs = np.linspace(-3, 0, 40)  # several chunks, so pool threads run them
    with jax.enable_x64(True):
        got = fractal.fractal_grid(xs, xs[:3], task=task, steps=3, reduce="mean", dtype=np.float64)
    for i, j in [(0, 0), (2, 39), (1, 20)]:
        assert got[i, j] == pytest.approx(np_run(task, 10 ** xs[j], 10 ** xs[i], 3)[:3].mean(), rel=1e-12)


def test_offset_phase_space_matches_numpy():
    task = networks.make_task("fractal_offset", width=4)
    offsets, log_lrs = np.array([-1.0, 0.0, 0.7]), np.array([-2.0, 0.0, 2.5])
    with jax.enable_x64(True):
        got = fractal.fractal_grid(offsets, log_lrs, task=task, steps=25, dtype=np.float64)
    for i, ly in enumerate(log_lrs):
        for j, off in enumerate(offsets):
            want = np_converge(np_run(task, 10.0**ly, 10.0**ly, 25, offset=off)[:25])
            assert got[i, j] == pytest.approx(want, rel=1e-6)


def test_float32_agrees_with_float64_on_clear_cells_and_autodiff_matches():
    xs = np.linspace(-3, 6, 12)
    z32 = fractal.fractal_summaries(xs, xs, task="fractal_tanh", width=8, steps=40)
    za = fractal.fractal_summaries(xs, xs, task="fractal_tanh", width=8, steps=40, gradient="autodiff")
    with jax.enable_x64(True):
        z64 = fractal.fractal_grid(xs, xs, task="fractal_tanh", width=8, steps=40, dtype=np.float64)
    clear = np.abs(z64) > 5
    assert clear.mean() > 0.3
    assert (np.sign(z32["converge"]) == np.sign(z64))[clear].mean() > 0.97
    assert (np.sign(za["converge"]) == np.sign(z32["converge"]))[clear].mean() > 0.97
    # both phases occur in the paper's top view
    assert (z64 < 0).any() and (z64 > 0).any()


@pytest.mark.parametrize("name, width", [("fractal_single", 8), ("fractal_linear", 8)])
def test_every_kernel_of_the_registry_gives_the_same_image(name, width):
    task = networks.make_task(name, width=width)
    xs = np.linspace(-3, 3, 9)
    assert fractal.pick_kernel(task) == ("tiny" if name == "fractal_single" else "batched")
    with jax.enable_x64(True):
        got = {k: fractal.fractal_summaries(xs, xs, task=task, steps=20, dtype=np.float64, kernel=k)
               for k in fractal.KERNELS}
    trained = got["batched"]["converge"] < 0  # diverging runs amplify rounding differences
    assert 10 < trained.sum() < 71
    for k in ("tiny", "autodiff"):
        np.testing.assert_allclose(got[k]["mean"][trained], got["batched"]["mean"][trained], rtol=1e-9)
        # Trained or diverged: the same verdict, but for at most two cells on the edge itself,
        # where another program's last-bit rounding can tip a run either way.
        same = np.sign(got[k]["converge"]) == np.sign(got["batched"]["converge"])
        assert same.sum() >= same.size - 2, (k, same.size - same.sum())
    with pytest.raises(ValueError, match="kernel must be one of"):
        fractal.fractal_summaries(xs, xs, task=task, kernel="fast")


@pytest.mark.slow
def test_the_fractal_command_imports_no_more_than_it_needs(tmp_path):
    import subprocess
    import sys

    code = ("import sys; from l2l_core.cli import main; "
            f"assert main(['fractal', '--res', '4', '--steps', '2', '--out', {str(tmp_path / 'f.npz')!r}]) == 0; "
            "print(sorted(m for m in ('optax', 'flax', 'plotly', 'l2l_core.learned', 'l2l_core.landscape.general') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_tasks_are_seeded_and_shaped_as_the_paper():
    a, b = networks.make_task("fractal_tanh"), networks.make_task("fractal_tanh")
    assert a.inputs.shape == (272, 16) and a.targets.shape == (272, 1)
    assert a.init[0].shape == (16, 16) and a.init[1].shape == (16, 1)
    np.testing.assert_array_equal(a.inputs, b.inputs)
    assert not np.array_equal(a.inputs, networks.make_task("fractal_tanh", seed=1).inputs)
    assert networks.make_task("fractal_single", width=8).inputs.shape == (1, 8)
    assert networks.make_task("fractal_linear").inputs.shape == (16, 16)
    assert set(a.task_arrays()) == {"task_inputs", "task_targets", "task_init_0", "task_init_1"}


@pytest.mark.parametrize("kwargs, match", [
    (dict(task="nope"), "unknown network task"),
    (dict(width=0), "width"),
    (dict(steps=0), "steps"),
    (dict(dtype=np.int32), "dtype"),
    (dict(dtype=np.float64), "jax_enable_x64"),
    (dict(task="fractal_minibatch", width=5), "divisible"),
])
def test_bad_arguments_say_what_to_do(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fractal.fractal_summaries([0.0, 1.0], [0.0, 1.0], **kwargs)


def test_deep_zoom_switches_to_float64_and_says_where_float64_ends():
    top = fractal.default_window("fractal_tanh")
    assert fractal.choose_precision(top, 512) == "float32"
    c = 0.4321
    deep = (c - 4.5e-10, c + 4.5e-10, 1.2 - 4.5e-10, 1.2 + 4.5e-10)  # 10 decades below the 9-decade view
    assert fractal.choose_precision(deep, 512) == "float64"
    with pytest.raises(ValueError, match="float64 limit"):
        fractal.choose_precision((c, c + 1e-15, 1.2, 1.2 + 1e-15), 512)
    # the offset view's axis crosses 0: pixels at -o and +o are different weights
    assert fractal.choose_precision(fractal.default_window("fractal_offset"), 64, "offset") == "float32"
    assert fractal.choose_precision((-1e-9, 1e-9, -1, 1), 64, "offset") == "float64"
    xs, ys, z, precision = fractal.fractal_zoom(deep, 4, task="fractal_single", width=4, steps=10)
    assert precision == "float64" and z["converge"].shape == (4, 4)
    assert xs[0] == pytest.approx(deep[0], abs=1e-18)


def test_cli_writes_the_image_and_the_task_arrays(tmp_path):
    from l2l_core.cli import main

    out = tmp_path / "f.npz"
    assert main(["fractal", "--task", "fractal_single", "--width", "4", "--res", "20", "--steps", "30",
                 "--out", str(out), "--dimension"]) == 0
    d = np.load(out)
    assert {"loss", "x_values", "y_values", "meta", "task_inputs", "task_targets", "task_init_0",
            "task_init_1"} <= set(d.files)
    assert d["loss"].shape == (20, 20) and d["x_values"][0] == -3 and d["y_values"][-1] == 6
    assert "too few box sizes" in json.loads(str(d["meta"]))["dimension"]["error"]
    task = networks.task_from_arrays("fractal_single", d["task_inputs"], d["task_targets"], d["task_init_0"],
                                     d["task_init_1"])
    i, j = 3, 5  # re-train one pixel from the arrays alone
    want = np_converge(np_run(task, 10 ** d["x_values"][j], 10 ** d["y_values"][i], 30)[:30])
    assert np.sign(d["loss"][i, j]) == np.sign(want)
    assert main(["fractal", "--res", "1", "--out", str(out)]) == 2
