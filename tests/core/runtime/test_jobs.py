"""The server-wide job limit: bounded concurrency, queue timeout, cancelling."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from l2l_core.runtime import jobs
from l2l_core import landscape
from l2l_core.runtime.jobs import CancelToken, Cancelled, JobLimiter, ServerBusy


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
    t0 = time.monotonic()
    with pytest.raises(ServerBusy, match="busy"):
        lim.run(lambda: None)
    assert 0.15 < time.monotonic() - t0 < 2
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
    zb = jobs.banded_meta_loss_grid(lrs, omm, steps=20, band_cells=40 * 7)
    np.testing.assert_array_equal(zb, z)

    checks = []

    def check():
        checks.append(1)
        if len(checks) >= 2:
            tok.cancel()

    tok = CancelToken(check)
    with pytest.raises(Cancelled):
        jobs.banded_meta_loss_grid(lrs, omm, steps=20, band_cells=40 * 7, token=tok)
    assert len(checks) == 2  # stopped at the third band boundary, not after all five bands


def test_banded_grid_keeps_the_cell_cap():
    big = np.zeros(4097)
    with pytest.raises(ValueError, match="exceeds"):
        jobs.banded_meta_loss_grid(big, big)


def test_bad_limiter_settings():
    with pytest.raises(ValueError):
        JobLimiter(0)
    with pytest.raises(ValueError):
        JobLimiter(1, queue_timeout=0)
