"""Figure export: plotly figure -> PNG bytes, offline.

Plotly renders static images through kaleido, which drives a Chromium. It
cannot download one here, so :func:`ensure_browser` points it at the
system's (``BROWSER_PATH``, Debian's ``/usr/bin/chromium``) unless the caller
already chose one. Starting Chromium costs seconds; :func:`png_session` keeps
one alive across many exports (the reproduction writes about fifteen).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import warnings
from pathlib import Path

from l2l_core.io.files import atomic_write

#: Pixel size of an exported figure before ``scale`` (PNG side = size * scale).
DEFAULT_WIDTH = 900
DEFAULT_HEIGHT = 560
DEFAULT_SCALE = 2
MAX_SCALE = 6
MAX_SIDE = 4000

_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def ensure_browser() -> str | None:
    """Sets ``BROWSER_PATH`` to a local Chromium if unset; returns the path used."""
    current = os.environ.get("BROWSER_PATH")
    if current:
        return current
    for path in _CANDIDATES:
        if os.path.exists(path):
            os.environ["BROWSER_PATH"] = path
            return path
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        os.environ["BROWSER_PATH"] = found
    return found


def _check_size(width: int, height: int, scale: float) -> tuple[int, int, float]:
    if int(width) != width or int(height) != height or not (50 <= width <= MAX_SIDE and 50 <= height <= MAX_SIDE):
        raise ValueError(f"width and height must be integers between 50 and {MAX_SIDE}, got {width}x{height}")
    if not 0.25 <= float(scale) <= MAX_SCALE:
        raise ValueError(f"scale must be between 0.25 and {MAX_SCALE}, got {scale}")
    return int(width), int(height), float(scale)


def figure_png(fig, *, width: int | None = None, height: int | None = None,
               scale: float = DEFAULT_SCALE) -> bytes:
    """The figure as PNG bytes.

    Args:
      fig: a ``plotly.graph_objects.Figure``.
      width, height: layout size in CSS pixels; default the figure's own
        ``layout.height`` (if set) and :data:`DEFAULT_WIDTH` / :data:`DEFAULT_HEIGHT`.
      scale: device-pixel ratio (2 gives a crisp image for slides and print).

    Raises:
      ValueError: a bad size, or no Chromium to render with.
      RuntimeError: kaleido failed (its message is kept).
    """
    width = int(width or fig.layout.width or DEFAULT_WIDTH)
    height = int(height or fig.layout.height or DEFAULT_HEIGHT)
    width, height, scale = _check_size(width, height, scale)
    if ensure_browser() is None:
        raise ValueError("no Chromium found for PNG export: install chromium or set BROWSER_PATH")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "kopts ignored if using a server"
        data = fig.to_image(format="png", width=width, height=height, scale=scale)
    if not data.startswith(b"\x89PNG"):
        raise RuntimeError("kaleido returned something that is not a PNG")
    return data


def write_png(fig, path: str | os.PathLike, **kwargs) -> Path:
    """Writes :func:`figure_png` to ``path`` atomically (temp file + rename)."""
    return atomic_write(path, figure_png(fig, **kwargs))


@contextlib.contextmanager
def png_session():
    """Keeps one Chromium running for all exports inside the block.

    Without it every :func:`figure_png` starts and stops a browser (~5 s);
    with it the second and later exports take a fraction of a second.
    """
    ensure_browser()
    import kaleido

    started = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kaleido.start_sync_server(n=1, timeout=90, silence_warnings=True)
        started = True
    except Exception:  # noqa: BLE001 - a server is an optimisation; fall back to one browser per export
        started = False
    try:
        yield
    finally:
        if started:
            with contextlib.suppress(Exception):
                kaleido.stop_sync_server(silence_warnings=True)


def shrink_png(data: bytes, *, factor: float = 0.6, colors: int = 256) -> bytes:
    """A smaller copy of a PNG for documentation: resized by ``factor`` and
    reduced to a ``colors``-entry palette (no dithering, so flat areas stay flat).

    Uses Pillow (installed with streamlit); raises ValueError if it is missing.
    """
    import io

    try:
        from PIL import Image
    except ImportError:
        raise ValueError("shrinking PNGs needs Pillow (pip install pillow)") from None
    if not 0.05 <= factor <= 1.0 or not 2 <= colors <= 256:
        raise ValueError(f"factor must be in [0.05, 1] and colors in [2, 256], got {factor}, {colors}")
    im = Image.open(io.BytesIO(data)).convert("RGB")
    w, h = im.size
    im = im.resize((max(1, round(w * factor)), max(1, round(h * factor))), Image.LANCZOS)
    q = im.quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    q.save(buf, format="PNG", optimize=True)
    return buf.getvalue()
