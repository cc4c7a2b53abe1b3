"""Process set-up, called once by each entry point (``app.py``, the CLI, the tests).

Importing the engine changes nothing outside it; what a process needs beyond
that is switched on here, in one place: JAX's persistent compilation cache
(:mod:`~l2l_core.runtime.compile_cache`) and the Chromium that kaleido renders
PNGs with (:func:`l2l_core.io.export.ensure_browser`).
"""

from __future__ import annotations

import os

from l2l_core.io import export
from l2l_core.runtime import compile_cache


def setup_process(compile_cache_dir: str | os.PathLike | None = None) -> dict:
    """Idempotent; returns what was set up (``compile_cache``: the directory or None,
    ``browser``: the Chromium path for PNG export or None)."""
    return dict(compile_cache=compile_cache.enable(compile_cache_dir), browser=export.ensure_browser())
