"""The settings of a meta-training run and its presets (no training code here).

:class:`MetaTrainConfig` is everything that defines a run; :data:`PRESETS` and
:data:`TASK_PRESETS` name the shipped schedules (``--preset``), and
:func:`preset_config` / :func:`preset_lstm` build a run's settings from them.
:func:`chunk_structure` is the static part of a chunk (what one compilation
covers), read by :mod:`~l2l_core.learned.metatrain` and by the time estimates.
Checkpoints, the command line and the pages read the settings from here.
"""

from __future__ import annotations

import dataclasses
import math

from l2l_core.learned.lstm import LSTMConfig
from l2l_core.learned.objective import check_objective
from l2l_core.tasks import quadratics as tasks_mod
from l2l_core.tasks.families import get_family

MAX_META_STEPS = 100_000
#: the count settings' ranges, checked by ``validate`` and by the command line's flags alike
COUNT_LIMITS = {"meta_steps": (1, MAX_META_STEPS), "truncations": (1, 100), "truncation_length": (1, 1000),
                "chunk": (1, 10_000), "val_tasks": (1, tasks_mod.MAX_BATCH), "eval_steps": (1, 10_000),
                "seed": (0, 2**31 - 1)}
DIGITS_SHORT_STEPS = 100
DIGITS_FULL_STEPS = 1000


@dataclasses.dataclass(frozen=True)
class MetaTrainConfig:
    """Everything that defines a meta-training run (the post's defaults)."""

    meta_steps: int = 1000
    batch: int = 128
    dim: int = 10
    truncations: int = 5
    truncation_length: int = 20
    meta_lr: float = 1e-2
    clip_norm: float = 100.0
    reduction: str = "sum"
    seed: int = 0
    chunk: int = 10
    val_tasks: int = 256
    eval_steps: int = 100
    lstm: LSTMConfig = LSTMConfig()
    task: str = "quadratic"  # a family (families.TASK_FAMILIES) or a task of the maps (a family of one)
    dims: tuple[int, ...] = ()  # quadratics only: train on these dimensions mixed (dim: compare's default)
    meta_lr_final: float = 0.0  # > 0: cosine decay of the meta learning rate to this over the run
    max_seconds: float = 0.0  # > 0: stop (keeping the best phi) before a chunk that would end after this wall time
    meta_loss_on: str = "same"  # networks: which data scores a step (see objective.py)
    meta_weight_power: float = 0.0  # step t of T weighs (p + 1) (t / T)^p in the meta-loss (0: all alike)
    finish_after: int = 0  # > 0: after this many meta-steps, whole-run meta-steps (see chunk_structure)
    finish_meta_lr: float = 1e-3  # their (constant) meta learning rate

    def validate(self) -> "MetaTrainConfig":
        def integer(name, lo, hi):
            v = getattr(self, name)
            if isinstance(v, bool) or int(v) != v or not lo <= v <= hi:
                raise ValueError(f"{name} must be an integer between {lo} and {hi}, got {v}")

        for name, (lo, hi) in COUNT_LIMITS.items():
            integer(name, lo, hi)
        tasks_mod.check_task_shape(self.batch, self.dim)
        tasks_mod.check_reduction(self.reduction)
        if not (math.isfinite(self.meta_lr) and 0 < self.meta_lr <= 1):
            raise ValueError(f"meta_lr must be in (0, 1], got {self.meta_lr}")
        if not (math.isfinite(self.meta_lr_final) and 0 <= self.meta_lr_final <= self.meta_lr):
            raise ValueError(f"meta_lr_final must be in [0, meta_lr] (0: constant), got {self.meta_lr_final}")
        if not (math.isfinite(self.max_seconds) and self.max_seconds >= 0):
            raise ValueError(f"max_seconds must be a number >= 0 (0: no limit), got {self.max_seconds}")
        check_objective(self.meta_loss_on, self.meta_weight_power)
        integer("finish_after", 0, self.meta_steps)
        if not (math.isfinite(self.finish_meta_lr) and 0 < self.finish_meta_lr <= 1):
            raise ValueError(f"finish_meta_lr must be in (0, 1], got {self.finish_meta_lr}")
        if not (math.isfinite(self.clip_norm) and self.clip_norm > 0):
            raise ValueError(f"clip_norm must be a positive number, got {self.clip_norm}")
        self.lstm.validate()
        family = get_family(self.task)
        if self.dims and not family.is_quadratic:
            raise ValueError(f"dims applies to quadratics only; {self.task}'s size is its own")
        if self.dims and (not all(
                isinstance(d, int) and 1 <= d <= tasks_mod.MAX_DIM for d in self.dims)):
            raise ValueError(f"dims must be quadratic dimensions between 1 and {tasks_mod.MAX_DIM}, got {self.dims}")
        return self

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "MetaTrainConfig":
        d = dict(d)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown meta-training settings: {sorted(unknown)}")
        lstm = LSTMConfig(**d.pop("lstm", {}))
        d["dims"] = tuple(d.get("dims", ()))  # JSON gives a list; the config must stay hashable
        return cls(lstm=lstm, **d)


