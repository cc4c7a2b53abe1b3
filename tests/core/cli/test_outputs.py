"""Output paths, the run lock, periodic checkpoints and --resume, and reproduce's
skipped figures: every bad --out is one line and exit 2 before any work."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from l2l_core.cli.commands import main

ROOT = Path(__file__).resolve().parents[3]


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


# -- --out of grid and sweep ---------------------------------------------------------------------


def test_out_under_proc_is_refused(capsys):
    assert main(["grid", "--res", "4", "--out", "/proc/sys/l2l_nothing/g.npz"]) == 2
    one_line_error(capsys)


def test_out_under_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    assert main(["grid", "--res", "4", "--out", str(tmp_path / "f" / "g.npz")]) == 2
    assert "not a folder" in one_line_error(capsys)


def test_out_a_folder_is_refused_and_leaves_no_temp_file(tmp_path, capsys):
    (tmp_path / "d").mkdir()
    assert main(["sweep", "--points", "4", "--out", str(tmp_path / "d")]) == 2
    assert "is a folder" in one_line_error(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]


def test_existing_file_is_replaced_only_with_force(tmp_path, capsys):
    out = tmp_path / "g.npz"
    out.write_bytes(b"keep me")
    assert main(["grid", "--res", "4", "--out", str(out)]) == 2
    assert "--force" in one_line_error(capsys)
    assert out.read_bytes() == b"keep me"
    assert main(["grid", "--res", "4", "--out", str(out), "--force"]) == 0
    with np.load(out) as f:
        assert f["loss"].shape == (4, 4)


def test_special_file_is_never_replaced(tmp_path, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert main(["grid", "--res", "4", "--out", str(fifo), "--force"]) == 2
    assert "named pipe" in one_line_error(capsys)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    link = tmp_path / "full.npz"
    link.symlink_to("/dev/full")
    assert main(["grid", "--res", "4", "--out", str(link), "--force"]) == 2
    one_line_error(capsys)
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_unwritable_parent_is_refused(tmp_path, capsys, monkeypatch):
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, m, **k: False if Path(p) == tmp_path else real(p, m, **k))
    assert main(["sweep", "--points", "4", "--out", str(tmp_path / "s.csv")]) == 2
    assert "not writable" in one_line_error(capsys)


def _must_not_run(*args, **kwargs):
    raise AssertionError("the work started before the arguments were checked")


# -- metatrain ------------------------------------------------------------------------------------


def test_metatrain_out_a_file_fails_before_training(tmp_path, capsys, monkeypatch):
    (tmp_path / "f").write_text("x")
    monkeypatch.setattr("l2l_core.cli.learned.run_with_checkpoints", _must_not_run)
    assert main(["metatrain", "--preset", "tiny", "--out", str(tmp_path / "f")]) == 2
    assert "give a folder" in one_line_error(capsys)


def test_metatrain_refuses_a_folder_another_run_holds(tmp_path, capsys):
    from l2l_core.io.files import locked_dir

    with locked_dir(tmp_path / "run"):
        assert main(["metatrain", "--preset", "tiny", "--out", str(tmp_path / "run")]) == 2
    assert "another run is writing" in one_line_error(capsys)
    assert not (tmp_path / "run" / "checkpoint.msgpack").exists()


def test_metatrain_keeps_an_existing_checkpoint_without_force(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["metatrain", "--preset", "tiny", "--meta-steps", "2", "--out", str(out), "--json"]) == 0
    before = (out / "checkpoint.msgpack").read_bytes()
    capsys.readouterr()
    assert main(["metatrain", "--preset", "tiny", "--meta-steps", "2", "--seed", "3", "--out", str(out)]) == 2
    assert "--force" in one_line_error(capsys)
    assert (out / "checkpoint.msgpack").read_bytes() == before
    capsys.readouterr()
    assert main(["metatrain", "--preset", "tiny", "--meta-steps", "2", "--seed", "3", "--out", str(out),
                 "--force", "--val-tasks", "3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["config"]["val_tasks"] == 3
    assert (out / "checkpoint.msgpack").read_bytes() != before
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.msgpack", "run.json"]  # the lock went with the run


def test_resume_after_an_interruption_is_bit_for_bit(tmp_path):
    from l2l_core.learned.checkpoints import load_checkpoint
    from l2l_core.learned.config import preset_config
    from l2l_core.learned.metatrain import metatrain
    from l2l_core.learned.resume import STATE_FILE, run_with_checkpoints

    cfg = preset_config("tiny", meta_steps=8, chunk=2)
    whole = metatrain(cfg)

    class Killed(Exception):
        pass

    def kill_at_6(p):
        if p.done == 6:
            raise Killed  # before the 6-step snapshot is saved: the 4-step one is the last

    with pytest.raises(Killed):
        run_with_checkpoints(cfg, tmp_path, callback=kill_at_6)
    partial = load_checkpoint(tmp_path)
    assert partial.summary["meta_steps_done"] == 4 and len(partial.curve["meta_loss"]) == 4
    assert (tmp_path / STATE_FILE).exists()

    result, summary, _ = run_with_checkpoints(dataclasses.replace(cfg, seed=99), tmp_path, resume=True)
    assert result.config == cfg and summary["meta_steps_done"] == 8
    for k in whole.curve:
        np.testing.assert_array_equal(result.curve[k], whole.curve[k])
    for a, b in zip(jax_leaves(result.last_params), jax_leaves(whole.last_params)):
        np.testing.assert_array_equal(a, b)
    assert not (tmp_path / STATE_FILE).exists()


def jax_leaves(tree):
    import jax

    return [np.asarray(x) for x in jax.tree.leaves(tree)]


@pytest.mark.slow
def test_sigkill_midway_then_resume_finishes_the_run(tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "l2l_core", "metatrain", "--preset", "tiny", "--meta-steps", "400", "--out", str(out)]
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        # A chunk writes its snapshot, then the checkpoint: wait for both (a kill between
        # the two leaves a resumable run without a checkpoint yet).
        while not ((out / "train_state.msgpack").exists() and (out / "checkpoint.msgpack").exists()):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        from l2l_core.io.files import locked_dir

        with pytest.raises(ValueError, match="another run is writing"), locked_dir(out):
            pass
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    from l2l_core.learned.checkpoints import load_checkpoint

    saved = load_checkpoint(out).summary["meta_steps_done"]
    assert 0 < saved < 400
    r = subprocess.run(cmd[:4] + ["--out", str(out), "--resume", "--json"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    ck = load_checkpoint(out)
    assert ck.summary["meta_steps_done"] == 400 and len(ck.curve["meta_loss"]) == 400
    assert np.all(np.isfinite(ck.curve["meta_loss"]))


def test_resume_with_nothing_saved_is_a_clear_error(tmp_path, capsys):
    assert main(["metatrain", "--out", str(tmp_path), "--resume"]) == 2
    assert "nothing to resume" in one_line_error(capsys)


# -- reproduce ----------------------------------------------------------------------------------


def test_reproduce_with_a_damaged_checkpoint_fails_before_work(tmp_path, capsys, monkeypatch):
    (tmp_path / "ck").mkdir()
    (tmp_path / "ck" / "checkpoint.msgpack").write_bytes(b"\x00" * 100)
    monkeypatch.setattr("l2l_core.cli.figures.reproduce", _must_not_run)
    assert main(["reproduce", "--out", str(tmp_path / "out"), "--small", "--checkpoint", str(tmp_path / "ck")]) == 2
    one_line_error(capsys)
    assert not (tmp_path / "out").exists()


def test_reproduce_out_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    assert main(["reproduce", "--out", str(tmp_path / "f"), "--small"]) == 2
    one_line_error(capsys)


def test_skipped_figures_are_named_with_the_reason():
    from l2l_core.cli import figures as reproduce

    head = {"figures": {k: {} for k in reproduce.FIGURES if k != "quadratic_comparison"},
            "quadratic": {"lstm_skipped": "no usable learned-optimizer checkpoint: damaged"}}
    why = "no usable learned-optimizer checkpoint: damaged"
    assert reproduce.skipped_figures(head) == {"quadratic_comparison": why}
    assert reproduce.skipped_figures({"figures": dict.fromkeys(reproduce.FIGURES)}) == {}


def test_headline_reports_skipped_figures_on_stdout(tmp_path, capsys, monkeypatch):
    from l2l_core.cli import figures as reproduce

    def fake(out, config, checkpoint=None, log=print):
        head = {"figures": {}, "quadratic": {"skipped": "engine unavailable"}, "seconds": {"total": 0.1}}
        head["skipped"] = reproduce.skipped_figures(head)
        return head

    monkeypatch.setattr(reproduce, "reproduce", fake)
    assert main(["reproduce", "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "skipped quadratic_comparison: engine unavailable" in out
    assert out.count("skipped ") == len(reproduce.FIGURES)
