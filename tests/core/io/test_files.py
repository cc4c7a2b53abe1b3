"""l2l_core.io.files: the one atomic write, the one CSV/NPZ writer and the run lock."""

from __future__ import annotations

import csv
import errno
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from l2l_core.io import files

ROOT = Path(__file__).resolve().parents[3]


def test_atomic_write_replaces_and_leaves_nothing_else(tmp_path):
    target = tmp_path / "a.txt"
    files.atomic_write(target, "one")
    files.atomic_write(target, b"two")
    assert target.read_bytes() == b"two" and oct(target.stat().st_mode & 0o777) == "0o644"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_atomic_write_failure_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "a.txt"
    files.atomic_write(target, "old")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="No space"):
        files.atomic_write(target, "new")
    monkeypatch.undo()
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_atomic_write_never_replaces_a_folder_or_a_pipe(tmp_path):
    (tmp_path / "d").mkdir()
    os.mkfifo(tmp_path / "p")
    for name in ("d", "p"):
        with pytest.raises(ValueError, match="not a regular file"):
            files.atomic_write(tmp_path / name, "x")
    assert (tmp_path / "d").is_dir() and sorted(p.name for p in tmp_path.iterdir()) == ["d", "p"]


def test_csv_grid_reads_back_with_the_csv_module(tmp_path):
    lrs, omm = np.array([-3.0, 0.5]), np.array([-2.0, -1.0, 0.0])
    z = np.arange(6, dtype=np.float32).reshape(3, 2)
    z[1, 0] = np.nan
    rows = list(csv.reader(io.StringIO(files.csv_text({"loss": z, "log_lrs": lrs, "log_one_minus_moms": omm}))))
    assert [float(v) for v in rows[0][1:]] == [-3.0, 0.5]
    assert [float(r[0]) for r in rows[1:]] == [-2.0, -1.0, 0.0]
    got = np.array([[float(v) for v in r[1:]] for r in rows[1:]])
    np.testing.assert_array_equal(got, z)


def test_columns_csv_and_unequal_columns():
    rows = list(csv.DictReader(io.StringIO(files.columns_csv(x=[0.1, 2], y=[3, float("inf")]))))
    assert rows == [{"x": "0.1", "y": "3"}, {"x": "2", "y": "inf"}]
    with pytest.raises(ValueError, match="differ in length"):
        files.columns_csv(x=[1, 2], y=[1])


def test_npz_round_trip_and_no_object_arrays(tmp_path):
    path = files.write_arrays(tmp_path / "a.npz", {"loss": np.ones(3)}, {"steps": 5})
    with np.load(path, allow_pickle=False) as f:
        assert f["loss"].tolist() == [1, 1, 1] and '"steps": 5' in str(f["meta"])
    with pytest.raises(ValueError, match="dtype object"):
        files.npz_bytes(bad=np.array([{}], dtype=object))


LOCK_HOLDER = """
import sys, time
from l2l_core.io.files import locked_dir
with locked_dir(sys.argv[1]):
    print("held", flush=True)
    time.sleep(600)
"""


def test_lock_is_refused_while_held_and_free_after_the_holder_is_killed(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                            cwd=str(ROOT))
    try:
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(ValueError, match=f"another run is writing to .*process {proc.pid}"):
            with files.locked_dir(tmp_path):
                pass
    finally:
        proc.kill()
        proc.wait(10)
    deadline = time.monotonic() + 10
    with files.locked_dir(tmp_path):  # the kernel dropped the dead process's lock
        assert time.monotonic() < deadline


def test_check_output_paths_accept_the_ordinary_cases(tmp_path):
    assert files.check_output_file(tmp_path / "new.npz") == tmp_path / "new.npz"
    (tmp_path / "old.npz").write_bytes(b"x")
    assert files.check_output_file(tmp_path / "old.npz", force=True)
    assert files.check_output_dir(tmp_path) == tmp_path
    assert files.check_output_dir(tmp_path / "new") == tmp_path / "new"
    with pytest.raises(ValueError, match="does not exist"):
        files.check_output_dir(tmp_path / "a" / "b")
