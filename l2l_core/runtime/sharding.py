"""Spreading the landscape's chunks over every device and every CPU core.

One chunk of cells is an array of shape (rows x n_devices, columns), split by
rows over a 1-D mesh of all devices (``jax.devices()``: one GPU, several, a TPU
slice, or every host's devices after ``jax.distributed.initialize()``). The
cells are independent, so the jitted double vmap partitions with no
communication. Chunks themselves are dispatched from a small thread pool: on a
CPU, one thread per core keeps every core busy (jax releases the GIL while a
chunk runs); on an accelerator, two threads overlap host work with device work.

Try it on a CPU with virtual devices:
``JAX_NUM_CPU_DEVICES=4 python -m l2l_core grid --res 1000``.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

AXIS = "cells"

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def grid_devices() -> tuple:
    """All devices of the default backend, every host's included."""
    return tuple(jax.devices())


@lru_cache(maxsize=8)
def _row_sharding(devices: tuple) -> NamedSharding:
    return NamedSharding(Mesh(np.array(devices), (AXIS,)), PartitionSpec(AXIS))


def shard_rows(host: np.ndarray, devices: tuple):
    """``host`` (the same global array on every process) split by rows over ``devices``."""
    if len(devices) == 1:
        return host  # jit places it; no sharding to describe
    sharding = _row_sharding(devices)
    if jax.process_count() == 1:
        return jax.device_put(host, sharding)
    return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])


def to_host(array) -> np.ndarray:
    """A (possibly multi-host) sharded result as one numpy array on this process."""
    if getattr(array, "is_fully_addressable", True):
        return np.asarray(array)
    from jax.experimental import multihost_utils

    return np.asarray(multihost_utils.process_allgather(array, tiled=True))


def workers() -> int:
    """Threads that dispatch chunks: one per usable core on a CPU, else two;
    one across several processes (jax.distributed), where every process must
    issue the same chunks, and so the same collectives, in the same order."""
    if jax.process_count() > 1:
        return 1
    if jax.default_backend() != "cpu":
        return 2
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _get_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max(2, workers()), thread_name_prefix="l2l-grid")
        return _pool


def run_parallel(fn, n: int) -> None:
    """Calls ``fn(i)`` for i in range(n), on up to workers() threads; re-raises errors."""
    k = min(workers(), n)
    if k <= 1:
        for i in range(n):
            fn(i)
        return

    def strided(t: int) -> None:
        for i in range(t, n, k):
            fn(i)

    for f in [_get_pool().submit(strided, t) for t in range(k)]:
        f.result()
