"""Resumable meta-training: the full training state saved after every chunk.

``DIR/train_state.msgpack`` holds what :func:`l2l_core.learned.metatrain.metatrain`
needs to continue exactly where a run stopped: the meta-parameters, the Adam
state, the PRNG key, the best parameters so far and the curves. Same framing
as a checkpoint (flax msgpack with a sha256 of the payload; never pickle),
written with the one atomic write. :func:`run_with_checkpoints` is what the
``metatrain`` command runs: it holds the folder's lock, saves the snapshot and
a loadable checkpoint of the best parameters after every chunk, and removes
the snapshot when the run ends.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Callable

import jax
import numpy as np
from flax import serialization

from l2l_core.io.files import atomic_write, locked_dir
from l2l_core.learned.checkpoint_schema import check_config, check_curve
from l2l_core.learned.checkpoints import FILENAME, MAX_BYTES, save_checkpoint
from l2l_core.learned.config import MetaTrainConfig
from l2l_core.learned.lstm import init_meta_params
from l2l_core.learned.meta_step import TrainState, meta_optimizer
from l2l_core.learned.metatrain import metatrain
from l2l_core.learned.run_record import MetaTrainResult, Snapshot

STATE_FILE = "train_state.msgpack"
FORMAT = "l2l-metatrain-state"
VERSION = 1
CURVE_KEYS = ("meta_loss", "final_loss", "val_steps", "val_loss")


def check_run_files(out: Path) -> None:
    """The run's own files, where present, are regular files in its folder, never links out of it."""
    for name in (FILENAME, STATE_FILE, "run.json"):
        f = out / name
        if f.is_symlink() or (f.exists() and not f.is_file()):
            kind = "a symbolic link" if f.is_symlink() else "not a regular file"
            raise ValueError(f"{f} is {kind}; a run writes only its own files: remove it or pick another --out")


def _template(cfg: MetaTrainConfig) -> tuple[TrainState, dict]:
    params = init_meta_params(jax.random.PRNGKey(0), cfg.lstm)
    return TrainState(params, meta_optimizer(cfg).init(params), jax.random.PRNGKey(0)), params


def save_snapshot(directory: str | os.PathLike, snap: Snapshot, cfg: MetaTrainConfig) -> Path:
    host = lambda tree: serialization.to_state_dict(jax.tree.map(np.asarray, tree))  # noqa: E731
    payload = serialization.msgpack_serialize({
        "config": json.dumps(cfg.to_dict()), "done": int(snap.done), "best_val": float(snap.best_val),
        "best_step": int(snap.best_step), "curve": {k: np.asarray(snap.curve[k]) for k in CURVE_KEYS},
        "state": host(snap.state), "best_params": host(snap.best_params),
    })
    blob = serialization.msgpack_serialize({"format": FORMAT, "version": VERSION,
                                            "sha256": hashlib.sha256(payload).hexdigest(), "payload": payload})
    return atomic_write(Path(directory) / STATE_FILE, blob)


def _check_leaves(template, tree, what: str) -> None:
    """Every array of ``tree`` has the template's shape, holds real numbers and is finite
    (in float32 for floats, the dtype training runs in): the checkpoint's rule for parameters."""
    t_leaves = jax.tree_util.tree_leaves_with_path(template)
    got = jax.tree.leaves(tree)
    if len(got) != len(t_leaves):
        raise ValueError(f"{what}: {len(got)} arrays, expected {len(t_leaves)}")
    for (kp, want), leaf in zip(t_leaves, got):
        name = f"{what}{jax.tree_util.keystr(kp)}"
        a = np.asarray(leaf) if isinstance(leaf, (np.ndarray, np.generic)) else None
        if a is None or a.dtype.kind not in "biuf" or a.dtype.kind != np.asarray(want).dtype.kind:
            raise ValueError(f"{name} is not an array of {np.asarray(want).dtype.name}")
        if a.shape != np.shape(want):
            raise ValueError(f"{name} has shape {a.shape}, expected {np.shape(want)}")
        if a.dtype.kind == "f":
            with np.errstate(over="ignore", invalid="ignore"):
                if not np.all(np.isfinite(a.astype(np.float32))):
                    raise ValueError(f"{name} has values that are not finite in float32")


