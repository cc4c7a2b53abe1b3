"""A meta-training run in a background thread, for UIs (no streamlit here).

The page starts a :class:`TrainingJob`, polls :meth:`TrainingJob.snapshot`
to draw progress, and calls :meth:`TrainingJob.stop` for the stop button;
the thread then finishes its current chunk, saves the *best* parameters so
far (atomically) and ends.

Heavy work is bounded by the server's one job limit: every chunk of
meta-steps runs inside a slot of the :class:`~l2l_core.runtime.jobs.JobLimiter` the
caller passes (the same one grids, sweeps and comparisons use), so a
training never blocks the other users for longer than a chunk; while it waits
for a slot, its message says so. A run whose page stopped calling
:meth:`TrainingJob.touch` for ``idle_timeout`` seconds (its tab was closed)
stops like a stop request, keeping its best parameters.

Runs are private to the session that started them (a folder of its own under
``private/``) until :func:`publish` moves one into the shared list.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import traceback
from pathlib import Path

from l2l_core.io.files import locked_dir
from l2l_core.learned.checkpoints import checkpoint_file, load_checkpoint, save_checkpoint
from l2l_core.learned.comparison import compare, update_records
from l2l_core.learned.config import MetaTrainConfig
from l2l_core.learned.metatrain import metatrain
from l2l_core.learned.run_record import Progress
from l2l_core.runtime import jobs

#: Trainings that may be alive at once on a server (each holds its tasks and
#: parameters in memory; compute is bounded by the job limit, chunk by chunk).
MAX_ACTIVE = 4
_ACTIVE: set = set()
_ACTIVE_LOCK = threading.Lock()


class TrainingJob:
    """State: "running" -> "done" | "stopped" | "failed"."""

    def __init__(self, cfg: MetaTrainConfig, out_dir: str | Path,
                 limiter: jobs.JobLimiter | None = None, idle_timeout: float | None = None):
        if idle_timeout is not None and not idle_timeout > 0:
            raise ValueError(f"idle_timeout must be positive seconds or None, got {idle_timeout!r}")
        self.cfg = cfg.validate()
        self.out_dir = Path(out_dir)
        self._limiter = limiter
        self.idle_timeout = idle_timeout
        self._last_contact = time.monotonic()
        self._gone = False
        self._token = jobs.CancelToken()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.state = "running"
        self.message = "compiling the meta-step (first chunk)..."
        self.progress: Progress | None = None
        self.summary: dict | None = None
        self.started = time.time()
        self._thread = threading.Thread(target=self._run, name=f"metatrain-{self.out_dir.name}", daemon=True)

    def start(self) -> "TrainingJob":
        """Starts the thread; ValueError when MAX_ACTIVE trainings run already."""
        with _ACTIVE_LOCK:
            if len(_ACTIVE) >= MAX_ACTIVE:
                raise ValueError(f"{MAX_ACTIVE} meta-trainings are running on this server already; "
                                 "try again when one has finished")
            _ACTIVE.add(self)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def touch(self) -> None:
        """The page is still open (called on every redraw of its progress panel)."""
        self._last_contact = time.monotonic()

    def _should_stop(self) -> bool:
        if self.idle_timeout is not None and time.monotonic() - self._last_contact > self.idle_timeout:
            self._gone = True
        return self._stop.is_set() or self._gone

    @contextlib.contextmanager
    def _chunk_slot(self):
        """One slot of the server's job limit for one chunk; waits as long as it takes."""
        def on_wait(waited: float, ahead: int) -> None:
            with self._lock:
                self.message = f"waiting for a free slot: {ahead} job{'s' * (ahead != 1)} ahead ({waited:.0f} s)"

        while True:
            slot = self._limiter.slot(self._token, on_wait=on_wait)
            try:
                slot.__enter__()
                break
            except jobs.ServerBusy:
                continue
        try:
            yield
        finally:
            slot.__exit__(None, None, None)

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
                result = metatrain(self.cfg, callback=self._on_progress, should_stop=self._should_stop,
                                   chunk_slot=self._chunk_slot if self._limiter is not None else None)
                if self._gone:
                    result.stopped = (f"stopped after {result.meta_steps_done} meta-steps: its page was closed "
                                      f"(no contact for {self.idle_timeout:.0f} s)")
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
            with _ACTIVE_LOCK:
                _ACTIVE.discard(self)


