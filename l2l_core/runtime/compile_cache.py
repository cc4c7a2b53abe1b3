"""JAX's persistent compilation cache in the project's git-ignored ``.jax_cache/``.

A new process (a server start, a CLI call, a test run) then loads the engine's
compiled kernels from disk instead of compiling them again: the 2000 x 2000
landscape's first call drops from a few seconds to about the warm time.

Set ``L2L_JAX_CACHE=0`` to turn it off, or ``L2L_JAX_CACHE=/some/dir`` to move
it. A cache directory the caller configured already is left alone.
"""

from __future__ import annotations

import os
from pathlib import Path

import jax

DEFAULT_DIR = Path(__file__).resolve().parents[2] / ".jax_cache"
#: Compiles faster than this are not worth a disk entry.
MIN_COMPILE_SECONDS = 0.1

_enabled_dir: str | None = None


def enable(path: str | os.PathLike | None = None) -> str | None:
    """Turns the persistent cache on (idempotent); returns its directory or None."""
    global _enabled_dir
    if _enabled_dir is not None:
        return _enabled_dir
    setting = os.environ.get("L2L_JAX_CACHE", "")
    if setting == "0":
        return None
    existing = jax.config.jax_compilation_cache_dir
    if existing:
        _enabled_dir = existing
        return existing
    directory = Path(path or setting or DEFAULT_DIR)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if not os.access(directory, os.W_OK):
            return None
    except OSError:
        return None  # read-only checkout: run without a disk cache
    jax.config.update("jax_compilation_cache_dir", str(directory))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_SECONDS)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    _enabled_dir = str(directory)
    return _enabled_dir
