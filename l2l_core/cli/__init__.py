"""The command line, ``python -m l2l_core <command>``: one registry of commands in
:mod:`~l2l_core.cli.commands`, the learned-optimizer commands in
:mod:`~l2l_core.cli.learned`, ``reproduce`` in :mod:`~l2l_core.cli.reproduce`."""

from l2l_core.cli.commands import COMMANDS, main

__all__ = ["COMMANDS", "main"]