PRESETS: dict[str, dict] = {
    "full": dict(meta_steps=1000),  # the post's schedule
    "short": dict(meta_steps=150),  # ~90 s on a 2-core CPU (~22 s compiling); already beats tuned Adam
    "tiny": dict(meta_steps=6, batch=8, val_tasks=16, chunk=2, eval_steps=20),  # tests
}
# Presets of the other trainable families (same names); see docs/learned_optimizer.md.
TASK_PRESETS: dict[str, dict[str, dict]] = {
    "quadratic": PRESETS,
    "digits_mlp": {
        # 4 networks (6040 coordinates) per meta-step; a wall-clock cap keeps the presets'
        # promise (full <= 10 min, short <= 90 s, compilation included) on a busy machine.
        # Both train the LSTM with a NAG base path, as the shipped digits optimizer has: from
        # scratch it beats tuned Adam after 15 meta-steps; the LSTM alone needed 25 or more
        # (docs/learned_optimizer.md, "A base path").
        "full": dict(task="digits_mlp", meta_steps=DIGITS_FULL_STEPS, batch=4, val_tasks=16, meta_lr=5e-3,
                     max_seconds=570.0, lstm=LSTMConfig(base="nag")),
        # short: 10 meta-steps of ten 10-step truncations (ten meta-updates each: a fast start),
        # then whole-run meta-steps from the best phi (docs/learned_optimizer.md, "short preset")
        "short": dict(task="digits_mlp", meta_steps=DIGITS_SHORT_STEPS, batch=4, val_tasks=16, meta_lr=1e-2,
                      truncations=10, truncation_length=10, finish_after=10, finish_meta_lr=1e-3, chunk=5,
                      max_seconds=82.0, lstm=LSTMConfig(base="nag")),
        "tiny": dict(task="digits_mlp", meta_steps=4, batch=2, val_tasks=4, chunk=2, eval_steps=10,
                     truncation_length=5, truncations=2),
    },
}


#: A family of one (any task of the maps): the post's schedules on one task, which every meta-step
#: draws again, so one copy trains and one validates.
ONE_TASK_PRESETS: dict[str, dict] = {k: {**v, "batch": 1, "val_tasks": 1} for k, v in PRESETS.items()}


def presets_for(task: str) -> dict[str, dict]:
    """The presets of ``task``'s family (ValueError for a named family without any)."""
    family = get_family(task)
    if family.kind == "single":
        return ONE_TASK_PRESETS
    if family.name not in TASK_PRESETS:
        raise ValueError(f"task {task!r} has no meta-training presets; train on {', '.join(TASK_PRESETS)} "
                         "or on one task of the maps (rosenbrock, log_sin, tanh_net, ...)")
    return TASK_PRESETS[family.name]


def preset_config(name: str, task: str = "quadratic", **overrides) -> MetaTrainConfig:
    presets = presets_for(task)
    if name not in presets:
        raise ValueError(f"unknown preset {name!r}; choose from {sorted(presets)}")
    return MetaTrainConfig(**{**presets[name], "task": get_family(task).name, **overrides}).validate()


def preset_lstm(task: str, preset: str, **given) -> LSTMConfig | None:
    """A run's LSTM settings: those given (None: not given) over the preset's own (the digits
    presets have a base path); a base path given without a rate starts at its family's.
    None when nothing is given (the preset's, or a fine-tuned checkpoint's, then apply)."""
    given = {k: v for k, v in given.items() if v is not None}
    if not given:
        return None
    if given.get("base", "none") != "none" and "base_lr" not in given:
        given["base_lr"] = get_family(task).base_lr
    own = TASK_PRESETS.get(task, {}).get(preset, {}).get("lstm", LSTMConfig())
    out = dataclasses.replace(own, **given).validate()
    if out.base == "none":  # no base path: its rate and momentum are unused; the defaults keep one compiled program
        out = dataclasses.replace(out, base_lr=LSTMConfig.base_lr, base_momentum=LSTMConfig.base_momentum)
    return out


def chunk_structure(cfg: MetaTrainConfig, finishing: bool = False) -> MetaTrainConfig:
    """The static part of a chunk: runs that differ only in length, seed, validation
    or time budget share one compilation (a decaying meta learning rate makes the
    length part of it). ``finishing``: the stage after ``cfg.finish_after`` meta-steps,
    the shipped digits optimizer's fine-tuning (docs/learned_optimizer.md) inside the
    run: each meta-step is one truncation through the whole run, scored on the
    training split with later steps weighted more (p = 1), at ``cfg.finish_meta_lr``."""
    s = dataclasses.replace(cfg, meta_steps=cfg.meta_steps if cfg.meta_lr_final else 1, seed=0, chunk=1,
                            val_tasks=1, eval_steps=1, max_seconds=0.0, finish_after=0, finish_meta_lr=1e-3)
    if not finishing:
        return s
    return dataclasses.replace(s, truncations=1, truncation_length=cfg.truncations * cfg.truncation_length,
                               meta_loss_on="train", meta_weight_power=1.0, meta_lr=cfg.finish_meta_lr,
                               meta_lr_final=0.0, meta_steps=1)
