"""One error boundary: every file error is one line, ``error: PATH: what; what to do``, exit
code 2, with no traceback, no partial file, no temp file and no lock left behind."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from l2l_core.cli.commands import main


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


def _failing_fsync(code):
    def fsync(fd):
        raise OSError(code, os.strerror(code))

    return fsync


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith(".tmp") or p.name == ".lock")


@pytest.mark.parametrize("code, hint", [(errno.ENOSPC, "free some space"), (errno.EIO, "check it"),
                                        (errno.EACCES, "permissions"), (errno.EROFS, "read-only")])
def test_a_failing_disk_is_one_line_and_keeps_the_old_file(tmp_path, capsys, monkeypatch, code, hint):
    out = tmp_path / "g.npz"
    out.write_bytes(b"old")
    monkeypatch.setattr(os, "fsync", _failing_fsync(code))
    assert main(["grid", "--res", "4", "--steps", "2", "--out", str(out), "--force"]) == 2
    err = one_line_error(capsys)
    assert os.strerror(code) in err and hint in err and str(out) in err
    assert out.read_bytes() == b"old" and leftovers(tmp_path) == []


def test_a_full_disk_during_metatrain_leaves_no_lock_nor_temp(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(os, "fsync", _failing_fsync(errno.ENOSPC))
    run = tmp_path / "run"
    assert main(["metatrain", "--preset", "tiny", "--meta-steps", "2", "--chunk", "1", "--out", str(run),
                 "--json"]) == 2
    err = one_line_error(capsys)
    assert "free some space" in err and str(run / "train_state.msgpack") in err
    assert leftovers(tmp_path) == []


def test_a_name_too_long_is_one_line(tmp_path, capsys):
    for argv in (["grid", "--res", "4", "--steps", "2", "--out", str(tmp_path / ("x" * 300 + ".npz"))],
                 ["metatrain", "--preset", "tiny", "--meta-steps", "1", "--out", str(tmp_path / ("r" * 300))],
                 ["compare", "--checkpoint", str(tmp_path / ("c" * 300)), "--batch", "1"]):
        assert main(argv) == 2, argv
        one_line_error(capsys)
    assert list(tmp_path.iterdir()) == []


def test_special_and_unreadable_files_where_a_checkpoint_should_be(tmp_path, capsys, monkeypatch):
    fifo = tmp_path / "ck"
    fifo.mkdir()
    os.mkfifo(fifo / "checkpoint.msgpack")
    assert main(["compare", "--checkpoint", str(fifo), "--batch", "1"]) == 2
    assert "not a regular file" in one_line_error(capsys)
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "checkpoint.msgpack").write_bytes(b"x")

    def unreadable(self):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))

    monkeypatch.setattr(Path, "read_bytes", unreadable)
    assert main(["compare", "--checkpoint", str(tmp_path / "ok"), "--batch", "1"]) == 2
    err = one_line_error(capsys)
    assert "checkpoint.msgpack" in err and "permissions" in err


def test_a_refused_value_from_the_core_is_one_line_too(tmp_path, capsys):
    assert main(["grid", "--res", "4", "--problem", "__import__('os')", "--out", str(tmp_path / "g.npz")]) == 2
    one_line_error(capsys)
    assert list(tmp_path.iterdir()) == []
