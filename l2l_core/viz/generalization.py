"""The generalization map as a figure and a table: data in, ``go.Figure`` / rows out."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

DIVERGED_RATIO = 100.0  # where a diverged bar is drawn (log axis); it is labelled, not measured
#: Longest bar drawn: a larger ratio ends here, labelled with its true value and hatched.
CAPPED_RATIO = 30.0
#: The x axis' range (log10): room right of the diverged bars for their labels.
X_RANGE = (math.log10(0.1), math.log10(DIVERGED_RATIO * 10))
OPTIMIZER_COLORS = {"quadratic": "#d62728", "digits_mlp": "#ff7f0e"}
OPTIMIZER_LABELS = {"quadratic": "LSTM trained on quadratics", "digits_mlp": "LSTM trained on the digits MLP"}


def generalization_figure(result: dict, title: str = "Where the learned optimizers generalize") -> go.Figure:
    """Ratio of each learned optimizer's final loss to the best tuned baseline's, one bar per cell.

    Log axis; the line at 1 separates wins (left) from losses (right); a
    diverged run is a hatched bar at the right edge labelled "diverged"; a ratio above
    CAPPED_RATIO is drawn at it, hatched, with its true value as the label.
    """
    rows = result["rows"]
    labels = [r["label"] + (" (trained here)" if r.get("trained_on") else "") for r in rows][::-1]
    names = list(rows[0]["learned"]) if rows else []
    fig = go.Figure()
    for name in names:
        cells = [r["learned"][name] for r in rows][::-1]
        x, text, shape = [], [], []
        for c in cells:
            r = c["ratio"]
            if c["diverged"] or r is None:
                x.append(DIVERGED_RATIO), text.append("diverged"), shape.append("x")
            elif r > CAPPED_RATIO:  # off the axis otherwise: drawn at the cap, its value said
                x.append(CAPPED_RATIO), text.append(f"{r:.3g}x (bar cut)"), shape.append("/")
            else:
                x.append(r), text.append(f"{r:.2f}x"), shape.append("")
        fig.add_bar(y=labels, x=x, orientation="h", name=OPTIMIZER_LABELS.get(name, name), text=text,
                    textposition="outside", cliponaxis=False, marker=dict(
                        color=OPTIMIZER_COLORS.get(name, "#333333"), pattern=dict(shape=shape)),
                    hovertemplate="%{y}: %{text} the best tuned baseline<extra>" + name + "</extra>")
    fig.add_vline(x=1.0, line=dict(color="black", dash="dash"))
    fig.update_layout(title=title, barmode="group", height=120 + 46 * max(1, len(rows)),
                      xaxis=dict(type="log", title="final loss / best tuned baseline's (below 1: learned wins)",
                                 range=list(X_RANGE), tickmode="array", tickvals=[0.1, 0.3, 1, 3, 10, 30, 100],
                                 ticktext=["0.1", "0.3", "1", "3", "10", "30", "100"]),
                      margin=dict(l=260, r=30, t=60, b=50), legend=dict(orientation="h", y=-0.12))
    return fig


def generalization_rows(result: dict) -> list[dict]:
    """One table row per cell: the best tuned baseline and every learned optimizer's ratio to it."""
    out = []
    for r in result["rows"]:
        row = {"setting": r["label"], "steps": r["steps"], "best tuned baseline": r["best_baseline"],
               "its final loss": r["best_baseline_final"], "tuned Adam": r["baselines"]["adam"]}
        for name, c in r["learned"].items():
            row[f"{name} LSTM"] = "diverged" if c["diverged"] else (
                f"{c['ratio']:.2f}x ({'wins' if c['ratio'] < 1 else 'loses'})")
            if "test_loss" in c:
                row[f"{name} LSTM training loss"] = c.get("final")
                row[f"{name} LSTM test loss"] = c["test_loss"]
            if "test_accuracy" in c:
                row[f"{name} LSTM test acc."] = c["test_accuracy"]
        if r.get("baseline_test"):
            if "test_loss" in r["baseline_test"]:
                row["baseline test loss"] = r["baseline_test"]["test_loss"]
            row["baseline test acc."] = r["baseline_test"]["test_accuracy"]
        out.append(row)
    return out


def generalization_csv(result: dict) -> str:
    rows = generalization_rows(result)
    cols = list(dict.fromkeys(k for row in rows for k in row))
    fmt = lambda v: "" if v is None else (f"{v:.6g}" if isinstance(v, (float, np.floating)) else str(v))  # noqa: E731
    return "\n".join([",".join(cols)] + [",".join(fmt(row.get(c)) for c in cols) for row in rows]) + "\n"
