"""Opening a pixel: the project's inspect engine against straightforward peers, timed in the same run.

(a) 3000 gradient-descent steps of ``digits_fc_tanh`` (full batch, lr 2.5 x 2 / sharpness at the
    start: the edge of stability) with the top Hessian eigenvalue every 100 steps (31 checkpoints):
    ``inspect_run`` warm (lax.scan chunks, Lanczos inside jit) against a jit step called once per
    step plus power iteration on jitted Hessian-vector products (to 1e-4 relative, at most 100
    products), the way the planning notes reproduced Cohen et al.
(b) a 201 x 201 filter-normalized slice of ``digits_mlp`` on its training split: the project's slice
    (the first layer's products shared across cells) against two per-cell loops (one jitted full-data
    loss per cell; and, as Li et al.'s code evaluates each grid point, the data in minibatches of 128),
    and against the same vmapped slice without the sharing. The per-cell loops are timed on
    ``--peer-rows`` rows and scaled to 201 (their time is linear in the cells); ``--peer-rows 201``
    times all of it.

usage: python bench/bench_inspect.py [--rounds 3] [--peer-rows 20] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

STEPS, EVERY, N = 3000, 100, 201


def project_run(lr: float) -> tuple[float, dict]:
    from l2l_core.probe.run import inspect_run

    t = time.perf_counter()
    r = inspect_run("digits_fc_tanh", "sgd", {"lr": lr, "momentum": 0.0}, steps=STEPS, sharpness_every=EVERY)
    return time.perf_counter() - t, r


def peer_run(lr: float) -> tuple[float, np.ndarray, np.ndarray]:
    """A jit step per step and power iteration on jitted Hessian-vector products (compiled before timing)."""
    import jax
    import jax.numpy as jnp

    from l2l_core.tasks.mlp import mlp_task

    task = mlp_task("digits_fc_tanh")
    loss = task.loss

    @jax.jit
    def step(theta):
        value, g = jax.value_and_grad(loss)(theta)
        return theta - lr * g, value

    @jax.jit
    def hvp(theta, v):
        return jax.jvp(jax.grad(loss), (theta,), (v,))[1]

    def power(theta, v):
        lam = 0.0
        for _ in range(100):
            w = hvp(theta, v)
            new = float(jnp.vdot(v, w))
            v = w / jnp.linalg.norm(w)
            if abs(new - lam) <= 1e-4 * abs(new):
                return new
            lam = new
        return lam

    theta = jnp.asarray(task.init(0), jnp.float32)
    v0 = jax.random.normal(jax.random.PRNGKey(0), theta.shape)
    step(theta)[0].block_until_ready()
    hvp(theta, v0).block_until_ready()
    t = time.perf_counter()
    sharp, losses = [], []
    for i in range(STEPS + 1):
        if i % EVERY == 0:
            sharp.append(power(theta, v0))
        if i == STEPS:
            break
        theta, value = step(theta)
        losses.append(float(value))
    return time.perf_counter() - t, np.asarray(sharp), np.asarray(losses)


def slice_setup():
    from l2l_core.probe import slices
    from l2l_core.probe.run import inspect_run
    from l2l_core.tasks.mlp import mlp_task

    task = mlp_task("digits_mlp")
    r = inspect_run(task, "sgd", {"lr": 0.5, "momentum": 0.9}, steps=300, sharpness_every=300)
    center = r["params"][-1]
    da, db = slices.filter_normalized(task, center, seed=0)
    return task, center, da, db, np.linspace(-1.0, 1.0, N)


def project_slice(task, center, da, db, grid, shared=True) -> tuple[float, np.ndarray]:
    from l2l_core.probe import slices

    t = time.perf_counter()
    if shared:
        z = slices.slice_2d(task, task.loss, center, da, db, grid, grid)
    else:  # the same vmapped slice, every cell from its own parameters
        z = slices.slice_2d(None, task.loss, center, da, db, grid, grid)
    return time.perf_counter() - t, z


def peer_slice(task, center, da, db, grid, rows: int, batch: int | None = None) -> tuple[float, np.ndarray]:
    """The per-cell loop: set the weights of a cell, evaluate the training loss, next cell. ``batch`` None:
    one jitted full-data loss per cell (the loop at its leanest); a number: the data in minibatches of
    that size, summed, as Li et al.'s code evaluates each grid point (its default batch size is 128)."""
    import jax
    import jax.numpy as jnp

    x, y = np.asarray(task.inputs, np.float32), np.asarray(task.targets, np.float32)
    n = len(x)
    if batch is None:
        parts = [(jnp.asarray(x), jnp.asarray(y))]
    else:
        parts = [(jnp.asarray(x[i:i + batch]), jnp.asarray(y[i:i + batch])) for i in range(0, n, batch)]
    loss = jax.jit(lambda t, xb, yb: task.loss(t, xb, yb) * xb.shape[0])
    c, a_, b_ = (jnp.asarray(v, jnp.float32) for v in (center, da, db))
    for xb, yb in parts:
        loss(c, xb, yb).block_until_ready()
    out = np.full((rows, len(grid)), np.nan)
    t = time.perf_counter()
    for i, b in enumerate(grid[:rows]):
        for j, a in enumerate(grid):
            theta = c + float(a) * a_ + float(b) * b_
            out[i, j] = sum(float(loss(theta, xb, yb)) for xb, yb in parts) / n
    return time.perf_counter() - t, out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--peer-rows", type=int, default=20, help="rows of the per-cell loop timed (201: all)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = ap.parse_args(argv)
    from l2l_core.runtime.setup import setup_process

    setup_process()  # as app.py and the CLI do
    from l2l_core.probe.run import inspect_run

    s0 = float(inspect_run("digits_fc_tanh", "sgd", {"lr": 0.01, "momentum": 0.0}, steps=1,
                           sharpness_every=1)["sharpness"][0, 0])
    lr = 5.0 / s0
    first, r = project_run(lr)
    res = {"lr": lr, "sharpness_start": s0, "eos": {"project_first": first, "project_warm": [], "peer": [],
                                                    "parts_warm": None}}
    for _ in range(args.rounds):
        w, r = project_run(lr)
        if not res["eos"]["project_warm"] or w < min(res["eos"]["project_warm"]):
            res["eos"]["parts_warm"] = r["seconds"]  # the parts of the best round
        res["eos"]["project_warm"].append(w)
        p, peer_sharp, peer_loss = peer_run(lr)
        res["eos"]["peer"].append(p)
    late = slice(15, None)
    res["eos"]["project_sharpness_late"] = float(np.median(r["sharpness"][late, 0]))
    res["eos"]["peer_sharpness_late"] = float(np.median(peer_sharp[late]))
    res["eos"]["two_over_lr"] = 2 / lr

    task, center, da, db, grid = slice_setup()
    sl = {"project_first": project_slice(task, center, da, db, grid)[0], "project_warm": [], "unshared_warm": [],
          "peer_rows": args.peer_rows}
    project_slice(task, center, da, db, grid, shared=False)
    rows = max(1, min(N, args.peer_rows))
    peers = (("peer", None), ("peer_minibatch", 128))
    for name, _ in peers:
        sl[f"{name}_measured"] = []
    for _ in range(args.rounds):  # interleaved: a busy spell of the shared machine hits every contender
        w, z = project_slice(task, center, da, db, grid)
        sl["project_warm"].append(w)
        sl["unshared_warm"].append(project_slice(task, center, da, db, grid, shared=False)[0])
        for name, batch in peers:
            t_peer, zp = peer_slice(task, center, da, db, grid, rows, batch)
            sl[f"{name}_measured"].append(t_peer)
            sl[f"{name}_max_rel_diff"] = float(np.max(np.abs(z[:rows] - zp) / np.abs(zp)))
    for name, _ in peers:
        sl[f"{name}_full_estimate"] = min(sl[f"{name}_measured"]) * N / rows
    res["slice"] = sl

    best = {k: min(v) for k, v in (("eos_project", res["eos"]["project_warm"]), ("eos_peer", res["eos"]["peer"]),
                                   ("slice_project", sl["project_warm"]), ("slice_unshared", sl["unshared_warm"]))}
    res["best"] = dict(best, eos_ratio=best["eos_peer"] / best["eos_project"],
                       slice_ratio=sl["peer_full_estimate"] / best["slice_project"],
                       slice_ratio_minibatch=sl["peer_minibatch_full_estimate"] / best["slice_project"],
                       slice_ratio_unshared=best["slice_unshared"] / best["slice_project"])
    if args.json:
        print(json.dumps(res))
        return 0
    b = res["best"]
    print(f"(a) digits_fc_tanh, {STEPS} GD steps at lr {lr:.4f} (2.5 x 2/{s0:.2f}), top eigenvalue every {EVERY}")
    print(f"    project warm {b['eos_project']:.2f} s (first {first:.2f} s; parts {res['eos']['parts_warm']})")
    print(f"    peer (jit step + power iteration) {b['eos_peer']:.2f} s -> {b['eos_ratio']:.1f}x")
    print(f"    late sharpness: project {res['eos']['project_sharpness_late']:.2f}, peer "
          f"{res['eos']['peer_sharpness_late']:.2f}, 2/lr {2 / lr:.2f}")
    print(f"(b) digits_mlp {N}x{N} slice: project warm {b['slice_project']:.2f} s (first {sl['project_first']:.2f} s), "
          f"unshared vmap {b['slice_unshared']:.2f} s ({b['slice_ratio_unshared']:.1f}x)")
    for name, what, ratio in (("peer", "per-cell loop, one full-data call a cell", b["slice_ratio"]),
                              ("peer_minibatch", "per-cell loop over minibatches of 128 (Li et al.'s code)",
                               b["slice_ratio_minibatch"])):
        print(f"    {what}: {min(sl[name + '_measured']):.2f} s for {rows} rows -> {sl[name + '_full_estimate']:.1f} s "
              f"for {N} rows -> {ratio:.1f}x; max relative difference {sl[name + '_max_rel_diff']:.1e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
