import json
import subprocess
import sys

import numpy as np
import pytest

from l2l_core.cli.commands import main


def test_grid_cli_saves_arrays_with_axes(tmp_path, capsys):
    out = tmp_path / "grid.npz"
    assert main(["grid", "--res", "20", "--out", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    with np.load(out) as f:
        assert f["loss"].shape == (20, 20)
        assert f["log_lrs"][0] == -3 and f["log_lrs"][-1] == 2
        assert f["log_one_minus_moms"][0] == -3 and f["log_one_minus_moms"][-1] == 0
        assert json.loads(str(f["meta"]))["steps"] == 50
    assert report["shape"] == [20, 20] and report["best"]["loss"] < 3


def test_grid_cli_csv(tmp_path, capsys):
    out = tmp_path / "grid.csv"
    assert main(["grid", "--res", "5", "--lr-range", "-2", "0", "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert len(lines) == 6 and lines[0].count(",") == 5
    assert float(lines[1].split(",")[0]) == -3.0


def test_sweep_cli(tmp_path, capsys):
    out = tmp_path / "sweep.npz"
    assert main(["sweep", "--points", "50", "--momentum", "0.9", "--out", str(out)]) == 0
    with np.load(out) as f:
        assert f["loss"].shape == (50,) and f["log_lrs"].shape == (50,)
    assert json.loads(capsys.readouterr().out)["best_loss"] < 3


def test_bad_arguments_give_one_line_error(tmp_path, capsys):
    assert main(["grid", "--res", "1", "--out", str(tmp_path / "g.npz")]) == 2
    assert "argument --res: must be an integer from 2 to 4096" in capsys.readouterr().err
    assert main(["sweep", "--momentum", "nan", "--out", str(tmp_path / "s.npz")]) == 2
    assert not (tmp_path / "s.npz").exists()


@pytest.mark.slow
def test_module_entry_point(tmp_path):
    r = subprocess.run([sys.executable, "-m", "l2l_core", "grid", "--res", "8", "--out",
                        str(tmp_path / "g.npz")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "g.npz").exists()
