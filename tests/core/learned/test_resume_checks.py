"""A resume snapshot passes a checkpoint's checks before it replaces anything, and a
checkpoint is replaced only by one that would load."""

from __future__ import annotations

import hashlib

import jax
import numpy as np
import pytest
from flax import serialization

from l2l_core.cli.commands import main
from l2l_core.learned.checkpoints import FILENAME, load_checkpoint, save_checkpoint
from l2l_core.learned.config import preset_config
from l2l_core.learned.resume import STATE_FILE, load_snapshot, run_with_checkpoints


class Stop(Exception):
    pass


def _interrupted_run(out):
    cfg = preset_config("tiny", meta_steps=4, chunk=2)

    def stop(p):
        if p.done == 4:
            raise Stop

    with pytest.raises(Stop):
        run_with_checkpoints(cfg, out, callback=stop)
    assert (out / STATE_FILE).exists() and (out / FILENAME).exists()
    return cfg


def _poison_snapshot(file, leaf_names=("state", "best_params")):
    """NaN in the state and the best parameters, the checksum recomputed (a bug or a bad disk)."""
    outer = serialization.msgpack_restore(file.read_bytes())
    inner = serialization.msgpack_restore(outer["payload"])
    for key in leaf_names:
        inner[key] = jax.tree.map(lambda a: np.full_like(a, np.nan) if np.asarray(a).dtype.kind == "f" else a,
                                  inner[key])
    payload = serialization.msgpack_serialize(inner)
    outer.update(payload=payload, sha256=hashlib.sha256(payload).hexdigest())
    file.write_bytes(serialization.msgpack_serialize(outer))


def test_a_non_finite_snapshot_is_refused_and_the_checkpoint_kept(tmp_path, capsys):
    _interrupted_run(tmp_path)
    _poison_snapshot(tmp_path / STATE_FILE)
    before = (tmp_path / FILENAME).read_bytes()
    with pytest.raises(ValueError, match="not finite"):
        load_snapshot(tmp_path)
    assert main(["metatrain", "--out", str(tmp_path), "--resume"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "not finite" in err and "--force" in err
    assert (tmp_path / FILENAME).read_bytes() == before
    load_checkpoint(tmp_path)


def test_only_the_best_parameters_poisoned_is_refused_too(tmp_path):
    _interrupted_run(tmp_path)
    _poison_snapshot(tmp_path / STATE_FILE, ("best_params",))
    with pytest.raises(ValueError, match="best_params"):
        load_snapshot(tmp_path)


def test_a_checkpoint_is_replaced_only_by_one_that_loads(tmp_path):
    cfg = preset_config("tiny")
    from l2l_core.learned.lstm import init_meta_params

    params = init_meta_params(jax.random.PRNGKey(0), cfg.lstm)
    save_checkpoint(tmp_path, params, cfg)
    before = (tmp_path / FILENAME).read_bytes()
    bad = jax.tree.map(lambda a: np.full_like(np.asarray(a), np.inf), params)
    with pytest.raises(ValueError, match="could not be loaded"):
        save_checkpoint(tmp_path, bad, cfg)
    assert (tmp_path / FILENAME).read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [FILENAME, "run.json"]


def test_a_snapshot_that_is_a_link_is_refused(tmp_path):
    _interrupted_run(tmp_path / "run")
    outside = tmp_path / "outside"
    (tmp_path / "run" / STATE_FILE).rename(outside)
    (tmp_path / "run" / STATE_FILE).symlink_to(outside)
    with pytest.raises(ValueError, match="never links"):
        load_snapshot(tmp_path / "run")
