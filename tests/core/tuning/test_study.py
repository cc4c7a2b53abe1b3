"""A study Optuna writes to SQLite, read back read-only; bad, foreign and truncated files refused."""

from __future__ import annotations

import hashlib
import sqlite3

import numpy as np
import optuna
import pytest

from l2l_core.inner.optimizers import get_optimizer
from l2l_core.tuning import study as st


def _write_study(path, n=12, name="mine"):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    s = optuna.create_study(storage=f"sqlite:///{path}", study_name=name, sampler=optuna.samplers.RandomSampler(0))

    def objective(trial):
        lr = trial.suggest_float("lr", 1e-3, 1.0, log=True)
        m = trial.suggest_float("momentum", 0.0, 0.99)
        if lr > 0.5:
            raise optuna.TrialPruned()
        return (np.log10(lr) + 1) ** 2 + m

    s.optimize(objective, n_trials=n)
    return s


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "study.db"
    s = _write_study(path)
    return path, s


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_read_back_what_optuna_wrote(db):
    path, s = db
    before = _digest(path)
    t = st.read_study(path, "lr", "momentum")
    assert _digest(path) == before  # nothing written
    assert sorted(p.name for p in path.parent.iterdir()) == ["study.db"]  # no journal, no -wal, no -shm
    assert t.study_name == "mine" and t.direction == "MINIMIZE"
    trials = sorted(s.trials, key=lambda tr: tr.number)
    np.testing.assert_array_equal(t.number, [tr.number for tr in trials])
    np.testing.assert_allclose(t.x, [tr.params["lr"] for tr in trials])
    np.testing.assert_allclose(t.y, [tr.params["momentum"] for tr in trials])
    expect = [tr.value if tr.state == optuna.trial.TrialState.COMPLETE else np.nan for tr in trials]
    np.testing.assert_allclose(t.value, expect)
    assert t.state == tuple(tr.state.name for tr in trials)
    assert t.x_distribution == dict(low=1e-3, high=1.0, log=True)
    assert t.y_distribution == dict(low=0.0, high=0.99, log=False)
    x = st.to_display(t.x, get_optimizer("sgd").axes["lr"])
    np.testing.assert_allclose(x, np.log10(t.x))
    assert st.list_studies(path) == [dict(name="mine", trials=12, directions=1)]


def test_several_studies_need_a_name(db):
    path, _ = db
    _write_study(path, n=3, name="other")
    with pytest.raises(ValueError, match="holds 2 studies"):
        st.read_study(path, "lr", "momentum")
    assert st.read_study(path, "lr", "momentum", study_name="other").number.size == 3
    with pytest.raises(ValueError, match="no study named"):
        st.read_study(path, "lr", "momentum", study_name="nope")


def test_missing_or_categorical_parameter(db, tmp_path):
    path, _ = db
    with pytest.raises(ValueError, match="no trial with both"):
        st.read_study(path, "lr", "b1")
    cat = tmp_path / "cat.db"
    s = optuna.create_study(storage=f"sqlite:///{cat}", study_name="c")
    s.optimize(lambda t: t.suggest_float("lr", 0.1, 1) + len(t.suggest_categorical("act", ["a", "bb"])), n_trials=2)
    with pytest.raises(ValueError, match="CategoricalDistribution"):
        st.read_study(cat, "lr", "act")


def test_not_sqlite(tmp_path):
    p = tmp_path / "x.db"
    p.write_bytes(b"\x80\x04\x95" + b"pickle-looking bytes" * 20)
    with pytest.raises(ValueError, match="not an SQLite database"):
        st.read_study(p, "lr", "momentum")
    p.write_bytes(b"")
    with pytest.raises(ValueError, match="not an SQLite database"):
        st.read_study(p, "lr", "momentum")


def test_foreign_sqlite_database(tmp_path):
    p = tmp_path / "foreign.db"
    con = sqlite3.connect(p)
    con.execute("CREATE TABLE trials (a INTEGER)")
    con.commit()
    con.close()
    with pytest.raises(ValueError, match="not an Optuna study"):
        st.read_study(p, "lr", "momentum")


def test_truncated_file(db, tmp_path):
    path, _ = db
    data = path.read_bytes()
    cut = tmp_path / "cut.db"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated"):
        st.read_study(cut, "lr", "momentum")
    odd = tmp_path / "odd.db"
    odd.write_bytes(data[:-100])
    with pytest.raises(ValueError, match="truncated"):
        st.read_study(odd, "lr", "momentum")


def test_damaged_pages(db, tmp_path):
    path, _ = db
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    for k in range(page, len(data), 7):  # scribble over every page but the header's
        data[k] = 0xA5
    bad = tmp_path / "bad.db"
    bad.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="study file"):
        st.read_study(bad, "lr", "momentum")


def test_size_cap(tmp_path, monkeypatch):
    p = tmp_path / "big.db"
    _write_study(p, n=2)
    monkeypatch.setattr(st, "MAX_BYTES", 1024)
    with pytest.raises(ValueError, match="over the cap"):
        st.read_study(p, "lr", "momentum")


def test_trial_cap(db, monkeypatch):
    path, _ = db
    monkeypatch.setattr(st, "MAX_TRIALS", 5)
    with pytest.raises(ValueError, match="12 trials, over the cap"):
        st.read_study(path, "lr", "momentum")


def test_audit_study_in_sqlite_read_back(tmp_path):
    from l2l_core.tuning import audit as au

    path = tmp_path / "audit.db"
    r = au.audit("log_sin", "sgd", "lr", "momentum", trials=6, sampler="tpe", res=4, inner_steps=5,
                 storage=f"sqlite:///{path}", study_name="audit")
    t = st.read_study(path, "log10 lr", "log10(1 - momentum)")
    np.testing.assert_allclose(t.x, r["trial_x"])
    np.testing.assert_allclose(t.y, r["trial_y"])
    np.testing.assert_allclose(t.value, r["told"])
