"""Process set-up of the dashboard: done once per server, before any page runs.

``app.py`` calls :func:`start_server` first thing on every run; the first call
does the work and every concurrent call waits for it, so no page ever imports
a heavy module for the first time while another session does (concurrent
first imports of pandas/plotly from several script threads fail with
"partially initialized module"). Nothing here runs at import.

What it does, in order:

1. :func:`l2l_core.runtime.setup.setup_process`: JAX's persistent compilation cache
   (``.jax_cache/``, or ``L2L_JAX_CACHE``) and Chromium for PNG export.
2. Imports what every page needs: pandas, plotly, the engine's modules.
3. ``gc.freeze()``: the ~200k long-lived objects just loaded are left out of
   every later collection, so a collection walks only what sessions made.
   (Streamlit's own full collection after every script run is switched off in
   ``.streamlit/config.toml``, ``runner.postScriptGC = false``; Python's
   generational collector still frees cycles.) A 1 ms GIL switch interval.
4. In a background thread, through the job limit: computes the default
   landscape view and the tour's heavy steps (gradient descent and ES over the
   landscape, the learned optimizer against the tuned baselines) through the same
   shared, single-flight path the pages use, so the first visitors are served
   from it, or join it while it runs; then compiles the remaining grid kernels.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import threading
import time

_LOCK = threading.Lock()
_STATE: dict = {}
log = logging.getLogger("l2l.setup")

#: The landscape page's default view (ui/outer_panel.py URL_KEYS).
LANDSCAPE_DEFAULT = dict(window=(-3.0, 2.0, -3.0, 0.0), res=500, problem="log_sin", x0=-4.0, inner_steps=50,
                         summary="mean", methods=("grad", "es"), starts=((-2.0, -0.5), (0.0, -1.5)),
                         outer_steps=2000, options=dict(lr=0.01, std=0.1, pairs=1, truncation_length=10))


def start_server(warm: bool | None = None) -> threading.Thread | None:
    """Sets the process up once; returns the warm-up thread (None if off).

    Args:
      warm: compute the default views in the background; default: on unless
        ``L2L_WARMUP=0``.
    """
    with _LOCK:
        if "done" in _STATE:
            return _STATE.get("warm")
        from l2l_core.runtime.setup import setup_process

        setup_process()
        _log_to_stderr()
        _preload()
        gc.collect()
        gc.freeze()
        # The GIL goes to another thread every 1 ms instead of 5: with a dozen busy
        # script and chunk threads the event loop (health, websockets) waits less.
        # No Streamlit setting does this.
        sys.setswitchinterval(0.001)
        if warm is None:
            warm = os.environ.get("L2L_WARMUP", "1") != "0"
        if warm:
            _STATE["warm"] = threading.Thread(target=warm_up, name="l2l-warmup", daemon=True)
            _STATE["warm"].start()
        _STATE["done"] = True
        return _STATE.get("warm")


def _log_to_stderr() -> None:
    """The app's own messages ("warm-up done in 41.2 s") beside Streamlit's in the server's
    output; Python's default would drop everything below a warning."""
    app_log = logging.getLogger("l2l")
    if not app_log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        app_log.addHandler(handler)
        app_log.setLevel(logging.INFO)


def _preload() -> None:
    import pandas  # noqa: F401
    import plotly.express  # noqa: F401
    import plotly.graph_objects  # noqa: F401

    from l2l_core import landscape, outer, viz  # noqa: F401
    from l2l_core.learned import baselines, comparison, lstm, metatrain  # noqa: F401

    # plotly builds its validators lazily, on a figure's first use: do it here once.
    viz.landscape_outer_figure(__import__("numpy").ones((2, 2)), [0.0, 1.0], [0.0, 1.0])


def warm_up() -> None:
    """Compiles the kernels and computes the default views (errors are logged, never raised).

    Every step is a background job of the server's job limit: a visitor's job is
    always served first, waiting at most for the one step already running.
    """
    from l2l_core import landscape, outer
    from l2l_core.landscape import zoom
    from l2l_core.runtime import jobs
    from ui.shared import background_jobs, heavy, heavy_grid

    def slot():
        return jobs.default_limiter().slot(background=True)

    t0 = time.perf_counter()
    try:
        with background_jobs():
            # The default views first (their kernels compile on the way), the other kernels last.
            d = LANDSCAPE_DEFAULT
            zoom.zoom_grid(d["window"], d["res"], grid_fn=heavy_grid, problem=d["problem"], x0=d["x0"],
                           inner_steps=d["inner_steps"], summary=d["summary"])
            _warm_fractal(preview=True)
            for method in d["methods"]:  # as pages/landscape.py's outer_batch asks for them
                takes = outer.METHODS[method].defaults
                opts = {k: v for k, v in sorted(d["options"].items()) if k in takes}
                heavy(outer.run_outer_batch, method, d["starts"], d["outer_steps"], seeds=(0,) * len(d["starts"]),
                      problem=d["problem"], x0=d["x0"], inner_steps=d["inner_steps"], summary=d["summary"], **opts)
            log.info("warm-up: default views ready after %.1f s", time.perf_counter() - t0)
            _warm_tour_landscape_steps()
            _warm_tour_learned_steps()
            _warm_fractal(preview=False)
            landscape.warmup(slot=slot)
            if os.environ.get("L2L_WARMUP_GENERAL", "1") != "0":
                landscape.warmup_general(slot=slot)  # every task and optimizer's first pick, last
        log.info("warm-up done in %.1f s", time.perf_counter() - t0)
    except Exception:  # a warm-up failure must not take the server down
        log.exception("warm-up failed")


def _warm_fractal(preview: bool) -> None:
    """The trainability page's default view (its preview, or its full image) into its cache;
    the preview compiles the page's kernel on the way."""
    from ui.fractal_compute import warm_default_view

    warm_default_view(preview)


def _warm_tour_landscape_steps() -> None:
    """The tour's landscape steps at their defaults: the landscape page's own grid and outer
    runs, into the caches both the steps and the page read."""
    from ui import tour_steps as ts

    for query in ts.default_landscape_queries():
        ts.landscape_grid(query)
        if query["methods"]:
            ts.landscape_runs(query)


def _warm_tour_learned_steps() -> None:
    """The tour's "Learning an optimizer" and "Does it beat Adam?" at their default
    settings (the slowest first visits: an LSTM run and four tuned baselines), into
    the same caches the steps read."""
    from ui import tour_compute as tc
    from ui.tour_steps import STEP_REGISTRY

    ckpt, _ = tc.shipped_checkpoint()
    if ckpt is None:
        return
    defaults = {k: p.default for step in STEP_REGISTRY for k, p in step.params.items()}
    key = tc.checkpoint_key(ckpt)
    tc.lstm_before_after(int(defaults["t_learn_seed"]), 32, key)
    tc.adam_race(int(defaults["t_adam_seed"]))
