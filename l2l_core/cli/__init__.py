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
        return _fractal_main(argv[1:])
    from l2l_core.cli.commands import main as full_main

    return full_main(argv)


def _fractal_main(argv: list[str]) -> int:
    from l2l_core.cli.args import Parser, parse, run_guarded
    from l2l_core.cli.fractal import HELP, add_fractal_args, run_fractal_cli
    from l2l_core.runtime.setup import setup_process

    parser = Parser(prog="python -m l2l_core fractal", description=HELP)
    add_fractal_args(parser)
    args = parse(parser, argv)
    if isinstance(args, int):
        return args
    setup_process()
    return run_guarded(run_fractal_cli, args)


def __getattr__(name: str):
    if name == "COMMANDS":
        from l2l_core.cli.commands import COMMANDS

        return COMMANDS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
