"""How long a meta-training run will take, said before it starts: measured speeds of
every preset (``MEASURED``), scaled to the run's batch, dimensions and unroll, with
the compile time the cache's state implies, and the meta-steps its time budget allows.

Each preset has two measured profiles on the 2-core server this project runs on: an
idle one (whole runs at a load of about 1 per core, docs/learned_optimizer.md and
docs/meta_training_speed.md) and a busy one (``python bench/bench_learned_speed.py``
beside other work, at a load of about 3.7 per core: two fresh processes on one empty
compilation cache, the first compiling, the second loading). An estimate takes the
profile of the server's present load, in between linearly.
"""

from __future__ import annotations

import dataclasses
import math
import os

from l2l_core.learned.compiled import compiled_state
from l2l_core.learned.config import MetaTrainConfig, chunk_structure
from l2l_core.tasks.families import get_family


@dataclasses.dataclass(frozen=True)
class StageSpeed:
    """One stage of a preset: seconds per meta-step (validation included) at ``batch``
    tasks, ``unroll`` inner steps and ``coords`` quadratic coordinates per task; the
    extra seconds of its first chunk with the compile cache cold and warm (on disk)."""

    per_step_s: float
    compile_cold_s: float
    compile_warm_s: float
    batch: int
    unroll: int = 100
    coords: float = 10.0


@dataclasses.dataclass(frozen=True)
class Measured:
    idle: tuple[StageSpeed, ...]  # two stages when the preset has a whole-run stage (finish_after)
    busy: tuple[StageSpeed, ...]
    how: str  # where the figures come from


#: Load average per core of the two profiles.
IDLE_LOAD, BUSY_LOAD = 1.0, 3.7
_QUAD = Measured(
    # idle: 150 meta-steps in 24.9 s, compile 2.6 s from the cache (load 1.5); cold compile 10.8 s (load 2.3)
    idle=(StageSpeed(per_step_s=0.15, compile_cold_s=10.8, compile_warm_s=2.6, batch=128),),
    # busy (load 2.9-7.1): 0.24 / 0.43 s a meta-step (cold / warm process), compile 73 s cold, 6.8 s warm
    busy=(StageSpeed(per_step_s=0.33, compile_cold_s=73.3, compile_warm_s=6.8, batch=128),),
    how="quadratic short preset, idle and busy")
_DIGITS_SHORT = Measured(
    # idle: 55 meta-steps in 82.8 s, 23.8 s compiling, empty cache (load 2.3-2.9), split over the two
    # stages as the busy profile splits them (stage 1: 10 x 10 truncations; stage 2: whole runs)
    idle=(StageSpeed(per_step_s=1.66, compile_cold_s=16.4, compile_warm_s=3.1, batch=4),
          StageSpeed(per_step_s=0.95, compile_cold_s=7.4, compile_warm_s=0.6, batch=4)),
    # busy (load 7.1-7.7): stage 1 3.93 / 3.86 s a meta-step, compile 78.1 s cold, 14.9 s warm;
    # stage 2 2.23 / 2.33 s, compile 34.6 s cold, 2.9 s warm
    busy=(StageSpeed(per_step_s=3.9, compile_cold_s=78.1, compile_warm_s=14.9, batch=4),
          StageSpeed(per_step_s=2.28, compile_cold_s=34.6, compile_warm_s=2.9, batch=4)),
    how="digits short preset, idle and busy")
_DIGITS_FULL = Measured(
    # idle: 330 meta-steps in 568 s, 44.2 s compiling (cold); warm compile as stage 1 of short scales
    idle=(StageSpeed(per_step_s=1.59, compile_cold_s=44.2, compile_warm_s=8.4, batch=4),),
    # busy (load 7.7): 2.23 s a meta-step, compile 29.2 s cold; the warm process ran at load 19 and is
    # not used: its warm compile is the short preset's first stage's (the same network's program)
    busy=(StageSpeed(per_step_s=2.23, compile_cold_s=29.2, compile_warm_s=14.9, batch=4),),
    how="digits full preset, idle and busy")
