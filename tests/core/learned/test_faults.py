"""Faults: truncated, foreign and tampered checkpoints, failed saves, a killed
saver, and non-finite numbers from computations (data, not crashes)."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import pytest
from flax import serialization

from l2l_core import landscape
from l2l_core.io import files
from l2l_core.learned import checkpoints
from l2l_core.learned.checkpoints import FILENAME, load_checkpoint, save_checkpoint
from l2l_core.learned.config import MetaTrainConfig
from l2l_core.learned.lstm import init_meta_params

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def params():
    return init_meta_params(jax.random.PRNGKey(0), MetaTrainConfig().lstm)


@pytest.fixture
def saved(tmp_path, params):
    cfg = MetaTrainConfig()
    save_checkpoint(tmp_path, params, cfg, curve={"loss": np.arange(5.0)}, summary={"steps": 5})
    return tmp_path


def leaves_equal(a, b):
    return all(np.array_equal(np.asarray(x), np.asarray(y))
               for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def test_round_trip(saved, params):
    ck = load_checkpoint(saved)
    assert leaves_equal(ck.params, params) and ck.summary == {"steps": 5}


@pytest.mark.parametrize("fraction", [0.0, 0.01, 0.3, 0.5, 0.9, 0.999])
def test_truncated_file_is_a_clear_error(saved, fraction):
    f = saved / FILENAME
    data = f.read_bytes()
    f.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(ValueError, match="truncated|not a checkpoint|corrupt"):
        load_checkpoint(saved)


FOREIGN = {
    "text": b"hello, this is not a checkpoint\n",
    "json": b'{"format": "l2l-lstm-optimizer", "version": 1}',
    "png": b"\x89PNG\r\n\x1a\n" + bytes(64),
    "pickle stream": b"\x80\x04\x95\x1f\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94\x8c\x06system\x94\x93\x94.",
    "random": np.random.default_rng(0).bytes(4096),
    "msgpack, other format": serialization.msgpack_serialize({"format": "something-else", "version": 1}),
    "msgpack, a list": serialization.msgpack_serialize([1, 2, 3]),
    "msgpack, future version": serialization.msgpack_serialize(
        {"format": checkpoints.FORMAT, "version": 99, "sha256": "", "payload": b""}),
    "msgpack, payload not msgpack": serialization.msgpack_serialize(
        {"format": checkpoints.FORMAT, "version": checkpoints.VERSION,
         "sha256": __import__("hashlib").sha256(b"\xc1\xc1").hexdigest(), "payload": b"\xc1\xc1"}),
}


@pytest.mark.parametrize("name", list(FOREIGN))
def test_foreign_file_is_a_clear_error_and_never_run(tmp_path, name):
    (tmp_path / FILENAME).write_bytes(FOREIGN[name])
    with pytest.raises(ValueError) as e:
        load_checkpoint(tmp_path)
    assert str(tmp_path) in str(e.value)


def test_tampered_payload_fails_the_checksum(saved):
    f = saved / FILENAME
    outer = serialization.msgpack_restore(f.read_bytes())
    payload = bytearray(outer["payload"])
    payload[len(payload) // 2] ^= 0xFF
    outer["payload"] = bytes(payload)
    f.write_bytes(serialization.msgpack_serialize(outer))
    with pytest.raises(ValueError, match="checksum"):
        load_checkpoint(saved)


def test_oversized_file_is_refused_without_reading_it(tmp_path):
    f = tmp_path / FILENAME
    with open(f, "wb") as h:
        h.truncate(checkpoints.MAX_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(ValueError, match="larger than"):
        load_checkpoint(tmp_path)


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no checkpoint"):
        load_checkpoint(tmp_path / "nowhere")


def _no_temp_files(folder: Path):
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_disk_full_during_save_says_so_and_keeps_the_old_checkpoint(saved, params, monkeypatch):
    before = (saved / FILENAME).read_bytes()

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoints.os, "fsync", full)
    new = jax.tree.map(lambda x: np.asarray(x) + 1.0, params)
    with pytest.raises(OSError, match="No space left"):
        save_checkpoint(saved, new, MetaTrainConfig(), summary={"steps": 6})
    monkeypatch.undo()
    assert (saved / FILENAME).read_bytes() == before
    assert leaves_equal(load_checkpoint(saved).params, params)
    assert _no_temp_files(saved) == []


def test_read_only_folder_save_says_so_and_keeps_the_old_checkpoint(saved, params, monkeypatch):
    before = (saved / FILENAME).read_bytes()
    if os.geteuid() == 0:
        # root ignores permission bits: make the folder refuse new files as a read-only mount would.
        def refuse(*a, **k):
            raise PermissionError(errno.EROFS, "Read-only file system", str(saved))

        monkeypatch.setattr(files.tempfile, "mkstemp", refuse)
    else:
        saved.chmod(0o555)
    try:
        with pytest.raises(OSError) as e:
            save_checkpoint(saved, params, MetaTrainConfig())
        assert str(saved) in str(e.value)
    finally:
        saved.chmod(0o755)
    assert (saved / FILENAME).read_bytes() == before
    assert _no_temp_files(saved) == []


KILLED_SAVER = """
import sys, jax, numpy as np
from l2l_core.learned.checkpoints import save_checkpoint
from l2l_core.learned.lstm import init_meta_params
from l2l_core.learned.config import MetaTrainConfig
cfg = MetaTrainConfig()
p = init_meta_params(jax.random.PRNGKey(0), cfg.lstm)
big = {"loss": np.random.default_rng(0).normal(size=400_000)}
i = 0
while True:
    i += 1
    save_checkpoint(sys.argv[1], jax.tree.map(lambda x: np.asarray(x) * 0 + i, p), cfg,
                    curve=big, summary={"i": i})
    print(i, flush=True)
"""


@pytest.mark.slow
def test_saver_killed_midway_loses_no_finished_checkpoint(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", KILLED_SAVER, str(tmp_path)], cwd=ROOT,
                            env=dict(os.environ, JAX_PLATFORMS="cpu"), stdout=subprocess.PIPE, text=True)
    try:
        done = [int(proc.stdout.readline())]
        time.sleep(0.3)  # let it get into the middle of later saves
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    ck = load_checkpoint(tmp_path)
    i = ck.summary["i"]
    assert i >= done[0]
    assert all(np.all(np.asarray(x) == i) for x in jax.tree.leaves(ck.params))


# -- non-finite numbers are data --------------------------------------------------


def test_non_finite_runs_are_nan_cells_not_exceptions():
    lrs, omm = np.linspace(-3, 3, 7), np.linspace(-3, 0, 5)
    z = landscape.meta_loss_grid(lrs, omm, problem="exp(x**2)", x0=-4.0, steps=10)
    assert np.isnan(z).all()  # exp(16) grows without bound: every run diverges
    z = landscape.meta_loss_grid(lrs, omm, problem="log(x)", x0=-4.0, steps=10)
    assert np.isnan(z).all()  # log of a negative number
    z = landscape.meta_loss_grid(lrs, omm, problem="parabola", steps=20)
    assert np.isnan(z).any() and np.isfinite(z).any()
    s = landscape.lr_sweep(np.linspace(-3, 3, 9), 0.9, problem="1/x", x0=0.0, steps=5)
    assert s.shape == (9,) and not np.isfinite(s).any()
