"""Identical work asked for at once is computed once; the job queue is first come,
first served and says how many jobs are ahead."""

import threading
import time

import numpy as np
import pytest

from l2l_core.runtime import jobs
from l2l_core.runtime.shared_work import SharedWork, work_key


def test_identical_concurrent_requests_compute_once():
    sw, calls = SharedWork(), []

    def work():
        calls.append(1)
        time.sleep(0.3)
        return np.arange(3.0)

    key = work_key(np.sum, (np.linspace(0, 1, 5),), {"problem": "log_sin"})
    out = [None] * 8
    threads = [threading.Thread(target=lambda i=i: out.__setitem__(i, sw.run(key, work))) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and sw.computed == 1 and sw.joined + sw.hits == 7
    assert all(np.array_equal(o, [0.0, 1.0, 2.0]) for o in out)


def test_keys_differ_with_any_argument_and_refuse_objects():
    a = work_key(np.sum, (np.zeros(3),), {"x0": -4.0})
    assert a == work_key(np.sum, (np.zeros(3),), {"x0": -4.0})
    assert a != work_key(np.sum, (np.zeros(3),), {"x0": -4})  # int vs float
    assert a != work_key(np.sum, (np.zeros(3, np.float32),), {"x0": -4.0})
    assert a != work_key(np.mean, (np.zeros(3),), {"x0": -4.0})
    assert work_key(np.sum, (object(),)) is None


def test_a_failure_is_shared_and_a_cancelled_leader_hands_over():
    sw = SharedWork()
    with pytest.raises(ValueError, match="bad"):
        sw.run("k", lambda: (_ for _ in ()).throw(ValueError("bad")))
    assert sw.run("k", lambda: 7) == 7  # errors are not remembered


def test_memo_is_bounded_by_bytes():
    sw = SharedWork(max_entries=10, max_bytes=3 * 8000)
    for i in range(6):
        sw.run(f"k{i}", lambda: np.zeros(1000))
    assert len(sw._memo) == 3 and sw._bytes <= 3 * 8000


def test_queue_is_first_come_first_served_and_counts_jobs_ahead():
    lim = jobs.JobLimiter(1, queue_timeout=30, poll=0.01)
    order, seen, at_release = [], {}, {}
    release = threading.Event()

    def job(i):
        def on_wait(_, ahead):
            seen[i] = ahead
        with lim.slot(on_wait=on_wait):
            order.append(i)
            if i == 0:
                release.wait(10)

    threads = []
    for i in range(4):
        threads.append(threading.Thread(target=job, args=(i,)))
        threads[-1].start()
        time.sleep(0.15)  # arrival order 0, 1, 2, 3
    time.sleep(0.2)
    at_release.update(seen)  # all four there: each waiter counts only those before it
    release.set()
    for t in threads:
        t.join()
    assert order == [0, 1, 2, 3]
    assert at_release == {1: 1, 2: 2, 3: 3}
