"""The server-wide job limit: bounded concurrency, queue timeout, cancelling."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from l2l_core import landscape
from l2l_core.landscape.grid import banded_meta_loss_grid
from l2l_core.runtime.jobs import Cancelled, CancelToken, JobLimiter, ServerBusy


def test_never_more_than_max_jobs_run_at_once():
    lim = JobLimiter(max_jobs=2, queue_timeout=10)
    active, peak, lock = [0], [0], threading.Lock()

    def work():
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1

    threads = [threading.Thread(target=lim.run, args=(work,)) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert peak[0] == 2 and lim.peak_running == 2
    assert lim.completed == 10 and lim.running == 0 and lim.waiting == 0


def test_queue_timeout_gives_server_busy_and_frees_nothing_it_did_not_take():
    lim = JobLimiter(max_jobs=1, queue_timeout=0.2)
    release = threading.Event()
    t = threading.Thread(target=lim.run, args=(release.wait,))
    t.start()
    time.sleep(0.05)
    with pytest.raises(ServerBusy, match="busy"):
        lim.run(lambda: None)
    assert not release.is_set() and lim.running == 1  # refused while the slot was still held
    release.set()
    t.join(5)
    assert lim.run(lambda: 7) == 7  # the slot came back
    assert lim.rejected == 1 and lim.running == 0


def test_a_session_cancels_its_own_queued_job_only():
    lim = JobLimiter(max_jobs=1, queue_timeout=30)
    release = threading.Event()
    blocker = threading.Thread(target=lim.run, args=(release.wait,), kwargs={"session": "other"})
    blocker.start()
    time.sleep(0.05)
    outcome = {}

    def mine():
        try:
            lim.run(lambda: "ran", session="me")
            outcome["me"] = "ran"
        except Cancelled:
            outcome["me"] = "cancelled"

    t = threading.Thread(target=mine)
    t.start()
    time.sleep(0.1)
    assert lim.cancel_session("me") == 1
    t.join(5)
    assert outcome["me"] == "cancelled"
    assert blocker.is_alive()  # the other session's job is untouched
    release.set()
    blocker.join(5)
    assert lim.running == 0 and lim.waiting == 0


def test_check_callback_can_abort_a_waiting_job():
    lim = JobLimiter(max_jobs=1, queue_timeout=30)
    release = threading.Event()
    blocker = threading.Thread(target=lim.run, args=(release.wait,))
    blocker.start()
    time.sleep(0.05)

    class Stop(Exception):
        pass

    calls = []

    def check():
        calls.append(1)
        if len(calls) > 3:
            raise Stop

    with pytest.raises(Stop):
        lim.run(lambda: None, token=CancelToken(check))
    release.set()
    blocker.join(5)
    assert lim.waiting == 0 and lim.running == 0


def test_banded_grid_equals_the_grid_and_stops_between_bands():
    lrs, omm = np.linspace(-3, 2, 40), np.linspace(-3, 0, 30)
    z = landscape.meta_loss_grid(lrs, omm, steps=20)
    zb = banded_meta_loss_grid(lrs, omm, steps=20, band_cells=40 * 7)
    np.testing.assert_array_equal(zb, z)

    checks = []

    def check():
        checks.append(1)
        if len(checks) >= 2:
            tok.cancel()

    tok = CancelToken(check)
    with pytest.raises(Cancelled):
        banded_meta_loss_grid(lrs, omm, steps=20, band_cells=40 * 7, token=tok)
    assert len(checks) == 2  # stopped at the third band boundary, not after all five bands


def test_banded_grid_keeps_the_cell_cap():
    big = np.zeros(4097)
    with pytest.raises(ValueError, match="exceeds"):
        banded_meta_loss_grid(big, big)


def test_bad_limiter_settings():
    with pytest.raises(ValueError):
        JobLimiter(0)
    with pytest.raises(ValueError):
        JobLimiter(1, queue_timeout=0)


def test_user_jobs_go_before_background_jobs():
    """The warm-up's jobs yield: a user job queued after them starts first, and a
    background job waits (without a timeout) while any user job runs."""
    lim = JobLimiter(max_jobs=2, queue_timeout=0.3)
    order, release = [], threading.Event()

    def job(name, background, hold=None):
        with lim.slot(background=background):
            order.append(name)
            if hold is not None:
                hold.wait(10)

    user = threading.Thread(target=job, args=("user running", False, release))
    user.start()
    time.sleep(0.05)
    bg = threading.Thread(target=job, args=("warm-up", True))
    bg.start()
    time.sleep(0.5)  # a slot is free, but a user job runs; past the queue timeout, too
    assert order == ["user running"] and lim.waiting == 1
    late = threading.Thread(target=job, args=("user queued later", False))
    late.start()
    late.join(5)
    assert order == ["user running", "user queued later"]  # took the free slot at once
    release.set()
    for t in (user, bg):
        t.join(5)
    assert order[-1] == "warm-up" and lim.rejected == 0 and lim.running == 0 and lim.waiting == 0


def test_a_waiting_user_job_is_queued_ahead_of_waiting_background_jobs():
    lim = JobLimiter(max_jobs=1, queue_timeout=10)
    release, order = threading.Event(), []
    holder = threading.Thread(target=lambda: lim.run(release.wait, session="a"))
    holder.start()
    time.sleep(0.05)

    def job(name, background):
        with lim.slot(background=background):
            order.append(name)

    threads = [threading.Thread(target=job, args=(f"warm-up {i}", True)) for i in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.1)
    user = threading.Thread(target=job, args=("user", False))
    user.start()
    time.sleep(0.1)
    assert lim.waiting == 3
    release.set()
    for t in threads + [user, holder]:
        t.join(5)
    assert order[0] == "user" and sorted(order[1:]) == ["warm-up 0", "warm-up 1"]
