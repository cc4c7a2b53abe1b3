"""The tour tells the truth: every number a step states is what the page its link
opens shows (same cached call, same settings), and its caption counts its steps."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import open_page
from ui.tour_steps import STEP_REGISTRY, count_words

ROOT = Path(__file__).resolve().parents[2]
NUM = r"[-+]?\d[\d,]*\.?\d*(?:e[-+]?\d+)?"


def tour(step: int) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.query_params["step"] = str(step)
    at.run()
    assert not at.exception, at.exception
    return at


def num(text: str) -> float:
    return float(re.search(NUM, str(text)).group(0).replace(",", ""))


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def texts(at) -> str:
    return " ".join([c.value for c in at.caption] + [m.value for m in at.markdown])


def close(a: float, b: float, digits: int = 4) -> bool:
    """Equal to the digits both show."""
    return abs(a - b) <= 1.01 * 10 ** -digits * max(1.0, abs(a), abs(b))


def compare_inner(step_at, page_at) -> int:
    t, p = metrics(step_at), metrics(page_at)
    pairs = [("final x", "final x"), ("outer loss (mean inner loss)", "outer loss")]
    n = 0
    for tk, pk in pairs:
        if tk in t:
            assert close(num(t[tk]), num(p[pk]), 3), (tk, t[tk], p[pk])
            n += 1
    return n


def compare_sweep(step_at, page_at) -> int:
    m = re.search(rf"best lr in this sweep: ({NUM}) \(outer loss ({NUM})\); (\d+) runs diverged", texts(step_at))
    assert m, texts(step_at)
    p = metrics(page_at)
    assert close(float(m.group(1)), num(p["best learning rate"]), 3)
    assert close(float(m.group(2)), num(p["best outer loss"]))
    assert int(m.group(3)) == int(num(p["diverged runs"]))
    return 3


def compare_theory(step_at, page_at) -> int | None:
    """The theory step: its map of this page's problem and start has the page's curvature and line."""
    problem, x0 = page_at.session_state["problem"], float(page_at.session_state["x0"])
    m = re.search(rf"{re.escape(problem)} from x0 = ({NUM}) \(start loss ({NUM}), λmax = ({NUM})\)", texts(step_at))
    if not m:
        return None
    assert float(m.group(1)) == x0, (m.group(0), x0)
    page_line = [c.value for c in page_at.caption if c.value.startswith("Stability edge (dashed)")]
    assert page_line and f"λmax = {m.group(3)}." in page_line[0], (m.group(0), page_line)
    return 2


def compare_landscape(step_at, page_at) -> int:
    theory = compare_theory(step_at, page_at)
    if theory is not None:
        return theory
    t, p = metrics(step_at), metrics(page_at)
    m = re.search(rf"best cell: lr ({NUM}), momentum ({NUM}), outer loss ({NUM})", texts(step_at))
    if m:  # the view step
        assert close(float(m.group(1)), num(p["best learning rate"]), 3)
        assert close(float(m.group(2)), num(p["best momentum"]), 3)
        assert close(float(m.group(3)), num(p["best outer loss"]))
        return 3
    table = page_at.dataframe[0].value
    rows = {r["run"].removesuffix(" seed 0"): r for _, r in table.iterrows()}
    n = 0
    if "end outer loss" in t:  # the gradient-descent step: one run
        (row,) = rows.values()
        assert close(num(t["end outer loss"]), row["end outer loss"]), (t, row)
        share = num(t["better than this share of the landscape"])
        assert close(share, row["better than % of this view"], 1), (share, row)
        return 2
    for label, value in t.items():
        assert label in rows, (label, list(rows))
        assert close(num(value), rows[label]["end outer loss"]), (label, value, rows[label])
        n += 1
    return n


def compare_fractal(step_at, page_at) -> int:
    m = re.search(rf"({NUM})% of them trained", texts(step_at))
    assert m, texts(step_at)
    assert close(float(m.group(1)), num(metrics(page_at)["trained"]), 1)
    return 1


def compare_learned(step_at, page_at) -> int:
    t = metrics(step_at)
    if not t:
        return 0
    table = next(d.value for d in page_at.dataframe if "LSTM relative to it" in d.value.columns)
    final = table.columns[1]
    rows = {r["optimizer"]: r[final] for _, r in table.iterrows()}
    for label, value in t.items():
        assert close(num(value), rows[label], 3), (label, value, rows[label])
    return len(t)


def compare_tuning(step_at, page_at) -> int:
    t, p = metrics(step_at), metrics(page_at)
    for label in ("regret", "false good", "false diverging"):
        assert t[label] == p[label], (label, t[label], p[label])
    return 3


def compare_inspect(step_at, page_at) -> int:
    """The step's two pixels: the same sentence on their curvature, the same final loss (or both diverged)."""
    step_says, page_says = [i.value for i in step_at.info], [i.value for i in page_at.info]
    sentences = [s for s in step_says if "sharpness" in s or "diverged" in s]
    assert len(sentences) == 2, step_says
    for s in sentences:
        assert s in page_says, (s, page_says)
    finals = re.search(rf"Final training loss: ({NUM}) at lr = ({NUM}); (diverged|{NUM}) at lr", texts(step_at))
    assert finals, texts(step_at)
    page_finals = [m.value for m in page_at.metric if m.label == "final training loss"]
    assert len(page_finals) == 2, page_finals
    assert close(float(finals.group(1)), num(page_finals[0]), 3)
    assert (finals.group(3) == "diverged") == (page_finals[1] == "diverged")
    return 2


COMPARE = {"inner_problem": compare_inner, "lr_sweep": compare_sweep, "landscape": compare_landscape,
           "fractal": compare_fractal, "learned_optimizer": compare_learned, "tuning": compare_tuning,
           "inspect": compare_inspect}


def test_the_caption_counts_the_steps():
    at = tour(1)
    n = len(STEP_REGISTRY)
    assert at.caption[0].value.startswith(f"{count_words(n).capitalize()} short steps"), at.caption[0].value


@pytest.mark.slow
@pytest.mark.parametrize("step", range(1, len(STEP_REGISTRY) + 1))
def test_every_number_of_a_step_is_what_its_linked_page_shows(step):
    at = tour(step)
    links = [(e.proto.page, dict(parse_qsl(e.proto.query_string))) for e in at.get("page_link")]
    assert links, f"step {step} has no link into a page"
    for page, query in links:
        assert page in COMPARE, page
        linked = open_page(f"pages/{page}.py", timeout=600, **query)
        COMPARE[page](at, linked)


@pytest.mark.slow
def test_the_es_step_says_what_its_numbers_say():
    """The ES step's verdict is computed from its runs, start by start, not written in advance."""
    at = tour(6)
    ends = {m.label: num(m.value) for m in at.metric}
    text = texts(at)
    for start in ("(-2, -0.5)", "(0, -1.5)"):
        es, gd = ends[f"es from {start}"], ends[f"grad from {start}"]
        word = "lower than" if es < gd else "**higher** than"
        assert f"rom {start} ES ends at {es:.4f}, {word} gradient descent's {gd:.4f}" in text, text
    # at the defaults the post's claim holds, on the landscape page too
    assert ends["es from (-2, -0.5)"] < ends["grad from (-2, -0.5)"]
    assert ends["es from (0, -1.5)"] < ends["grad from (0, -1.5)"]
