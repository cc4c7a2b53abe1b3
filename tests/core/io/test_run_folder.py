"""Nothing outside a run's folder is touched through the run's own files: the lock and every
write refuse symbolic links, a lock that is not a regular file is refused, and the lock
leaves nothing behind."""

from __future__ import annotations

import os

import pytest

from l2l_core.cli.commands import main
from l2l_core.io import files


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


def test_a_symlinked_lock_never_overwrites_its_target(tmp_path, capsys):
    victim = tmp_path / "someones_file"
    victim.write_text("precious\n")
    run = tmp_path / "run"
    run.mkdir()
    (run / files.LOCK_NAME).symlink_to(victim)
    for argv in (["--preset", "tiny", "--meta-steps", "1"], ["--resume"]):
        assert main(["metatrain", *argv, "--out", str(run)]) == 2
        assert "symbolic link" in one_line_error(capsys)
        assert victim.read_text() == "precious\n"
    assert sorted(p.name for p in run.iterdir()) == [files.LOCK_NAME]  # nothing written beside it


def test_a_lock_that_is_a_folder_or_a_pipe_is_one_line(tmp_path, capsys):
    for make in (os.mkdir, os.mkfifo):
        run = tmp_path / make.__name__
        run.mkdir()
        make(run / files.LOCK_NAME)
        assert main(["metatrain", "--preset", "tiny", "--meta-steps", "1", "--out", str(run)]) == 2
        assert "where the run's lock file belongs" in one_line_error(capsys)


def test_the_lock_leaves_nothing_behind(tmp_path):
    with files.locked_dir(tmp_path / "new") as d:
        assert (d / files.LOCK_NAME).is_file()
    assert not (tmp_path / "new").exists()  # created for the run, left empty: removed
    (tmp_path / "kept").mkdir()
    with files.locked_dir(tmp_path / "kept") as d:
        (d / "result").write_text("x")
    assert [p.name for p in (tmp_path / "kept").iterdir()] == ["result"]


def test_atomic_write_never_writes_through_a_link(tmp_path):
    victim = tmp_path / "outside"
    victim.write_text("keep")
    link = tmp_path / "link.npz"
    link.symlink_to(victim)
    with pytest.raises(ValueError, match="symbolic link"):
        files.atomic_write(link, "new")
    assert victim.read_text() == "keep" and link.is_symlink()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_out_that_is_a_link_is_refused(tmp_path, capsys):
    victim = tmp_path / "outside.npz"
    victim.write_text("keep")
    (tmp_path / "g.npz").symlink_to(victim)
    assert main(["grid", "--res", "4", "--out", str(tmp_path / "g.npz"), "--force"]) == 2
    assert "symbolic link" in one_line_error(capsys)
    assert victim.read_text() == "keep"


def test_a_run_file_linked_out_of_the_run_is_refused(tmp_path, capsys):
    victim = tmp_path / "outside"
    victim.write_text("keep")
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").symlink_to(victim)
    assert main(["metatrain", "--preset", "tiny", "--meta-steps", "1", "--out", str(run), "--force"]) == 2
    assert "a run writes only its own files" in one_line_error(capsys)
    assert victim.read_text() == "keep"
    assert not (run / files.LOCK_NAME).exists()


def test_a_symlink_loop_as_out_is_one_line(tmp_path, capsys):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    for argv in (["grid", "--res", "4", "--out", str(tmp_path / "a" / "g.npz")],
                 ["metatrain", "--preset", "tiny", "--out", str(tmp_path / "a")],
                 ["reproduce", "--small", "--out", str(tmp_path / "a")],
                 ["fractal", "--res", "4", "--out", str(tmp_path / "a" / "f.npz")]):
        assert main(argv) == 2, argv
        assert "loop" in one_line_error(capsys)
