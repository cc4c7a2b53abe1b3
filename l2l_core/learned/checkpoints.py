"""Learned-optimizer checkpoints: one msgpack file, written atomically, read with checks.

Layout of ``DIR/checkpoint.msgpack`` (flax.serialization msgpack; never pickle):

    {"format": "l2l-lstm-optimizer", "version": 1, "sha256": hex, "payload": bytes}

where ``payload`` is itself msgpack of ``{"config": json, "summary": json,
"curve": {name: array}, "params": flax state dict}`` and ``sha256`` is its
digest, so a truncated or altered file is always detected. ``DIR/run.json``
is a human-readable copy of the config and summary (informational only).

Saving writes a temporary file in the same directory, fsyncs it and renames
it over the old one: a process killed mid-save leaves either the old
checkpoint or the new one, never half of one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import jax
import numpy as np
from flax import serialization

from l2l_core.io.files import atomic_write
from l2l_core.learned.checkpoint_schema import check_payload
from l2l_core.learned.config import MetaTrainConfig
from l2l_core.tasks.families import DEFAULT_CHECKPOINT

FORMAT = "l2l-lstm-optimizer"
VERSION = 1
FILENAME = "checkpoint.msgpack"
MAX_BYTES = 16 * 2**20


@dataclasses.dataclass
class Checkpoint:
    params: Any
    config: MetaTrainConfig
    curve: dict
    summary: dict
    path: Path


def checkpoint_file(path: str | os.PathLike) -> Path:
    """A checkpoint directory (or the file itself) -> the file."""
    path = Path(path)
    return path / FILENAME if path.is_dir() or path.suffix != ".msgpack" else path


def save_checkpoint(directory: str | os.PathLike, params: Any, config: MetaTrainConfig,
                    curve: dict | None = None, summary: dict | None = None) -> Path:
    """Saves ``params`` with ``config``, ``curve`` and ``summary`` atomically; returns the file.

    The payload is checked by the loader's own rules first (:func:`check_payload`):
    parameters that are not finite, say, raise ValueError and the old file stays.
    """
    config.validate()
    summary = dict(summary or {})
    curve = {k: np.asarray(v) for k, v in (curve or {}).items()}
    payload = serialization.msgpack_serialize({
        "config": json.dumps(config.to_dict()),
        "summary": json.dumps(summary),
        "curve": curve,
        "params": serialization.to_state_dict(jax.tree.map(np.asarray, params)),
    })
    try:  # a checkpoint is replaced only by one that would load
        check_payload(serialization.msgpack_restore(payload))
    except ValueError as e:
        raise ValueError(f"not saving a checkpoint to {directory} that could not be loaded ({e}); "
                         "the previous one is kept") from None
    blob = serialization.msgpack_serialize({
        "format": FORMAT, "version": VERSION,
        "sha256": hashlib.sha256(payload).hexdigest(), "payload": payload,
    })
    directory = Path(directory)
    path = directory / FILENAME
    atomic_write(path, blob)
    readable = dict(format=FORMAT, version=VERSION, config=config.to_dict(), summary=summary)
    atomic_write(directory / "run.json", (json.dumps(readable, indent=2) + "\n").encode())
    return path


def load_checkpoint(path: str | os.PathLike = DEFAULT_CHECKPOINT) -> Checkpoint:
    """Loads and checks a checkpoint; raises ValueError saying what is wrong."""
    file = checkpoint_file(path)
    if file.exists() and not file.is_file():
        raise ValueError(f"{file} is not a regular file, so not a checkpoint")
    if not file.is_file():
        raise ValueError(f"no checkpoint at {file}")
    size = file.stat().st_size
    if size > MAX_BYTES:
        raise ValueError(f"{file} is {size:,} bytes, larger than any learned-optimizer checkpoint")
    data = file.read_bytes()
    try:
        outer = serialization.msgpack_restore(data)
    except Exception as e:  # msgpack raises several types for cut-off or foreign data
        raise ValueError(f"{file} is truncated or not a checkpoint (cannot decode: {type(e).__name__})") from None
    if not isinstance(outer, dict) or outer.get("format") != FORMAT:
        raise ValueError(f"{file} is not a learned-optimizer checkpoint (format marker missing)")
    if outer.get("version") != VERSION:
        raise ValueError(f"{file} has checkpoint version {outer.get('version')!r}; this code reads {VERSION}")
    payload = outer.get("payload")
    if not isinstance(payload, bytes) or hashlib.sha256(payload).hexdigest() != outer.get("sha256"):
        raise ValueError(f"{file} is corrupt: its checksum does not match its contents")
    try:
        inner = serialization.msgpack_restore(payload)
        config, summary, curve, params = check_payload(inner)
    except ValueError as e:
        raise ValueError(f"{file} has bad contents: {e}") from None
    except Exception as e:  # msgpack raises several types for a damaged payload
        raise ValueError(f"{file} has an unreadable payload ({type(e).__name__})") from None
    return Checkpoint(params, config, curve, summary, file.parent)
