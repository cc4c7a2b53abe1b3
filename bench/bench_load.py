"""Load test: N browser sessions render the landscape at once while a
meta-training runs; the server stays healthy and its memory bounded.

    .venv/bin/python bench/bench_load.py --sessions 8 --res 500 --json
    .venv/bin/python bench/bench_load.py --class --json     # 30 students, one link, fresh server

Starts its own ``streamlit run app.py`` (job limit from L2L_MAX_JOBS, default
one per two cores) and one headless Chromium (Debian's) with N pages. Each
session opens the landscape page with its own x0 (so no session is served
from another's cache) while ``python -m l2l_core metatrain`` trains in a
separate process. After one warm-up session (imports and compiles; skip it
with --cold) and throughout the run, ``/_stcore/health`` is probed every 0.2 s and
the server's resident memory is sampled. Prints one JSON object: sessions
finished, their times, worst health latency, peak server RSS, the training
run's result. Exit code 0 only if every session drew its heatmap without an
exception, training finished, and every health probe answered within 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, SCRIPT_DONE_JS, streamlit_server  # noqa: E402


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its children, MiB (0 if gone)."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


class Monitor(threading.Thread):
    """Probes /_stcore/health and samples memory until stopped."""

    def __init__(self, url: str, pids: dict[str, int], period: float = 0.2):
        super().__init__(daemon=True)
        self.url, self.pids, self.period = url, pids, period
        self.latencies: list[float] = []
        self.failures = 0
        self.peak_mb = {name: 0.0 for name in pids}
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            t0 = time.perf_counter()
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=5) as r:
                    ok = r.status == 200
            except OSError:
                ok = False
            dt = time.perf_counter() - t0
            if ok:
                self.latencies.append(dt)
            else:
                self.failures += 1
            for name, pid in self.pids.items():
                if pid:
                    self.peak_mb[name] = max(self.peak_mb[name], rss_mb(pid))
            self._halt.wait(self.period)

    def stop(self):
        self._halt.set()
        self.join(10)


def render_sessions(browser, url: str, sessions: int, res: int, timeout_s: float = 300) -> list[dict]:
    """Opens ``sessions`` pages at once; waits until each has drawn its heatmap."""
    contexts, pages, started = [], [], []
    for _ in range(sessions):
        ctx = browser.new_context(viewport={"width": 1200, "height": 900})
        pg = ctx.new_page()
        pg.set_default_timeout(timeout_s * 1000)
        contexts.append(ctx)
        pages.append(pg)
    for i, pg in enumerate(pages):
        # Its own x0 per session: a cache miss each, so every session computes.
        pg.goto(f"{url}/landscape?res={res}&x0={-4.0 + 0.001 * (i + 1):.3f}&methods=",
                 wait_until="commit")
        started.append(time.perf_counter())
    results = []
    for i, pg in enumerate(pages):
        out = dict(session=i, ok=False)
        try:
            pg.wait_for_selector(".js-plotly-plot .heatmaplayer, .js-plotly-plot .hm",
                                 state="attached", timeout=timeout_s * 1000)
            pg.wait_for_function(SCRIPT_DONE_JS, timeout=timeout_s * 1000)
            out["seconds"] = round(time.perf_counter() - started[i], 2)
            out["exceptions"] = pg.locator('[data-testid="stException"]').count()
            out["errors"] = [t[:200] for t in pg.locator('[data-testid="stAlertContentError"]').all_inner_texts()]
            out["ok"] = out["exceptions"] == 0 and not out["errors"]
        except Exception as e:  # report, do not stop the others
            out["failure"] = f"{type(e).__name__}: {str(e)[:200]}"
        results.append(out)
    for ctx in contexts:
        ctx.close()
    return results


async def _ws_session(url: str, query: str, timeout_s: float) -> dict:
    """One real websocket session, speaking the browser's protocol: ask for the
    landscape page, read every message until the script run has finished."""
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    out = dict(title=None, charts=0, exceptions=0, errors=[], chart_s=None)
    t0 = time.perf_counter()
    uri = url.replace("http://", "ws://") + "/_stcore/stream"
    async with websockets.connect(uri, subprotocols=["streamlit"], max_size=None,
                                  origin=url) as ws:
        hello = BackMsg()
        hello.rerun_script.query_string = query
        hello.rerun_script.page_name = "landscape"
        await ws.send(hello.SerializeToString())
        async with asyncio.timeout(timeout_s):
            while True:
                msg = ForwardMsg()
                msg.ParseFromString(await ws.recv())
                kind = msg.WhichOneof("type")
                if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                    element = msg.delta.new_element
                    which = element.WhichOneof("type")
                    out["charts"] += which == "plotly_chart"
                    if which == "plotly_chart" and out["chart_s"] is None:
                        out["chart_s"] = round(time.perf_counter() - t0, 2)
                    # the page's title (the sidebar's own headings may come first)
                    if which == "heading" and (out["title"] is None or not str(out["title"]).startswith("Meta-loss")):
                        out["title"] = element.heading.body
                    out["exceptions"] += which == "exception"
                    if which == "alert" and element.alert.format == element.alert.ERROR:
                        out["errors"].append(element.alert.body[:200])
                elif kind == "script_finished" and msg.script_finished != msg.FINISHED_EARLY_FOR_RERUN:
                    return out


def render_sessions_ws(url: str, sessions: int, res: int, rounds: int = 1, timeout_s: float = 300) -> list[dict]:
    """``sessions`` websocket sessions at once, each opening the landscape ``rounds``
    times in a row with its own x0 every time (a cache miss each)."""

    async def one(i: int) -> dict:
        t0 = time.perf_counter()
        out = dict(session=i, ok=False, rounds=0)
        try:
            for r in range(rounds):
                x0 = -4.0 + 0.001 * (1 + i + sessions * r)
                got = await _ws_session(url, f"res={res}&x0={x0:.3f}&methods=", timeout_s)
                ok = (str(got["title"]).startswith("Meta-loss landscape") and got["charts"] > 0
                      and not got["exceptions"] and not got["errors"])
                if not ok:
                    out.update(got)
                    break
                out["rounds"] += 1
            out["seconds"] = round(time.perf_counter() - t0, 2)
            out["ok"] = out["rounds"] == rounds
        except Exception as e:  # report, do not stop the others
            out["failure"] = f"{type(e).__name__}: {str(e)[:200]}"
        return out

    async def all_sessions():
        return await asyncio.gather(*(one(i) for i in range(sessions)))

    return asyncio.run(all_sessions())


def start_training(out_dir: str, meta_steps: int, batch: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "l2l_core", "metatrain", "--preset", "short", "--meta-steps", str(meta_steps),
           "--batch", str(batch), "--out", out_dir, "--json"]
    return subprocess.Popen(cmd, cwd=ROOT, env=dict(os.environ, JAX_PLATFORMS="cpu"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def warm_up(render, url: str, res: int) -> float:
    """One session first, so the server has imported JAX and compiled the grid kernel
    (a cold process spends seconds in imports that hold the GIL)."""
    t0 = time.perf_counter()
    render(url, 1, res)
    return round(time.perf_counter() - t0, 2)


def run_load(render, url: str, *, sessions: int, res: int, server_pid: int | None = None,
             meta_steps: int = 60, batch: int = 128, warm: bool = True) -> dict:
    """``render(url, sessions, res)`` opens the sessions: real websocket sessions
    (:func:`render_sessions_ws`) or browser pages (:func:`render_sessions`)."""
    warm_s = warm_up(render, url, res) if warm else None
    with tempfile.TemporaryDirectory() as tmp:
        train = start_training(tmp, meta_steps, batch)
        mon = Monitor(url, {"server": server_pid or 0, "training": train.pid})
        mon.start()
        t0 = time.perf_counter()
        try:
            results = render(url, sessions, res)
            render_s = time.perf_counter() - t0
            try:
                out, err = train.communicate(timeout=600)
            except subprocess.TimeoutExpired:
                train.kill()
                out, err = train.communicate()
        finally:
            mon.stop()
            if train.poll() is None:
                train.kill()
    try:
        training = json.loads(out.strip().splitlines()[-1])
        training = {k: training.get(k) for k in ("seconds", "seconds_per_meta_step", "meta_steps", "best_val")}
    except (ValueError, IndexError):
        training = {"failure": (err or "")[-500:]}
    lat = sorted(mon.latencies)
    return dict(
        warm_up_seconds=warm_s,
        sessions=sessions,
        resolution=res,
        cells_per_session=res * res,
        finished=sum(r["ok"] for r in results),
        session_seconds=[r.get("seconds") for r in results],
        failures=[r for r in results if not r["ok"]],
        all_sessions_seconds=round(render_s, 2),
        training_returncode=train.returncode,
        training=training,
        health_probes=len(lat) + mon.failures,
        health_failures=mon.failures,
        health_max_s=round(lat[-1], 4) if lat else None,
        health_p50_s=round(lat[len(lat) // 2], 4) if lat else None,
        peak_rss_mb={k: round(v, 1) for k, v in mon.peak_mb.items() if v},
        max_jobs=os.environ.get("L2L_MAX_JOBS", "default (cores // 2)"),
    )


def run_class(url: str, *, sessions: int = 30, spread_s: float = 5.0, server_pid: int | None = None,
              meta_steps: int = 150, batch: int = 128, timeout_s: float = 300) -> dict:
    """The class scenario: on a fresh server, ``sessions`` students open the shared
    landscape link (the default view) within ``spread_s`` seconds of each other while
    a meta-training runs; each one's time from its request to its first chart."""
    import statistics

    async def one(i: int) -> dict:
        await asyncio.sleep(spread_s * i / max(1, sessions - 1))
        try:
            got = await _ws_session(url, "", timeout_s)
            return dict(got, ok=bool(got["chart_s"]) and not got["exceptions"])
        except Exception as e:
            return dict(ok=False, exceptions=0, chart_s=None, failure=f"{type(e).__name__}: {str(e)[:200]}")

    async def all_sessions():
        return await asyncio.gather(*(one(i) for i in range(sessions)))

    with tempfile.TemporaryDirectory() as tmp:
        train = start_training(tmp, meta_steps, batch)
        mon = Monitor(url, {"server": server_pid or 0, "training": train.pid})
        mon.start()
        try:
            results = asyncio.run(all_sessions())
        finally:
            mon.stop()
            train.kill()
            train.communicate()
    times = sorted(r["chart_s"] for r in results if r["chart_s"])
    lat = sorted(mon.latencies)
    pct = (lambda q: times[min(len(times) - 1, int(q * len(times)))]) if times else (lambda q: None)
    return dict(
        scenario="class", sessions=sessions, spread_s=spread_s, finished=sum(r["ok"] for r in results),
        time_to_chart_median_s=statistics.median(times) if times else None, time_to_chart_p95_s=pct(0.95),
        time_to_chart_worst_s=times[-1] if times else None, exceptions=sum(r.get("exceptions", 0) for r in results),
        failures=[r for r in results if not r["ok"]][:5], health_probes=len(lat) + mon.failures,
        health_failures=mon.failures, health_max_s=round(lat[-1], 4) if lat else None,
        health_p50_s=round(lat[len(lat) // 2], 4) if lat else None,
        peak_rss_mb={k: round(v, 1) for k, v in mon.peak_mb.items() if v},
        max_jobs=os.environ.get("L2L_MAX_JOBS", "default (cores // 2)"))


def passed(report: dict) -> bool:
    if report.get("scenario") == "class":
        return (report["finished"] == report["sessions"] and report["exceptions"] == 0
                and report["health_failures"] == 0 and (report["health_max_s"] or 9) < 1.0
                and (report["time_to_chart_p95_s"] or 99) < 10.0)
    return (report["finished"] == report["sessions"] and report["training_returncode"] == 0
            and report["health_failures"] == 0 and (report["health_max_s"] or 9) < 1.0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=8)
    ap.add_argument("--res", type=int, default=500, help="landscape resolution per session")
    ap.add_argument("--meta-steps", type=int, default=60, help="meta-steps of the concurrent training run")
    ap.add_argument("--cold", action="store_true", help="measure from a cold server (no warm-up session)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--rounds", type=int, default=5,
                    help="landscapes each websocket session opens in a row (each a new x0)")
    ap.add_argument("--browser", action="store_true",
                    help="open the sessions as headless Chromium pages on this machine instead of "
                         "websocket sessions (their renderers then share the server's cores)")
    ap.add_argument("--class", dest="class_", action="store_true",
                    help="the class scenario: a fresh server, --sessions (30) open the default landscape "
                         "within --spread seconds while a meta-training runs; time to each one's chart")
    ap.add_argument("--spread", type=float, default=5.0, help="seconds over which the class arrives")
    args = ap.parse_args(argv)
    if args.class_:
        log = tempfile.NamedTemporaryFile("w", suffix=".log", delete=False)
        with streamlit_server(log.name) as (url, server):
            report = run_class(url, sessions=args.sessions if args.sessions != 8 else 30, spread_s=args.spread,
                               server_pid=server.pid, meta_steps=max(args.meta_steps, 150))
        report["server_log"] = log.name
        report["passed"] = passed(report)
        print(json.dumps(report) if args.json else json.dumps(report, indent=2))
        return 0 if report["passed"] else 1

    log = tempfile.NamedTemporaryFile("w", suffix=".log", delete=False)
    opts = dict(sessions=args.sessions, res=args.res, meta_steps=args.meta_steps, warm=not args.cold)
    with streamlit_server(log.name) as (url, server):
        if not args.browser:
            report = run_load(lambda u, n, r: render_sessions_ws(u, n, r, rounds=args.rounds), url,
                              server_pid=server.pid, **opts)
            report["rounds_per_session"] = args.rounds
        else:
            from playwright.sync_api import sync_playwright

            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                try:
                    report = run_load(lambda u, n, r: render_sessions(browser, u, n, r), url,
                                      server_pid=server.pid, **opts)
                finally:
                    browser.close()
    report["transport"] = "browser" if args.browser else "websocket"
    report["server_log"] = log.name
    report["passed"] = passed(report)
    print(json.dumps(report) if args.json else json.dumps(report, indent=2))
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
