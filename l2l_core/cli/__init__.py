"""The command line, ``python -m l2l_core <command>``: one registry of commands in
:mod:`~l2l_core.cli.commands`, the learned-optimizer commands in
:mod:`~l2l_core.cli.learned`, ``reproduce`` in :mod:`~l2l_core.cli.reproduce`.

``fractal`` starts without importing the rest of the engine (optax, the
learned optimizers, the general landscape): about half a second less per
process, which the trainability-fractal benchmark times as a whole process.
"""

from __future__ import annotations

import sys

__all__ = ["COMMANDS", "main"]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["fractal"]:
        from l2l_core.cli.fractal import main as fractal_main  # the fast start: no optax, no learned

        return fractal_main(argv[1:])
    from l2l_core.cli.commands import main as full_main

    return full_main(argv)


def __getattr__(name: str):
    if name == "COMMANDS":
        from l2l_core.cli.commands import COMMANDS

        return COMMANDS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
