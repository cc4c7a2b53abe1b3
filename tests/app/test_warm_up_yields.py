"""The server's warm-up yields to visitors: its heavy calls are background jobs."""

from __future__ import annotations

import threading
import time

from l2l_core.runtime import jobs
from l2l_core.runtime.shared_work import SharedWork


def _until(condition, timeout=30.0):
    """Waits for another thread to reach a state (no fixed sleeps: a busy machine is slow)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the other thread never got there"
        time.sleep(0.01)


def test_heavy_calls_in_background_jobs_wait_for_visitors(monkeypatch):
    from ui import shared as _shared

    lim = jobs.JobLimiter(max_jobs=2, queue_timeout=30)
    monkeypatch.setattr(jobs, "_DEFAULT", lim)
    release, order = threading.Event(), []

    visitor = threading.Thread(target=lambda: _shared.heavy(lambda tag: release.wait(10) and order.append(tag),
                                                            "visitor"))
    visitor.start()
    _until(lambda: lim.running == 1)

    def warm():
        with _shared.background_jobs():
            _shared.heavy(order.append, "warm-up")

    warming = threading.Thread(target=warm)
    warming.start()
    _until(lambda: lim.waiting == 1)
    time.sleep(0.2)  # had it not waited, it would have taken the free slot by now
    assert order == [] and lim.running == 1 and lim.waiting == 1  # a slot is free, yet the warm-up waits
    _shared.heavy(order.append, "second visitor")  # takes the free slot at once
    assert order == ["second visitor"]
    release.set()
    for t in (visitor, warming):
        t.join(10)
    assert order == ["second visitor", "visitor", "warm-up"]
    assert _shared.heavy(lambda: 5) == 5  # outside the block: a visitor's job again


def test_a_caller_that_must_not_follow_computes_instead_of_waiting():
    work, started, release = SharedWork(), threading.Event(), threading.Event()

    def slow():
        started.set()
        release.wait(10)
        return "leader"

    leader = threading.Thread(target=work.run, args=("k", slow))
    leader.start()
    started.wait(5)
    assert work.run("k", lambda: "own", follow=False) == "own"  # no wait for the leader
    release.set()
    leader.join(5)
    assert work.run("k", lambda: "again") == "leader"  # the leader's result is remembered


def test_a_grid_stops_between_chunks_when_its_run_is_superseded(monkeypatch):
    """A widget change while a pass computes: the grid skips its remaining chunks and
    raises instead of returning (so no partial grid is cached), freeing the job slot."""
    import pytest

    from ui import shared as _shared

    changed = [False]
    monkeypatch.setattr(_shared, "stop_requested", lambda: lambda: changed[0])
    done = []

    def grid(n, change_at, *, cancel):
        for c in range(n):
            if cancel():
                break
            done.append(c)
            if c == change_at:
                changed[0] = True  # the user typed a new range meanwhile
        return list(done)

    with pytest.raises(jobs.Cancelled, match="newer change"):
        _shared.heavy_stoppable(grid, 10, 3)
    assert done == [0, 1, 2, 3]
    changed[0], done[:] = False, []
    assert _shared.heavy_stoppable(grid, 5, None) == [0, 1, 2, 3, 4]
