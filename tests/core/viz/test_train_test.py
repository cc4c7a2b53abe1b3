"""Train against test, in words: a learned optimizer that wins on training loss and loses on
test loss is said to overfit, on the learned page's comparison and on the generalization map."""

from __future__ import annotations

import json
from pathlib import Path

from l2l_core.viz.generalization import OPTIMIZER_LABELS, generalization_rows
from l2l_core.viz.train_test import comparison_lines, map_lines, versus

MAP = Path(__file__).resolve().parents[3] / "checkpoints" / "generalization.json"


def comparison(lstm_train, lstm_test, **baselines):
    """A network comparison's result: training loss in final, the test split in test."""
    final = {"lstm": lstm_train, **{k: v[0] for k, v in baselines.items()}}
    test = {"lstm": {"test_loss": lstm_test, "test_accuracy": 0.90},
            **{k: {"test_loss": v[1], "test_accuracy": 0.92} for k, v in baselines.items()}}
    return {"final": final, "test": test}


def test_a_training_win_that_loses_on_test_is_called_overfitting():
    lines = comparison_lines(comparison(0.178, 0.50, nag=(0.190, 0.44), adam=(0.30, 0.60)))
    flip = [s for s in lines if "NAG" in s]
    assert flip == ["LSTM (learned): lower training loss than NAG (0.178 vs 0.19), but higher test loss "
                    "(0.5 vs 0.44); test accuracy 90.0% vs 92.0%: it overfits here."]
    assert any("ranks as training loss does (below Adam on both)" in s for s in lines)


def test_the_reverse_flip_is_said_too():
    line = versus("SGD", 0.3, 0.2, 0.4, 0.5)
    assert line.startswith("higher training loss than SGD") and "but lower test loss" in line


def test_agreement_and_missing_test_split_say_no_flip():
    assert versus("Adam", 0.1, 0.2, 0.3, 0.4) is None and versus("Adam", 0.1, 0.2, float("nan"), 0.4) is None
    assert comparison_lines({"final": {"lstm": 0.1, "adam": 0.2}}) == []  # quadratics: no test split


def test_the_shipped_map_says_where_the_digits_optimizer_overfits():
    res = json.loads(MAP.read_text())
    lines = map_lines(res, OPTIMIZER_LABELS)
    digits = [s for s in lines if s.startswith("digits MLP (20 sigmoid, 100 steps), LSTM trained on the digits MLP")]
    assert len(digits) == 1 and "lower training loss than the tuned NAG" in digits[0] and "overfits" in digits[0]
    for row in res["rows"]:  # every flip found is a real disagreement of the two losses
        base = row.get("baseline_test") or {}
        for name, c in row["learned"].items():
            if "test_loss" in c and "test_loss" in base and not c["diverged"]:
                flips = (c["final"] < row["best_baseline_final"]) != (c["test_loss"] < base["test_loss"])
                assert flips == any(s.startswith(f"{row['label']}, {OPTIMIZER_LABELS[name]}:") for s in lines)


def test_the_map_table_holds_training_and_test_loss_side_by_side():
    res = json.loads(MAP.read_text())
    row = next(r for r in generalization_rows(res) if r["setting"].startswith("digits MLP (20 sigmoid, 100"))
    assert {"digits_mlp LSTM training loss", "digits_mlp LSTM test loss", "baseline test loss"} <= set(row)
