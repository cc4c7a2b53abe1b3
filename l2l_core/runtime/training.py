"""A meta-training run in a background thread, for UIs (no streamlit here).

The page starts a :class:`TrainingJob`, polls :meth:`TrainingJob.snapshot`
to draw progress, and calls :meth:`TrainingJob.stop` for the stop button;
the thread then finishes its current chunk, saves the *best* parameters so
far (atomically) and ends. Heavy work is bounded by a semaphore the caller
shares between all jobs of the server.
"""

from __future__ import annotations

import threading
import time
import traceback
from pathlib import Path

from l2l_core.learned.checkpoints import save_checkpoint
from l2l_core.io.files import locked_dir
from l2l_core.learned.metatrain import MetaTrainConfig, Progress, metatrain


class TrainingJob:
    """State: "running" -> "done" | "stopped" | "failed"."""

    def __init__(self, cfg: MetaTrainConfig, out_dir: str | Path,
                 slot: threading.Semaphore | None = None):
        self.cfg = cfg.validate()
        self.out_dir = Path(out_dir)
        self._slot = slot
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.state = "running"
        self.message = "compiling the meta-step (first chunk)..."
        self.progress: Progress | None = None
        self.summary: dict | None = None
        self.started = time.time()
        self._thread = threading.Thread(target=self._run, name=f"metatrain-{self.out_dir.name}", daemon=True)

    def start(self) -> "TrainingJob":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self.state == "running"

    def snapshot(self) -> tuple[str, str, Progress | None, dict | None]:
        with self._lock:
            return self.state, self.message, self.progress, self.summary

    def _on_progress(self, p: Progress) -> None:
        with self._lock:
            self.progress = p
            self.message = f"meta-step {p.done}/{p.total}"

    def _run(self) -> None:
        try:
            with locked_dir(self.out_dir):  # a second run into the same folder is refused, not interleaved
                result = metatrain(self.cfg, callback=self._on_progress, should_stop=self._stop.is_set)
                summary = dict(result.summary(), seconds=result.seconds, compile_seconds=result.compile_seconds,
                               seconds_per_meta_step=result.seconds_per_meta_step)
                save_checkpoint(self.out_dir, result.params, self.cfg, result.curve, summary)
            with self._lock:
                self.summary = summary
                if result.stopped:
                    self.state, self.message = "stopped", (
                        f"{result.stopped}; saved the best parameters (meta-step {result.best_step}, "
                        f"validation loss {result.best_val:.4g})")
                else:
                    self.state, self.message = "done", (
                        f"finished {result.meta_steps_done} meta-steps in {result.seconds:.1f} s; "
                        f"best validation loss {result.best_val:.4g} at meta-step {result.best_step}")
        except Exception as e:  # reported to the page, never raised in a thread
            with self._lock:
                self.state = "failed"
                self.message = f"{type(e).__name__}: {e}"
                self.traceback = traceback.format_exc()
        finally:
            if self._slot is not None:
                self._slot.release()
