"""``generalization --out``: a .json file is the whole record the page shows (with its command and
date), any other name the table as CSV; an unwritable --out is refused before any work."""

import json

from l2l_core.cli.commands import main


def test_generalization_out_json_is_the_whole_record(tmp_path, capsys):
    out = tmp_path / "map.json"
    assert main(["generalization", "--cells", "quadratic_d20", "--batch", "4", "--lr-points", "3",
                 "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    assert [r["key"] for r in res["rows"]] == ["quadratic_d20"]
    assert set(res["rows"][0]["learned"]) == {"quadratic", "digits_mlp"}
    assert res["command"] == ("python -m l2l_core generalization --seed 0 --cells quadratic_d20 --batch 4 "
                              f"--lr-points 3 --out {out}")
    assert res["created"].endswith("UTC") and isinstance(res["failures"], list)
    assert res["optimizers"]["quadratic"].endswith("checkpoints/default")


def test_generalization_out_csv_and_a_bad_folder(tmp_path, capsys):
    out = tmp_path / "map.csv"
    assert main(["generalization", "--cells", "quadratic_d20", "--batch", "4", "--lr-points", "3",
                 "--out", str(out)]) == 0
    assert out.read_text().startswith("setting,steps,best tuned baseline")
    capsys.readouterr()
    code = main(["generalization", "--cells", "quadratic_d20", "--out", str(tmp_path / "no" / "map.json")])
    assert code != 0
    err = capsys.readouterr().err
    assert "does not exist" in err and "quadratic, dim 20" not in err  # refused before computing the cell
    assert main(["generalization", "--cells", "quadratic_d20", "--out", str(out)]) != 0  # exists: needs --force
    assert "--force" in capsys.readouterr().err
