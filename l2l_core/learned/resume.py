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
from l2l_core.learned.checkpoints import FILENAME, save_checkpoint
from l2l_core.learned.lstm import init_meta_params
from l2l_core.learned.metatrain import (
    MetaTrainConfig,
    MetaTrainResult,
    Snapshot,
    TrainState,
    _meta_optimizer,
    metatrain,
)

STATE_FILE = "train_state.msgpack"
FORMAT = "l2l-metatrain-state"
VERSION = 1
CURVE_KEYS = ("meta_loss", "final_loss", "val_steps", "val_loss")


def _template(cfg: MetaTrainConfig) -> tuple[TrainState, dict]:
    params = init_meta_params(jax.random.PRNGKey(0), cfg.lstm)
    return TrainState(params, _meta_optimizer(cfg).init(params), jax.random.PRNGKey(0)), params


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


def load_snapshot(directory: str | os.PathLike) -> tuple[MetaTrainConfig, Snapshot]:
    """Reads ``DIR/train_state.msgpack``; ValueError saying what is wrong."""
    file = Path(directory) / STATE_FILE
    if not file.is_file():
        raise ValueError(f"nothing to resume in {directory}: no {STATE_FILE} (the run finished, "
                         "or never saved a chunk)")
    try:
        outer = serialization.msgpack_restore(file.read_bytes())
        ok = isinstance(outer, dict) and outer.get("format") == FORMAT and outer.get("version") == VERSION
        payload = outer.get("payload") if ok else None
        if not isinstance(payload, bytes) or hashlib.sha256(payload).hexdigest() != outer.get("sha256"):
            raise ValueError("checksum or format marker does not match")
        inner = serialization.msgpack_restore(payload)
        cfg = MetaTrainConfig.from_dict(json.loads(inner["config"])).validate()
        template = _template(cfg)
        state = serialization.from_state_dict(template[0], inner["state"])
        best = serialization.from_state_dict(template[1], inner["best_params"])
        for want, got in zip(jax.tree.leaves(template), jax.tree.leaves((state, best)), strict=True):
            if np.shape(got) != np.shape(want):
                raise ValueError(f"an array has shape {np.shape(got)}, expected {np.shape(want)}")
        curve = {k: np.asarray(inner["curve"][k]) for k in CURVE_KEYS}
        done, best_step, best_val = inner["done"], inner["best_step"], float(inner["best_val"])
        if not (isinstance(done, int) and 0 <= done <= cfg.meta_steps and len(curve["meta_loss"]) == done):
            raise ValueError(f"meta-steps done {done!r} do not match the run or its curve")
        if not (isinstance(best_step, int) and 0 <= best_step <= done) or math.isnan(best_val):
            raise ValueError("best step or best validation loss out of range")
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise ValueError(f"{file} cannot be resumed: {e}") from None
    except Exception as e:  # msgpack raises several types for cut-off data
        raise ValueError(f"{file} is truncated or damaged ({type(e).__name__})") from None
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