_ONE_TASK = Measured(
    # idle (load about 1): the short preset on one task of the maps, one task per meta-step; per
    # meta-step 0.0064 s on tanh_net (72 parameters; 0.0027 s on rosenbrock, 0.29 s on digits_fc_tanh's
    # 3466), scaled by the parameters; compiling 2.1 s (rosenbrock) to 4.9 s (digits_fc_tanh) cold,
    # 0.34 s from the cache. Busy: not measured, the quadratics' busy/idle ratios applied.
    idle=(StageSpeed(per_step_s=0.0064, compile_cold_s=3.5, compile_warm_s=0.4, batch=1, coords=72.0),),
    busy=(StageSpeed(per_step_s=0.0064 * 0.33 / 0.15, compile_cold_s=3.5 * 73.3 / 10.8,
                     compile_warm_s=0.4 * 6.8 / 2.6, batch=1, coords=72.0),),
    how="one task of the maps, short preset, idle (busy scaled as the quadratics')")
#: (family, preset) -> its measured speed (the quadratic presets differ only in length); ``single``:
#: any task of the maps as a family of one.
MEASURED: dict[tuple[str, str], Measured] = {
    ("quadratic", "short"): _QUAD, ("quadratic", "full"): _QUAD,
    ("digits_mlp", "short"): _DIGITS_SHORT, ("digits_mlp", "full"): _DIGITS_FULL,
    ("single", "short"): _ONE_TASK, ("single", "full"): _ONE_TASK,
}
#: Whole runs of the presets as a person starts them, timed end to end (compiling included):
#: (family, preset, cache state at the start, load per core, seconds, meta-steps done, where written
#: down). The estimates are checked against these (tests/core/learned/test_estimates.py).
WHOLE_RUNS: tuple[tuple[str, str, str, float, float, int, str], ...] = (
    ("quadratic", "short", "disk", 1.7, 21.0, 150, "docs/learned_optimizer.md, short preset wall time, load 3.4"),
    ("quadratic", "short", "disk", 3.0, 39.0, 150, "docs/learned_optimizer.md, same, load 6"),
    ("quadratic", "short", "disk", 1.0, 34.0, 150, "the page, on the 2-core server"),
    ("digits_mlp", "short", "cold", 1.0, 82.0, 45, "the page, on the 2-core server (compiling 22 s)"),
    ("digits_mlp", "short", "cold", 1.3, 82.8, 55, "docs/learned_optimizer.md, empty cache, load 2.3-2.9"),
    ("digits_mlp", "full", "cold", 1.3, 568.0, 330, "docs/learned_optimizer.md, full preset"),
    ("rosenbrock", "short", "cold", 1.0, 3.1, 150, "docs/learned_optimizer.md, one task as a family of one"),
    ("log_sin", "short", "cold", 1.0, 4.1, 150, "same"),
    ("tanh_net", "short", "cold", 1.0, 5.6, 150, "same"),
)
#: Compiling a program this process compiled already: the in-memory cache, nothing to do.
IN_MEMORY_COMPILE_S = 0.0


@dataclasses.dataclass(frozen=True)
class Estimate:
    compile_s: float  # the compiling chunks' extra seconds
    train_s: float  # the meta-steps' seconds
    meta_steps: int  # the meta-steps expected to run (the budget may stop it before cfg.meta_steps)
    requested: int  # cfg.meta_steps
    budget_s: float  # the run's time budget (0: none)
    cache: str  # the first stage's program: "memory", "disk" or "cold"
    per_step_s: float  # the first stage's seconds per meta-step
    load: float  # the load per core it was estimated for
    how: str  # where the speeds were measured

    @property
    def total_s(self) -> float:
        return self.compile_s + self.train_s

    @property
    def stopped_by_budget(self) -> bool:
        return self.meta_steps < self.requested


def present_load() -> float:
    """This machine's 1-minute load average per core (1.0 where the OS does not say)."""
    try:
        return os.getloadavg()[0] / max(os.cpu_count() or 1, 1)
    except OSError:
        return 1.0


