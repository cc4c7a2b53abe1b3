"""Training loss beside test loss, said in words: where a learned optimizer's lower training
loss does not carry over to the held-out test split, the sentence says so.

Pure functions of the result dictionaries (no plotting, no streamlit), so the pages and the
tests read the same sentences.
"""

from __future__ import annotations

import math

from l2l_core.viz.style import OPTIMIZER_LABELS


def _finite(*values) -> bool:
    return all(v is not None and math.isfinite(float(v)) for v in values)


def _acc(acc, base_acc) -> str:
    return f"; test accuracy {100 * acc:.1f}% vs {100 * base_acc:.1f}%" if _finite(acc, base_acc) else ""


def versus(base: str, train: float, base_train: float, test: float, base_test: float,
           acc: float | None = None, base_acc: float | None = None) -> str | None:
    """The sentence when training and test loss disagree on who is better, else None.

    ``train``/``test`` are the learned optimizer's, ``base_*`` the baseline's (named ``base``).
    """
    if not _finite(train, base_train, test, base_test):
        return None
    nums = (f" ({train:.4g} vs {base_train:.4g})", f" ({test:.4g} vs {base_test:.4g})")
    if train < base_train and test > base_test:
        return (f"lower training loss than {base}{nums[0]}, but higher test loss{nums[1]}"
                f"{_acc(acc, base_acc)}: it overfits here")
    if train > base_train and test < base_test:
        return (f"higher training loss than {base}{nums[0]}, but lower test loss{nums[1]}"
                f"{_acc(acc, base_acc)}: it generalizes better than its training loss suggests")
    return None


def comparison_lines(res: dict, learned: str = "lstm", labels: dict | None = None) -> list[str]:
    """Sentences for a network comparison (``res["final"]``: training loss per optimizer,
    ``res["test"]``: {name: {test_loss, test_accuracy}}); [] when there is no test split."""
    labels = OPTIMIZER_LABELS if labels is None else labels
    test = res.get("test") or {}
    if learned not in test or learned not in res.get("final", {}):
        return []
    me, mine = res["final"][learned], test[learned]
    name = labels.get(learned, learned)
    out, agree_wins, agree_losses = [], [], []
    for base, t in test.items():
        if base == learned or base not in res["final"]:
            continue
        b = labels.get(base, base)
        line = versus(b, me, res["final"][base], mine.get("test_loss"), t.get("test_loss"),
                      mine.get("test_accuracy"), t.get("test_accuracy"))
        if line:
            out.append(f"{name}: {line}.")
        elif _finite(me, res["final"][base]):
            (agree_wins if me < res["final"][base] else agree_losses).append(b)
    if agree_wins or agree_losses:
        parts = ([f"below {', '.join(agree_wins)}"] if agree_wins else []) + (
            [f"above {', '.join(agree_losses)}"] if agree_losses else [])
        out.append(f"{name}: test loss ranks as training loss does ({' and '.join(parts)} on both).")
    return out


def map_lines(res: dict, labels: dict | None = None) -> list[str]:
    """Sentences for the generalization map: every setting with a test split where a learned
    optimizer's training-loss verdict against the best tuned baseline flips on test loss."""
    labels = labels or {}
    out = []
    for row in res.get("rows", []):
        base = row.get("baseline_test") or {}
        if "test_loss" not in base:
            continue
        for name, c in row["learned"].items():
            if c.get("diverged"):
                continue
            b = row["best_baseline"]
            line = versus(f"the tuned {OPTIMIZER_LABELS.get(b, b)}", c.get("final"), row.get("best_baseline_final"),
                          c.get("test_loss"), base.get("test_loss"), c.get("test_accuracy"), base.get("test_accuracy"))
            if line:
                out.append(f"{row['label']}, {labels.get(name, name)}: {line}.")
    return out
