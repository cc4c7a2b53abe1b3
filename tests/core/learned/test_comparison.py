"""comparison.compare: every baseline is tuned to the learning rate that a plain
numpy gradient loop, run at each candidate rate, finds best; the learned
optimizer's curve starts where every other one does; the output has its shape."""

from __future__ import annotations

import numpy as np
import pytest

from l2l_core.learned.baselines import BASELINES
from l2l_core.learned.checkpoints import DEFAULT_CHECKPOINT, load_checkpoint
from l2l_core.learned.comparison import COMPARED, compare
from l2l_core.tasks.quadratics import tasks_for_seed

LOG_LRS = np.array([-3.0, -2.0, -1.5, -1.0])
STEPS, BATCH = 12, 6


@pytest.fixture(scope="module")
def result():
    return compare(load_checkpoint(DEFAULT_CHECKPOINT), seed=4, steps=STEPS, batch=BATCH, log_lrs=LOG_LRS)


def _numpy_sgd_final(lr: float) -> float:
    """Plain gradient descent on f(θ) = ||Wθ - y||², per task, in float64 numpy."""
    t = tasks_for_seed(4, BATCH, 10)
    w, y, theta = (np.asarray(a, np.float64) for a in (t.w, t.y, t.theta0))
    for _ in range(STEPS):
        r = np.einsum("bij,bj->bi", w, theta) - y
        theta = theta - lr * 2.0 * np.einsum("bij,bi->bj", w, r)
    r = np.einsum("bij,bj->bi", w, theta) - y
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.mean(np.sum(r**2, axis=-1)))


def test_shape_of_the_result(result):
    assert set(result["final"]) == set(COMPARED) == {"lstm", *BASELINES}
    assert set(result["best_lr"]) == set(BASELINES)
    for name, losses in result["losses"].items():
        assert losses.shape == (STEPS + 1, BATCH), name
    assert result["steps"] == STEPS and result["batch"] == BATCH and result["seed"] == 4


def test_every_curve_starts_at_the_same_initial_loss(result):
    first = {name: float(np.mean(v[0])) for name, v in result["losses"].items()}
    assert max(first.values()) - min(first.values()) < 1e-4 * abs(result["initial"])


def test_sgd_is_tuned_to_the_rate_a_numpy_loop_finds_best(result):
    finals = {lr: _numpy_sgd_final(10.0**lr) for lr in LOG_LRS}
    finite = {lr: v for lr, v in finals.items() if np.isfinite(v)}
    best = min(finite, key=finite.get)
    assert result["best_lr"]["sgd"] == pytest.approx(10.0**best, rel=1e-5)
    assert result["final"]["sgd"] == pytest.approx(finite[best], rel=1e-3)


def test_a_bad_seed_is_refused():
    with pytest.raises(ValueError, match="seed"):
        compare(seed=-1, steps=2, batch=2, log_lrs=LOG_LRS)
