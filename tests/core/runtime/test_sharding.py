"""runtime.sharding: rows split over devices give back the same array; the chunk
dispatcher runs every index once and re-raises a worker's error."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from l2l_core.runtime import sharding
from tests.conftest import run_on_cpu_devices


def test_one_device_passes_the_host_array_through():
    host = np.arange(12, dtype=np.float32).reshape(6, 2)
    devices = sharding.grid_devices()[:1]
    assert sharding.shard_rows(host, devices) is host
    np.testing.assert_array_equal(sharding.to_host(host), host)


@pytest.mark.parametrize("n", [1, 2, 7, 64])
def test_run_parallel_calls_every_index_exactly_once(n):
    seen, lock = [], threading.Lock()

    def fn(i):
        with lock:
            seen.append(i)

    sharding.run_parallel(fn, n)
    assert sorted(seen) == list(range(n))


def test_run_parallel_re_raises_a_worker_error():
    def fn(i):
        if i == 3:
            raise ValueError("chunk 3 failed")

    with pytest.raises(ValueError, match="chunk 3"):
        sharding.run_parallel(fn, 8)


def test_workers_is_at_least_one():
    assert sharding.workers() >= 1


def test_rows_split_over_four_devices_come_back_unchanged():
    out = run_on_cpu_devices(r"""
import json
import numpy as np
from l2l_core.runtime import sharding
devices = sharding.grid_devices()
host = np.arange(32, dtype=np.float32).reshape(8, 4)
arr = sharding.shard_rows(host, devices)
back = sharding.to_host(arr)
print(json.dumps({"n_devices": len(devices), "shards": len(arr.addressable_shards),
                  "equal": bool((back == host).all()), "shard_rows": arr.addressable_shards[0].data.shape[0]}))
""")
    assert out == {"n_devices": 4, "shards": 4, "equal": True, "shard_rows": 2}
