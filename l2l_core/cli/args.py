"""The command line's one argument vocabulary and its one error boundary.

Every command parses its counts, seeds, numbers, ranges and paths with the
helpers here, so the same flag is checked the same way everywhere:

- a count is an integer in ``[lo, hi]``, the caps being the core's own
  (``integer(1, MAX_STEPS)``); anything else, a zero batch or a number too
  large for C, is refused while parsing, before any work;
- a seed is an integer in ``[0, MAX_SEED]`` (what ``jax.random.PRNGKey`` takes);
- a number is finite (``real``), and positive where it is a size or a rate
  (``positive``);
- a range is two finite numbers, lower end first (:class:`Range`);
- a path is not empty (``path``).

:func:`run_guarded` is the boundary: a refused value (``ValueError``) or a
file error (``OSError``: a full disk, a permission, a name too long, a
symbolic-link loop) becomes one line on stderr, ``error: ...``, naming the
path and what to do, and exit code 2. Importing this module imports nothing
heavy: the ``fractal`` command's fast start uses it too.
"""

from __future__ import annotations

import argparse
import errno
import math
import sys
from pathlib import Path
from typing import Callable

MAX_SEED = 2**31 - 1  # every seed of the core is a 32-bit PRNG seed

__all__ = ["MAX_SEED", "Parser", "Range", "fail", "integer", "parse", "path", "positive", "real", "refuse",
           "run_guarded", "seed"]


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose refusals are one line, ``error: ...``, exit code 2."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def integer(lo: int, hi: int) -> Callable[[str], int]:
    """A count flag's type: an integer in ``[lo, hi]``."""

    def parse(text: str) -> int:
        try:
            v = int(text.strip(), 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"must be an integer from {lo} to {hi}, got {text.strip()}")
        return v

    parse.__name__ = "integer"
    return parse


seed = integer(0, MAX_SEED)


def real(text: str) -> float:
    """A number flag's type: a finite float."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return v


def positive(text: str) -> float:
    """A rate or size flag's type: a finite float above 0."""
    v = real(text)
    if not v > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return v


def path(text: str) -> Path:
    """A path flag's type: a non-empty path (``--out ""`` would mean the current folder)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("give a path (an empty one would mean the current folder)")
    return Path(text)


class Range(argparse.Action):
    """``--x-range LO HI``: two finite numbers, the lower end first."""

    def __init__(self, option_strings, dest, nargs=2, type=real, **kwargs):
        super().__init__(option_strings, dest, nargs=2, type=real, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        lo, hi = values
        if not lo < hi:
            raise argparse.ArgumentError(self, f"needs its lower end first and below the upper, got {lo:g} {hi:g}")
        setattr(namespace, self.dest, (lo, hi))


def parse(parser: argparse.ArgumentParser, argv) -> argparse.Namespace | int:
    """The parsed flags, or the exit code where parsing stopped (2 for a refusal, 0 for --help)."""
    try:
        return parser.parse_args(argv)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 2


def refuse(flag: str, why: str) -> None:
    """A flag that does not apply to the chosen task or optimizer: refused, never ignored."""
    raise ValueError(f"{flag} does not apply: {why}")


# -- the error boundary -------------------------------------------------------------------------

_HINTS = {
    errno.ENOSPC: "the disk is full: free some space or pick another --out",
    errno.EDQUOT: "the disk quota is used up: free some space or pick another --out",
    errno.EACCES: "check its permissions or pick another --out",
    errno.EPERM: "check its permissions or pick another --out",
    errno.EROFS: "the file system is read-only: pick another --out",
    errno.ENAMETOOLONG: "give a shorter name",
    errno.ELOOP: "a symbolic link in it loops: remove the loop or give another path",
    errno.EIO: "the disk reported an error: check it, or pick another --out",
    errno.ENOTDIR: "a part of the path is a file, not a folder: give another path",
    errno.EISDIR: "it is a folder: give a file name",
    errno.ENOENT: "a folder on the way does not exist: create it or give another path",
    errno.EMFILE: "too many open files: close some programs and retry",
}


def describe_os_error(e: OSError) -> str:
    """One line: the path, what went wrong and what to do."""
    where = " -> ".join(str(f) for f in (e.filename, e.filename2) if f is not None)
    what = e.strerror or type(e).__name__
    hint = _HINTS.get(e.errno, "check the path and retry")
    return f"{where}: {what}; {hint}" if where else f"{what}; {hint}"


def fail(message: str) -> int:
    """Prints ``error: message`` as one line on stderr; returns the exit code, 2."""
    line = " ".join(str(message).split())
    print(f"error: {line}", file=sys.stderr)
    return 2


def run_guarded(run: Callable, args) -> int:
    """Runs a command; every refusal and file error is one line and exit code 2, never a traceback."""
    try:
        return run(args)
    except ValueError as e:
        return fail(str(e))
    except OSError as e:
        return fail(describe_os_error(e))
    except RuntimeError as e:
        if "symlink loop" not in str(e).lower():  # pathlib's resolve(); anything else is a bug to show
            raise
        return fail(f"{str(e).split('from', 1)[-1].strip()}: a symbolic link in it points back to itself; "
                    "remove the loop or give another path")
    except (MemoryError, OverflowError) as e:
        return fail(f"the sizes asked for do not fit in memory ({type(e).__name__}); pick smaller ones")
