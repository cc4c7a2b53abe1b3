"""run_outer_batch: many outer runs as one vmapped, device-sharded computation,
the same numbers as run_outer one by one, on one device or four virtual ones.

The batched, the single and the sharded runs are differently compiled programs, so they
may round differently in the last bit. On the post's chaotic problem an outer run
amplifies one ulp into a different trajectory within a few steps (seen on one CPU and not
another), so these comparisons run on the convex quadratic, where the outer landscape is
smooth and the programs agree to float32 rounding: a wrong seed, start or padding still
moves every number far beyond the tolerance."""

from __future__ import annotations

import numpy as np
import pytest

from l2l_core import outer
from tests.conftest import run_on_cpu_devices

INITS = [(-2.0, -0.5), (0.0, -1.5), (-1.0, -1.0), (-1.5, -0.3), (-2.5, -2.0)]
SEEDS = [0, 1, 2, 3, 7]
CASES = {"grad": {}, "es": dict(pairs=2, std_final=0.05), "pes": dict(pairs=2, truncation_length=5),
         "tbptt": dict(truncation_length=5), "random": {}}
STEPS = 12
COMMON = dict(inner_steps=20, problem="parabola")  # well-conditioned: see the module's note


def _close(a, b):
    # Identical in practice; vmapped vs single programs may differ by float rounding.
    np.testing.assert_allclose(a, b, rtol=2e-4, atol=1e-5, equal_nan=True)


@pytest.mark.parametrize("method", ["grad", "es", "pes", "random"])
def test_batch_equals_a_loop_of_single_runs(method):
    b = outer.run_outer_batch(method, INITS, STEPS, seeds=SEEDS, **CASES[method], **COMMON)
    assert b.trajectories.shape == (5, STEPS + 1, 2) and b.losses.shape == (5, STEPS)
    assert b.final_losses.shape == (5,) and b.trajectories.dtype == np.float32
    for i, (p, s) in enumerate(zip(INITS, SEEDS)):
        r = outer.run_outer_full(method, p, STEPS, seed=s, **CASES[method], **COMMON)
        _close(b.trajectories[i], r.trajectory)
        _close(b.losses[i], r.losses)
        _close(b.final_losses[i], r.final_loss)


def test_one_integer_seed_serves_every_start():
    b = outer.run_outer_batch("random", INITS, STEPS, seeds=4, **COMMON)
    c = outer.run_outer_batch("random", INITS, STEPS, seeds=[4] * len(INITS), **COMMON)
    np.testing.assert_array_equal(b.trajectories, c.trajectories)
    traj, _ = outer.run_outer("random", INITS[2], STEPS, seed=4, **COMMON)
    _close(b.trajectories[2], traj)


@pytest.mark.parametrize("kwargs, match", [
    (dict(method="nope"), "unknown outer method"),
    (dict(inits=[]), "between 1 and"),
    (dict(inits="-2,-0.5"), "sequence of"),
    (dict(inits=[(-2.0, -0.5), (1.0,)]), r"inits\[1\]"),
    (dict(inits=[(-2.0, float("nan"))]), "finite"),
    (dict(seeds=[0, 1]), "one seed per start"),
    (dict(seeds=-1), "seed"),
    (dict(seeds=[0.5]), "seed must be an integer"),
    (dict(seeds="0"), "seeds must be"),
    (dict(steps=0), "steps"),
    (dict(bogus=1), "unknown option"),
])
def test_batch_arguments_are_checked(kwargs, match):
    args = dict(method="es", inits=[(-2.0, -0.5)], steps=3, seeds=[0])
    args.update(kwargs)
    method, inits, steps = args.pop("method"), args.pop("inits"), args.pop("steps")
    with pytest.raises(ValueError, match=match):
        outer.run_outer_batch(method, inits, steps, **args)


_CHILD = r"""
import json, sys
import jax
from l2l_core import outer
from tests.core.outer.test_outer_sharding import INITS, SEEDS, CASES, STEPS, COMMON
assert len(jax.devices()) == 4, jax.devices()
out = {}
for m in ("es", "pes"):
    b = outer.run_outer_batch(m, INITS, STEPS, seeds=SEEDS, **CASES[m], **COMMON)  # 5 runs, padded to 8
    out[m] = [a.tolist() for a in b]
print(json.dumps(out))
"""


@pytest.mark.slow
def test_four_devices_give_the_same_numbers_as_one():
    out = run_on_cpu_devices(_CHILD)
    for m, sharded in out.items():
        one = outer.run_outer_batch(m, INITS, STEPS, seeds=SEEDS, **CASES[m], **COMMON)
        for got, want in zip(sharded, one):
            _close(np.array(got, np.float32), want)
        for i, (p, s) in enumerate(zip(INITS, SEEDS)):
            traj, losses = outer.run_outer(m, p, STEPS, seed=s, **CASES[m], **COMMON)
            _close(np.array(sharded[0][i], np.float32), traj)
            _close(np.array(sharded[1][i], np.float32), losses)
        # Every run moved, each its own way: a mixed-up seed or start cannot pass as equal.
        traj = np.array(sharded[0], np.float32)
        assert (np.abs(traj[:, -1] - traj[:, 0]).max(axis=1) > 1e-3).all()
        assert len({tuple(np.round(t[-1], 4)) for t in traj}) == len(INITS)
