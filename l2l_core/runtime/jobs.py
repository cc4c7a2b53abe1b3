"""A server-wide limit on concurrent heavy jobs, with queueing and cancelling.

Pure Python (threads only, no streamlit): the dashboard keeps one
:class:`JobLimiter` per server process, and every heavy computation (a grid,
a sweep, a training chunk) runs inside ``limiter.slot(token)``. At most
``max_jobs`` run at once; the others wait in line for up to
``queue_timeout`` seconds and then get :class:`ServerBusy`, a ValueError
whose message a person can act on. While waiting, and between the bands of a
banded grid, the job's :class:`CancelToken` is checked, so a user can cancel
their own job without touching anyone else's.
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator

#: Default number of heavy jobs that may run at once (one per two cores, at least one).
DEFAULT_MAX_JOBS = max(1, (os.cpu_count() or 2) // 2)
DEFAULT_QUEUE_TIMEOUT = 120.0


class Cancelled(ValueError):
    """The job's owner cancelled it."""


class ServerBusy(ValueError):
    """No slot became free within the queue timeout."""


class CancelToken:
    """A cancel flag, set once from any thread (a session's jobs, a refinement's passes).

    Args:
      check: optional callable run at every check point; it may raise to
        abort (the dashboard passes the script runner's stop/rerun check).
    """

    def __init__(self, check: Callable[[], None] | None = None):
        self._event = threading.Event()
        self._check = check

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def __call__(self) -> bool:
        """``cancelled``, so that the token itself is a ``cancel`` callable of the grid functions."""
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled("cancelled: the computation was stopped before it finished")
        if self._check is not None:
            self._check()


