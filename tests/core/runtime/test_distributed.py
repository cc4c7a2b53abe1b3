"""JAX's multi-process runtime: two processes on this machine (jax.distributed,
CPU collectives over gloo, 2 devices each) compute one landscape grid together;
both hold the whole grid, identical to one process computing it alone."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[3]

WORKER = """
import json, sys
import jax
pid, port = int(sys.argv[1]), sys.argv[2]
if pid >= 0:
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator_address=f"127.0.0.1:{port}", num_processes=2, process_id=pid)
import numpy as np
from l2l_core import landscape
log_lrs, log_omm = landscape.axes((-3.0, 2.0), (-3.0, 0.0), 96)
z = landscape.meta_loss_grid(log_lrs, log_omm)
print(json.dumps(dict(processes=jax.process_count(), devices=len(jax.devices()),
                      z=np.asarray(z, np.float64).tolist())))
"""


def _env(devices: int) -> dict:
    env = dict(os.environ, JAX_PLATFORMS="cpu", JAX_NUM_CPU_DEVICES=str(devices), PYTHONPATH=str(ROOT))
    env.pop("XLA_FLAGS", None)
    return env


def _result(text: str) -> dict:
    return json.loads(text.strip().splitlines()[-1])


@pytest.mark.slow
def test_two_processes_compute_the_same_grid_as_one(tmp_path):
    port = str(free_port())
    # Files, not pipes: each process waits for the other at exit (the runtime's
    # shutdown barrier), so an unread full pipe would hold both.
    logs = [(open(tmp_path / f"out{i}", "w"), open(tmp_path / f"err{i}", "w")) for i in range(2)]
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(i), port], cwd=ROOT, env=_env(2),
                              stdout=out, stderr=err, text=True) for i, (out, err) in enumerate(logs)]
    outs = []
    try:
        for i, p in enumerate(procs):
            p.wait(timeout=300)
            logs[i][0].close()
            logs[i][1].close()
            assert p.returncode == 0, (tmp_path / f"err{i}").read_text()[-3000:]
            outs.append(_result((tmp_path / f"out{i}").read_text()))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    single = subprocess.run([sys.executable, "-c", WORKER, "-1", "0"], cwd=ROOT, env=_env(1),
                            capture_output=True, text=True, timeout=300)
    assert single.returncode == 0, single.stderr[-3000:]
    alone = _result(single.stdout)
    assert [(o["processes"], o["devices"]) for o in outs] == [(2, 4), (2, 4)]
    assert (alone["processes"], alone["devices"]) == (1, 1)
    z = np.array(alone["z"])
    assert z.shape == (96, 96) and np.isfinite(z).mean() > 0.5
    for o in outs:
        np.testing.assert_array_equal(np.array(o["z"]), z)
