"""Which meta-step programs are compiled already: in this process (JAX's in-memory
cache: no compiling at all) or on disk (the persistent compilation cache of
:mod:`~l2l_core.runtime.compile_cache`: loading, not compiling).

:func:`~l2l_core.learned.metatrain.metatrain` marks a chunk's program after it
compiled; :mod:`~l2l_core.learned.estimates` asks before a run starts. A program is
named by its static settings (``config.chunk_structure``), the JAX version, the backend
and the CPU count; the disk mark is an empty file beside JAX's own entries, so that
clearing the cache clears the marks with it.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import jax

_IN_MEMORY: set[str] = set()
_LOCK = threading.Lock()
MARK_PREFIX = "l2l-meta-step-"


def program_key(structure) -> str:
    text = "|".join([repr(structure), jax.__version__, jax.default_backend(), str(jax.device_count()),
                     str(os.cpu_count())])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _cache_dir() -> Path | None:
    d = jax.config.jax_compilation_cache_dir
    return Path(d) if d else None


def mark_compiled(structure) -> None:
    """Records that ``structure``'s meta-step program was compiled (never raises)."""
    key = program_key(structure)
    with _LOCK:
        _IN_MEMORY.add(key)
    d = _cache_dir()
    if d is not None:
        try:
            (d / (MARK_PREFIX + key)).touch()
        except OSError:
            pass  # a read-only cache: the estimate then says "compiling", on the safe side


def compiled_state(structure) -> str:
    """"memory" (compiled in this process), "disk" (in the persistent cache) or "cold"."""
    key = program_key(structure)
    with _LOCK:
        if key in _IN_MEMORY:
            return "memory"
    d = _cache_dir()
    if d is not None and (d / (MARK_PREFIX + key)).is_file():
        return "disk"
    return "cold"
