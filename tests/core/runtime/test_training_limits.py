"""Meta-training shares the server's one job limit, stops when its page is gone,
and its runs are private to the session that started them until shared."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from l2l_core.learned.config import preset_config
from l2l_core.learned.training_job import TrainingJob
from l2l_core.runtime import jobs

PAGE = str(Path(__file__).resolve().parents[3] / "pages" / "learned_optimizer.py")


def test_training_chunks_wait_for_the_shared_job_limit(tmp_path):
    lim = jobs.JobLimiter(1, queue_timeout=0.5, poll=0.01)
    with lim.slot():  # someone's grid holds the only slot
        job = TrainingJob(preset_config("tiny"), tmp_path / "run", limiter=lim).start()
        deadline = time.monotonic() + 120
        while "waiting" not in job.snapshot()[1] and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # past the queue timeout: a training keeps waiting, it does not fail
        state, message, progress, _ = job.snapshot()
        assert state == "running" and progress is None
        assert "waiting for a free slot: 1 job ahead" in message
    assert job.join(300)
    assert job.snapshot()[0] == "done"
    assert lim.completed >= 1 + 3 and lim.peak_running == 1  # the grid, then every chunk in a slot


def test_a_training_whose_page_is_gone_stops_and_keeps_its_best(tmp_path):
    cfg = preset_config("tiny", meta_steps=100_000, chunk=2)
    job = TrainingJob(cfg, tmp_path / "run", idle_timeout=0.5).start()
    assert job.join(300)
    state, message, progress, summary = job.snapshot()
    assert state == "stopped" and "page was closed" in message
    assert summary["meta_steps_done"] < 100_000


def _session(tmp_path, monkeypatch) -> AppTest:
    monkeypatch.setenv("L2L_RUNS_DIR", str(tmp_path))
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.run()
    return at


@pytest.mark.slow
def test_runs_are_private_to_their_session_until_shared(tmp_path, monkeypatch):
    alice = _session(tmp_path, monkeypatch)
    alice.number_input(key="lo_steps_short").set_value(2)
    alice.number_input(key="lo_batch").set_value(4)
    alice.button(key="lo_start").click().run()
    job = alice.session_state["lo_job"]
    assert job.join(300), job.snapshot()[:2]
    alice.run()
    name = job.out_dir.name
    assert name in alice.selectbox(key="lo_run").options
    bob = _session(tmp_path, monkeypatch)
    assert name not in bob.selectbox(key="lo_run").options
    alice.selectbox(key="lo_run").set_value(name).run()
    alice.button(key="lo_share").click().run()
    assert not alice.exception, alice.exception
    bob.run()
    assert name in bob.selectbox(key="lo_run").options


def test_private_runs_stay_bounded_on_disk(tmp_path):
    import os

    from l2l_core.learned.training_job import prune_private

    root = tmp_path / "private"
    now = 1_000_000.0
    for session, ages in (("fresh", [50, 40, 30, 20, 10]), ("gone", [9 * 86400, 8 * 86400])):
        for i, age in enumerate(ages):
            run = root / session / f"run{i}"
            run.mkdir(parents=True)
            (run / "checkpoint.msgpack").write_bytes(b"x")
            os.utime(run, (now - age, now - age))
        os.utime(root / session, (now - min(ages), now - min(ages)))
    removed = prune_private(root, keep=3, max_age_s=7 * 86400, now=now)
    assert removed == 3  # the two oldest runs of "fresh", and the idle session "gone" whole
    assert sorted(d.name for d in (root / "fresh").iterdir()) == ["run2", "run3", "run4"]
    assert not (root / "gone").exists()
    assert prune_private(root, keep=3, max_age_s=7 * 86400, now=now) == 0
    assert prune_private(tmp_path / "nothing", keep=3, max_age_s=1.0) == 0


def test_run_discovery_lists_the_session_then_the_shared_runs(tmp_path):
    """The learned page's list: shipped first, the session's own runs, then shared ones, newest first."""
    import os

    from l2l_core.learned.checkpoints import checkpoint_file
    from l2l_core.learned.training_job import list_runs, runs_in

    def run(folder, name, t):
        d = tmp_path / folder / name
        d.mkdir(parents=True)
        checkpoint_file(d).write_bytes(b"x")
        os.utime(checkpoint_file(d), (t, t))
        return d

    old, new, mine = run("shared", "old", 100), run("shared", "new", 200), run("shared/private/me", "mine", 50)
    run("shared", "private_sibling_without_checkpoint", 10).joinpath(checkpoint_file(old).name).unlink()
    assert runs_in(tmp_path / "shared") == [new, old]
    assert runs_in(tmp_path / "nowhere") == []
    runs = list_runs(tmp_path / "shipped", mine.parent, tmp_path / "shared", "default")
    assert list(runs) == ["default", "mine", "new", "old"]
