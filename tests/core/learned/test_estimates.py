"""Time estimates of a meta-training run (l2l_core.learned.estimates): within a sane factor
of the whole runs recorded beside the measured speeds, scaled by batch, and the budget's
meta-steps; the progress bar's fraction reaches its end when the budget does."""

from __future__ import annotations

import dataclasses

import pytest

from l2l_core.learned import compiled
from l2l_core.learned.config import TASK_PRESETS, chunk_structure, preset_config
from l2l_core.learned.estimates import BUSY_LOAD, IDLE_LOAD, MEASURED, WHOLE_RUNS, estimate, progress_fraction

FACTOR = 2.0  # a sane estimate: within a factor of two of a measured whole run


@pytest.mark.parametrize("run", WHOLE_RUNS, ids=lambda r: f"{r[0]}-{r[1]}-{r[4]:.0f}s")
def test_each_preset_estimate_is_within_a_factor_of_a_measured_run(run):
    task, preset, cache, load, seconds, steps, _ = run
    est = estimate(preset_config(preset, task=task), preset, cache=cache, load=load)
    assert seconds / FACTOR <= est.total_s <= seconds * FACTOR, (est, run)
    assert steps / FACTOR <= est.meta_steps <= steps * FACTOR, (est, run)


def test_every_trainable_preset_has_a_measured_speed_and_a_whole_run():
    for task, presets in TASK_PRESETS.items():
        for preset in ("short", "full"):
            assert preset in presets and (task, preset) in MEASURED
    assert {(r[0], r[1]) for r in WHOLE_RUNS} >= {("quadratic", "short"), ("digits_mlp", "short"),
                                                  ("digits_mlp", "full")}


def test_the_quadratic_short_preset_is_not_estimated_at_twenty_minutes():
    est = estimate(preset_config("short"), "short", cache="cold", load=IDLE_LOAD)
    assert est.total_s < 60 and est.meta_steps == 150 and not est.stopped_by_budget


def test_time_scales_with_the_batch_and_the_cache_state():
    base = preset_config("short")
    full, quarter = (estimate(dataclasses.replace(base, batch=b), "short", "disk", IDLE_LOAD) for b in (128, 32))
    assert quarter.train_s == pytest.approx(full.train_s / 4)
    cold, disk, mem = (estimate(base, "short", c, IDLE_LOAD).compile_s for c in ("cold", "disk", "memory"))
    assert cold > disk > mem == 0.0
    idle, mid, busy = (estimate(base, "short", "disk", load).total_s for load in (IDLE_LOAD, 2.0, BUSY_LOAD))
    assert idle < mid < busy == estimate(base, "short", "disk", 50.0).total_s  # the busy profile at most


def test_a_budget_says_how_many_meta_steps_fit():
    cfg = preset_config("short", task="digits_mlp")
    est = estimate(cfg, "short", cache="cold", load=IDLE_LOAD)
    assert est.budget_s == cfg.max_seconds and est.stopped_by_budget and 0 < est.meta_steps < cfg.meta_steps
    assert est.total_s <= cfg.max_seconds * 1.1
    warm = estimate(cfg, "short", cache="memory", load=IDLE_LOAD)
    assert warm.meta_steps > est.meta_steps  # no compiling: more meta-steps in the same budget


def test_the_bar_reaches_its_end_when_the_budget_stops_the_run():
    # the digits short preset: stopped by its 82 s budget after 45 of 100 meta-steps
    assert progress_fraction(45, 100, 82.0, 82.0) == 1.0
    assert progress_fraction(45, 100, 41.0, 82.0) == 0.5
    assert progress_fraction(50, 100, 10.0, 0.0) == 0.5  # no budget: the meta-steps
    assert progress_fraction(100, 100, 500.0, 82.0) == 1.0


def test_a_compiled_program_is_marked_in_memory_and_on_disk(tmp_path, monkeypatch):
    structure = chunk_structure(dataclasses.replace(preset_config("tiny"), seed=12345))
    monkeypatch.setattr(compiled, "_IN_MEMORY", set())
    monkeypatch.setattr(compiled, "_cache_dir", lambda: tmp_path)
    assert compiled.compiled_state(structure) == "cold"
    compiled.mark_compiled(structure)
    assert compiled.compiled_state(structure) == "memory"
    compiled._IN_MEMORY.clear()  # a new process: the disk cache still holds it
    assert compiled.compiled_state(structure) == "disk"