def _mix(idle: StageSpeed, busy: StageSpeed, load: float) -> StageSpeed:
    w = min(max((load - IDLE_LOAD) / (BUSY_LOAD - IDLE_LOAD), 0.0), 1.0)
    return dataclasses.replace(idle, **{f: getattr(idle, f) + w * (getattr(busy, f) - getattr(idle, f))
                                        for f in ("per_step_s", "compile_cold_s", "compile_warm_s")})


def _coords(cfg: MetaTrainConfig) -> float:
    family = get_family(cfg.task)
    if family.kind == "single":
        return float(family.params)
    dims = cfg.dims or (cfg.dim,)
    return sum(dims) / len(dims)


def stage_seconds(stage: StageSpeed, cfg: MetaTrainConfig, finishing: bool = False) -> float:
    """Seconds per meta-step of ``cfg``: linear in the tasks per meta-step, the unrolled
    steps and (quadratics) the coordinates per task, as measured (docs/meta_training_speed.md)."""
    s = chunk_structure(cfg, finishing)
    scale = (max(s.batch, 1) / stage.batch) * (s.truncations * s.truncation_length / stage.unroll)
    if not get_family(cfg.task).has_data:  # quadratics and single tasks: per coordinate
        scale *= _coords(cfg) / stage.coords
    return stage.per_step_s * scale


def compile_seconds(stage: StageSpeed, state: str) -> float:
    return {"memory": IN_MEMORY_COMPILE_S, "disk": stage.compile_warm_s}.get(state, stage.compile_cold_s)


def estimate(cfg: MetaTrainConfig, preset: str, cache: str | None = None, load: float | None = None) -> Estimate:
    """The run's time, chunk by chunk as ``metatrain`` runs it: each stage's first chunk
    compiles (unless the cache holds its program), and with a budget the run stops before
    a chunk that would end after it, judged by the chunk before. ``cache``: the state of
    every stage's program ("memory", "disk", "cold"; None: as it is now); ``load``: the
    load average per core (None: the present one)."""
    load = present_load() if load is None else float(load)
    family = get_family(cfg.task)
    kind = {"network": "digits_mlp", "single": "single"}.get(family.kind, "quadratic")
    m = MEASURED.get((cfg.task, preset)) or MEASURED[(kind, "full")]
    fa = cfg.finish_after
    profile = [_mix(i, b, load) for i, b in zip(m.idle, m.busy)]
    stages = [(profile[0], False)] + ([(profile[-1], True)] if fa else [])
    speed = [stage_seconds(st, cfg, fin) for st, fin in stages]
    states = [cache or compiled_state(chunk_structure(cfg, fin)) for _, fin in stages]
    comp = [compile_seconds(st, state) for (st, _), state in zip(stages, states)]
    length = min(cfg.chunk, cfg.meta_steps)
    t = compile_total = train = 0.0
    done, last = 0, 0.0
    while done < cfg.meta_steps:
        if cfg.max_seconds and t + last > cfg.max_seconds:
            break
        k = 1 if 0 < fa <= done else 0
        n = min(length, (cfg.meta_steps if k or not fa else fa) - done)
        compiles = done == 0 or (k == 1 and done == fa)
        run = length * speed[k]  # a partial chunk still costs a full scan slot
        extra = comp[k] if compiles else 0.0
        t, train, compile_total, done = t + run + extra, train + run, compile_total + extra, done + n
        if not compiles:
            last = run
    return Estimate(compile_s=compile_total, train_s=train, meta_steps=done, requested=cfg.meta_steps,
                    budget_s=cfg.max_seconds, cache=states[0], per_step_s=speed[0], load=load, how=m.how)


def progress_fraction(done: int, total: int, elapsed: float, budget_s: float) -> float:
    """How far a running training is, in [0, 1]: its meta-steps, or with a time budget
    the clock too, so that the bar reaches its end when the budget stops the run."""
    frac = done / total if total else 0.0
    if budget_s > 0 and math.isfinite(elapsed):
        frac = max(frac, elapsed / budget_s)
    return min(max(frac, 0.0), 1.0)
