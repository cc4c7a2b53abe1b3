"""What a meta-training run reports and keeps: the progress a callback sees,
the snapshot a run resumes from, the result, and the record of curves, best
parameters and timing that :func:`l2l_core.learned.metatrain.metatrain` fills
chunk by chunk.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np


@dataclasses.dataclass
class Progress:
    """What the progress callback sees after every chunk (plain numpy)."""

    done: int
    total: int
    meta_loss: np.ndarray  # mean task loss over the 100 unrolled steps, per meta-step
    final_loss: np.ndarray  # mean task loss after the last unrolled step, per meta-step
    val_steps: list
    val_loss: list  # mean loss after eval_steps steps on fixed validation tasks
    best_step: int
    best_val: float
    elapsed: float


@dataclasses.dataclass
class Snapshot:
    """Everything a run needs to continue exactly where it was (see :mod:`l2l_core.learned.resume`)."""

    done: int
    state: Any  # metatrain.TrainState
    best_params: Any
    best_val: float
    best_step: int
    curve: dict  # meta_loss, final_loss, val_steps, val_loss, as in MetaTrainResult


@dataclasses.dataclass
class MetaTrainResult:
    config: Any  # MetaTrainConfig
    params: Any  # the best parameters by validation loss
    last_params: Any
    curve: dict  # meta_loss, final_loss, val_steps, val_loss (numpy arrays)
    best_step: int
    best_val: float
    meta_steps_done: int
    stopped: str | None  # None when the run completed; else why it stopped
    seconds: float
    compile_seconds: float
    seconds_per_meta_step: float

    def summary(self) -> dict:
        ml = self.curve["meta_loss"]
        k = max(1, min(20, len(ml) // 5))
        return dict(
            meta_steps_done=self.meta_steps_done,
            meta_loss_first=float(np.nanmean(ml[:k])) if len(ml) else None,
            meta_loss_last=float(np.nanmean(ml[-k:])) if len(ml) else None,
            final_loss_last=float(np.nanmean(self.curve["final_loss"][-k:])) if len(ml) else None,
            best_step=self.best_step,
            best_val_loss=self.best_val,
            stopped=self.stopped,
        )


class RunRecord:
    """What a run has seen so far: the curves, the best parameters by validation, and
    the timing (the first chunk compiles; seconds per meta-step count validation too,
    since a user waits for it)."""

    def __init__(self, params, val_loss: float, resume: Snapshot | None):
        self.best_params, self.best_val, self.best_step, self.done = params, val_loss, 0, 0
        self.mean_losses, self.final_losses, self.val_steps, self.val_losses = [], [], [0], [val_loss]
        if resume is not None:
            c = resume.curve
            self.best_params, self.best_val, self.best_step = resume.best_params, resume.best_val, resume.best_step
            self.done = resume.done
            self.mean_losses, self.final_losses = list(c["meta_loss"]), list(c["final_loss"])
            self.val_steps, self.val_losses = [int(v) for v in c["val_steps"]], [float(v) for v in c["val_loss"]]
        self.first_done = self.done
        self.compile_seconds, self.train_seconds, self.timed_steps = 0.0, 0.0, 0

    def chunk_time(self, seconds: float, n: int, length: int, compiles: bool) -> None:
        """``compiles``: the first chunk of the run or of a new stage."""
        if compiles:
            self.compile_seconds += seconds
        else:  # a partial last chunk still costs a full scan slot
            self.train_seconds += seconds * length / max(n, 1)
            self.timed_steps += length

    def add(self, mean_losses, final_losses) -> None:
        self.mean_losses += list(mean_losses)
        self.final_losses += list(final_losses)
        self.done += len(mean_losses)

    def validated(self, params, val_loss: float, seconds: float) -> None:
        if self.timed_steps:
            self.train_seconds += seconds
        self.val_steps.append(self.done)
        self.val_losses.append(val_loss)
        if val_loss < self.best_val:
            self.best_params, self.best_val, self.best_step = params, val_loss, self.done

    def curve(self) -> dict:
        return _curve(self.mean_losses, self.final_losses, self.val_steps, self.val_losses)

    def progress(self, total: int, elapsed: float) -> Progress:
        return Progress(self.done, total, np.asarray(self.mean_losses), np.asarray(self.final_losses),
                        list(self.val_steps), list(self.val_losses), self.best_step, self.best_val, elapsed)

    def seconds_per_step(self) -> float:
        if self.timed_steps == 0:  # a single chunk: its time includes compilation
            return self.compile_seconds / max(self.done, 1)
        return self.train_seconds / self.timed_steps


def _curve(mean_losses, final_losses, val_steps, val_losses) -> dict:
    return dict(meta_loss=np.asarray(mean_losses, np.float32), final_loss=np.asarray(final_losses, np.float32),
                val_steps=np.asarray(val_steps, np.int32), val_loss=np.asarray(val_losses, np.float32))