#: Runs a folder lists at most (the newest first).
MAX_LISTED_RUNS = 50


def runs_in(folder: str | Path, limit: int = MAX_LISTED_RUNS) -> list[Path]:
    """The finished runs in ``folder`` (each a folder with a checkpoint), newest first; the
    ``private`` subfolder (sessions' own runs) is not listed."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [d for d in folder.iterdir() if d.name != "private" and checkpoint_file(d).is_file()]
    return sorted(found, key=lambda d: checkpoint_file(d).stat().st_mtime, reverse=True)[:limit]


def list_runs(shipped: Path, private: str | Path, shared: str | Path, shipped_label: str) -> dict[str, Path]:
    """``shipped_label`` -> the family's shipped optimizer, then a session's ``private`` runs, then
    the ``shared`` ones (a name listed once: the session's own run first)."""
    runs = {shipped_label: Path(shipped)}
    for d in runs_in(private) + runs_in(shared):
        runs.setdefault(d.name, d)
    return runs


def prune_private(private_root: str | Path, *, keep: int, max_age_s: float, now: float | None = None) -> int:
    """Bounds the private runs on disk; returns how many folders were removed.

    In every session's folder under ``private_root`` only the ``keep`` newest runs
    stay; a session folder untouched for ``max_age_s`` seconds (its tab closed
    long ago, nothing shared) goes whole. A running training's folder is never
    removed.
    """
    import shutil

    root = Path(private_root)
    if not root.is_dir():
        return 0
    now = time.time() if now is None else now
    with _ACTIVE_LOCK:
        busy = {job.out_dir.resolve() for job in _ACTIVE}
    removed = 0

    def remove(d: Path) -> None:
        nonlocal removed
        if any(b == d.resolve() or d.resolve() in b.parents for b in busy):
            return
        shutil.rmtree(d, ignore_errors=True)
        removed += 1

    for session in (d for d in root.iterdir() if d.is_dir()):
        runs = sorted((d for d in session.iterdir() if d.is_dir()), key=lambda d: d.stat().st_mtime, reverse=True)
        newest = max([session.stat().st_mtime] + [d.stat().st_mtime for d in runs])
        if now - newest > max_age_s:
            remove(session)
            continue
        for d in runs[keep:]:
            remove(d)
    return removed


def publish(run_dir: str | Path, shared_dir: str | Path) -> Path:
    """Moves a private run into the shared list (one rename); returns its new folder.

    Raises:
      ValueError: the run has no checkpoint, or a shared run has that name already.
    """
    run_dir, shared_dir = Path(run_dir), Path(shared_dir)
    if not run_dir.is_dir():
        raise ValueError(f"no run at {run_dir}")
    target = shared_dir / run_dir.name
    if target.exists():
        raise ValueError(f"a shared run named {run_dir.name} exists already")
    shared_dir.mkdir(parents=True, exist_ok=True)
    os.replace(run_dir, target)
    return target


def compare_file(path: str, mtime: float, **kwargs) -> dict:
    """:func:`l2l_core.learned.comparison.compare` on the checkpoint at ``path`` (``mtime``
    keys the shared work on the file's version)."""
    return compare(load_checkpoint(path), **kwargs)


def records_file(path: str, mtime: float, best_lr: dict, **kwargs) -> dict:
    """:func:`l2l_core.learned.comparison.update_records` on the checkpoint at ``path``."""
    return update_records(load_checkpoint(path), dict(best_lr), **kwargs)
