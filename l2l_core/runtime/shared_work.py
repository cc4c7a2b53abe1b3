"""Identical heavy work requested by several sessions at once is computed once.

Pure Python (threads only, no streamlit). :class:`SharedWork` sits in front of
the job limit: the first caller of a key (the leader) computes, every caller
of the same key that arrives while it runs waits for that result instead of
queueing a copy of the same job, and a small memo keeps the last results
(bounded by entries and bytes) so that work done at server start (the
default views) is served to the first visitors.

Keys are built by :func:`work_key` from plain values only (numbers, strings,
None, tuples/lists/dicts of them, numpy arrays); any other argument makes the
call unkeyable and it simply runs (an object's identity is no safe key).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any, Callable

import numpy as np

#: Results kept after their computation, and their total size cap.
DEFAULT_MAX_ENTRIES = 32
DEFAULT_MAX_BYTES = 256 << 20


class _Unkeyable(Exception):
    pass


def _feed(h, value: Any) -> None:
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        h.update(f"{type(value).__name__}:{value!r};".encode())
    elif isinstance(value, np.ndarray) or isinstance(value, np.generic):
        a = np.ascontiguousarray(value)
        h.update(f"nd:{a.dtype.str}:{a.shape};".encode())
        h.update(a.tobytes())
    elif isinstance(value, (tuple, list)):
        h.update(f"{type(value).__name__}[{len(value)}](".encode())
        for v in value:
            _feed(h, v)
        h.update(b")")
    elif isinstance(value, dict):
        h.update(f"dict[{len(value)}](".encode())
        for k in sorted(value, key=repr):
            _feed(h, k)
            _feed(h, value[k])
        h.update(b")")
    else:
        raise _Unkeyable(type(value).__name__)


def work_key(fn: Callable, args: tuple = (), kwargs: dict | None = None) -> str | None:
    """A digest of (function, arguments), or None when an argument is not a plain value."""
    h = hashlib.sha256(f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', repr(fn))};".encode())
    try:
        _feed(h, tuple(args))
        _feed(h, dict(kwargs or {}))
    except _Unkeyable:
        return None
    return h.hexdigest()


def _nbytes(value: Any, depth: int = 0) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if depth > 4:
        return 64
    if isinstance(value, (tuple, list)):
        return sum(_nbytes(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return sum(_nbytes(v, depth + 1) for v in value.values())
    if hasattr(value, "__dict__"):
        return sum(_nbytes(v, depth + 1) for v in vars(value).values())
    return 64


class _Flight:
    def __init__(self):
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None


class SharedWork:
    """Single-flight plus a bounded memo.

    Attributes (for monitoring and tests): ``computed`` (leader runs),
    ``joined`` (callers served by a run already in flight), ``hits`` (memo).
    """

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES, max_bytes: int = DEFAULT_MAX_BYTES,
                 poll: float = 0.05):
        if max_entries < 0 or max_bytes < 0:
            raise ValueError("max_entries and max_bytes must be >= 0")
        self.max_entries, self.max_bytes, self._poll = max_entries, max_bytes, poll
        self._lock = threading.Lock()
        self._flights: dict[str, _Flight] = {}
        self._memo: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self.computed = self.joined = self.hits = 0

    def run(self, key: str | None, fn: Callable[[], Any], *,
            check: Callable[[], None] | None = None, follow: bool = True) -> Any:
        """``fn()``, or the result of an identical run in flight or remembered.

        Args:
          key: from :func:`work_key`; None runs ``fn`` without sharing.
          fn: the work (it takes its job slot itself, so followers never hold one).
          check: called while following; it may raise to stop waiting
            (a session's cancel), which leaves the leader running.
          follow: False computes ``fn()`` unshared when an identical run is in
            flight instead of waiting for it (a caller that already holds a job
            slot must not wait for a run that needs one).
        """
        if key is None:
            return fn()
        with self._lock:
            if key in self._memo:
                self._memo.move_to_end(key)
                self.hits += 1
                return self._memo[key][0]
            flight = self._flights.get(key)
            leader = flight is None
            if not (leader or follow):
                return fn()
            if leader:
                flight = self._flights[key] = _Flight()
                self.computed += 1
            else:
                self.joined += 1
        if not leader:
            while not flight.done.wait(self._poll):
                if check is not None:
                    check()
            if flight.error is None:
                return flight.result
            if isinstance(flight.error, ValueError) and "cancel" not in str(flight.error):
                raise flight.error
            return self.run(key, fn, check=check)  # the leader was cancelled: take over
        try:
            flight.result = fn()
        except BaseException as e:
            flight.error = e
            raise
        else:
            self._remember(key, flight.result)
        finally:
            with self._lock:
                self._flights.pop(key, None)
            flight.done.set()
        return flight.result

    def _remember(self, key: str, result: Any) -> None:
        size = _nbytes(result)
        if self.max_entries == 0 or size > self.max_bytes:
            return
        with self._lock:
            self._memo[key] = (result, size)
            self._bytes += size
            while len(self._memo) > self.max_entries or self._bytes > self.max_bytes:
                _, (_, s) = self._memo.popitem(last=False)
                self._bytes -= s

    def clear(self) -> None:
        with self._lock:
            self._memo.clear()
            self._bytes = 0


_DEFAULT: SharedWork | None = None
_DEFAULT_LOCK = threading.Lock()


def default_shared_work() -> SharedWork:
    """The process-wide instance the dashboard uses."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = SharedWork()
        return _DEFAULT