class JobLimiter:
    """At most ``max_jobs`` heavy jobs at once; the rest wait, first come first served.

    Background jobs (the server's warm-up) come last: every waiting user job is
    queued before them, and one starts only while no user job runs or waits, so
    a user waits for at most the background job already running.

    Attributes (for monitoring and tests): ``running``, ``waiting``,
    ``peak_running``, ``completed``, ``rejected``.
    """

    def __init__(self, max_jobs: int = DEFAULT_MAX_JOBS, queue_timeout: float = DEFAULT_QUEUE_TIMEOUT,
                 poll: float = 0.05):
        if isinstance(max_jobs, bool) or not isinstance(max_jobs, int) or max_jobs < 1:
            raise ValueError(f"max_jobs must be a positive integer, got {max_jobs!r}")
        if not queue_timeout > 0:
            raise ValueError(f"queue_timeout must be positive, got {queue_timeout!r}")
        self.max_jobs = max_jobs
        self.queue_timeout = float(queue_timeout)
        self._poll = poll
        self._sem = threading.BoundedSemaphore(max_jobs)
        self._lock = threading.Lock()
        self.running = 0
        self.waiting = 0
        self.peak_running = 0
        self.completed = 0
        self.rejected = 0
        self._tokens: dict[str, set[CancelToken]] = {}
        self._queue: list[CancelToken] = []
        self._background: set[CancelToken] = set()  # queued background tokens
        self._foreground_running = 0
        self._freed = threading.Event()

    @contextmanager
    def slot(self, token: CancelToken | None = None, *, session: str | None = None,
             on_wait: Callable[[float, int], None] | None = None,
             background: bool = False) -> Iterator[CancelToken]:
        """Holds one of the ``max_jobs`` slots for the body of the ``with``.

        Args:
          token: cancel flag checked while waiting (a fresh one if None).
          session: owner id; :meth:`cancel_session` cancels all its jobs.
          on_wait: called as on_wait(seconds_waited, jobs_ahead) while queued, where
            jobs_ahead counts the running jobs and those queued before this one.
          background: yield to user jobs (see the class); waits without a timeout.

        Raises:
          ServerBusy: no slot within ``queue_timeout`` seconds (never for background jobs).
          Cancelled: the token was cancelled while waiting.
        """
        token = token or CancelToken()
        self._register(session, token)
        try:
            self._acquire(token, on_wait, background)
            try:
                yield token
            finally:
                with self._lock:
                    self.running -= 1
                    self._foreground_running -= not background
                    self.completed += 1
                self._sem.release()
                self._freed.set()
        finally:
            self._unregister(session, token)

    def _acquire(self, token: CancelToken, on_wait, background: bool) -> None:
        # First come, first served: a job starts when a slot is free and every
        # job queued before it has started, so "n jobs ahead of you" is true.
        # User jobs are queued before every background job.
        t0 = time.monotonic()
        with self._lock:
            self.waiting += 1
            if background:
                self._background.add(token)
                self._queue.append(token)
            else:
                first_bg = next((i for i, t in enumerate(self._queue) if t in self._background), len(self._queue))
                self._queue.insert(first_bg, token)
        try:
            while True:
                with self._lock:
                    ahead = self._queue.index(token)
                    free = not background or self._foreground_running == 0
                    if ahead == 0 and free and self._sem.acquire(blocking=False):
                        self._queue.pop(0)
                        self._foreground_running += not background
                        break
                waited = time.monotonic() - t0
                token.raise_if_cancelled()
                if waited >= self.queue_timeout and not background:
                    with self._lock:
                        self.rejected += 1
                    raise ServerBusy(
                        f"the server is busy: {self.max_jobs} heavy computations are running and "
                        f"none finished within {self.queue_timeout:.0f} s; try again in a moment "
                        "or choose a lower resolution"
                    )
                if on_wait is not None:
                    on_wait(waited, ahead + self.running)
                self._freed.wait(self._poll)
                self._freed.clear()
            try:
                token.raise_if_cancelled()
            except BaseException:
                with self._lock:
                    self._foreground_running -= not background
                self._sem.release()
                self._freed.set()
                raise
        finally:
            with self._lock:
                self.waiting -= 1
                self._background.discard(token)
                if token in self._queue:
                    self._queue.remove(token)
        with self._lock:
            self.running += 1
            self.peak_running = max(self.peak_running, self.running)

    def jobs_ahead(self, token: CancelToken) -> int:
        """Jobs that start before ``token``'s: those running plus those queued earlier."""
        with self._lock:
            ahead = self._queue.index(token) if token in self._queue else 0
            return ahead + self.running

    def _register(self, session, token):
        if session is not None:
            with self._lock:
                self._tokens.setdefault(session, set()).add(token)

    def _unregister(self, session, token):
        if session is not None:
            with self._lock:
                tokens = self._tokens.get(session)
                if tokens is not None:
                    tokens.discard(token)
                    if not tokens:
                        del self._tokens[session]

    def cancel_session(self, session: str) -> int:
        """Cancels every queued or running job of ``session``; returns how many."""
        with self._lock:
            tokens = list(self._tokens.get(session, ()))
        for t in tokens:
            t.cancel()
        return len(tokens)

    def run(self, fn: Callable, *args, token: CancelToken | None = None, session: str | None = None,
            **kwargs):
        """``fn(*args, **kwargs)`` inside a slot."""
        with self.slot(token, session=session) as tok:
            tok.raise_if_cancelled()
            return fn(*args, **kwargs)


_DEFAULT: JobLimiter | None = None
_DEFAULT_LOCK = threading.Lock()


def default_limiter() -> JobLimiter:
    """The process-wide limiter; size from L2L_MAX_JOBS, wait from L2L_QUEUE_TIMEOUT."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            max_jobs = int(os.environ.get("L2L_MAX_JOBS", DEFAULT_MAX_JOBS))
            timeout = float(os.environ.get("L2L_QUEUE_TIMEOUT", DEFAULT_QUEUE_TIMEOUT))
            _DEFAULT = JobLimiter(max_jobs, timeout)
        return _DEFAULT