def load_snapshot(directory: str | os.PathLike) -> tuple[MetaTrainConfig, Snapshot]:
    """Reads ``DIR/train_state.msgpack`` with a checkpoint's checks; ValueError saying what is wrong.

    The checksum, then the same schema as a checkpoint's (:mod:`checkpoint_schema`:
    the config field by field, the curves) and every array of the state and of the
    best parameters finite in float32, so a resumed run can never save a
    checkpoint that would not load.
    """
    file = Path(directory) / STATE_FILE
    if file.is_symlink() or (file.exists() and not file.is_file()):
        raise ValueError(f"{file} is not a regular file; a run's own files are never links: remove it")
    if not file.is_file():
        raise ValueError(f"nothing to resume in {directory}: no {STATE_FILE} (the run finished, "
                         "or never saved a chunk)")
    if file.stat().st_size > MAX_BYTES:
        raise ValueError(f"{file} is larger than any training state ({MAX_BYTES:,} bytes)")
    try:
        outer = serialization.msgpack_restore(file.read_bytes())
        ok = isinstance(outer, dict) and outer.get("format") == FORMAT and outer.get("version") == VERSION
        payload = outer.get("payload") if ok else None
        if not isinstance(payload, bytes) or hashlib.sha256(payload).hexdigest() != outer.get("sha256"):
            raise ValueError("checksum or format marker does not match")
        inner = serialization.msgpack_restore(payload)
        if not isinstance(inner, dict) or not isinstance(inner.get("config"), str):
            raise ValueError("payload is not a map with a config")
        cfg = check_config(json.loads(inner["config"]))
        template = _template(cfg)
        state = serialization.from_state_dict(template[0], inner["state"])
        best = serialization.from_state_dict(template[1], inner["best_params"])
        _check_leaves(template[0], state, "state")
        _check_leaves(template[1], best, "best_params")
        curve = check_curve(inner["curve"])
        if set(curve) != set(CURVE_KEYS):
            raise ValueError(f"curves {sorted(curve)}, expected {list(CURVE_KEYS)}")
        done, best_step, best_val = inner["done"], inner["best_step"], inner["best_val"]
        if not (isinstance(done, int) and 0 <= done <= cfg.meta_steps and len(curve["meta_loss"]) == done):
            raise ValueError(f"meta-steps done {done!r} do not match the run or its curve")
        if not (isinstance(best_step, int) and 0 <= best_step <= done) or not isinstance(best_val, float) \
                or math.isnan(best_val):
            raise ValueError("best step or best validation loss out of range")
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise ValueError(f"{file} cannot be resumed: {e}; start over with --force") from None
    except Exception as e:  # msgpack raises several types for cut-off data
        raise ValueError(f"{file} is truncated or damaged ({type(e).__name__}); start over with --force") \
            from None
    return cfg, Snapshot(done, state, best, best_val, best_step, curve)


def _summary(cfg: MetaTrainConfig, snap: Snapshot, extra: dict) -> dict:
    ml = snap.curve["meta_loss"]
    k = max(1, min(20, len(ml) // 5))
    mean = lambda a: float(np.nanmean(a)) if len(a) else None  # noqa: E731
    return dict(meta_steps_done=snap.done, meta_loss_first=mean(ml[:k]), meta_loss_last=mean(ml[-k:]),
                final_loss_last=mean(snap.curve["final_loss"][-k:]), best_step=snap.best_step,
                best_val_loss=snap.best_val,
                stopped=f"saved at {snap.done} of {cfg.meta_steps} meta-steps (continue with --resume)",
                **extra)


def run_with_checkpoints(cfg: MetaTrainConfig, out: str | os.PathLike, *, resume: bool = False,
                         force: bool = False, extra_summary: dict | None = None,
                         callback: Callable | None = None,
                         init_params=None) -> tuple[MetaTrainResult, dict, Path]:
    """Meta-trains into ``out`` under its lock, saving after every chunk.

    Args:
      cfg: the run's settings (ignored when ``resume``: the saved run's are used).
      out: the run's folder; it must not hold another run's checkpoint unless
        ``force`` (start over) or ``resume`` (continue it).
      init_params: meta-parameters to start from (fine-tuning, ``--init-from``);
        a resumed run starts from its own snapshot instead.
    Returns:
      (result, summary written with the final checkpoint, checkpoint file).
    """
    out = Path(out)
    extra = dict(extra_summary or {})
    with locked_dir(out):
        check_run_files(out)
        snap = None
        if resume:
            cfg, snap = load_snapshot(out)
        elif (out / FILENAME).exists() and not force:
            raise ValueError(f"{out} already holds a checkpoint; pass --force to replace it or --resume "
                             "to continue its run")
        elif (out / STATE_FILE).exists():
            (out / STATE_FILE).unlink()  # starting over: an old snapshot must not be resumed later

        def on_chunk(s: Snapshot) -> None:
            save_snapshot(out, s, cfg)
            save_checkpoint(out, s.best_params, cfg, s.curve, _summary(cfg, s, extra))

        result = metatrain(cfg, init_params=None if snap else init_params, callback=callback, resume=snap,
                           on_chunk=on_chunk)
        summary = dict(result.summary(), seconds=result.seconds, compile_seconds=result.compile_seconds,
                       seconds_per_meta_step=result.seconds_per_meta_step, **extra)
        path = save_checkpoint(out, result.params, cfg, result.curve, summary)
        (out / STATE_FILE).unlink(missing_ok=True)
    return result, summary, path
