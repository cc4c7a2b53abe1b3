"""l2l_core: the engine of the meta-loss landscape explorer (pure JAX, no UI).

Subpackages by role, each opened by a short docstring naming its interface:

- :mod:`l2l_core.inner`: what is trained (1-D inner losses, SGD with momentum).
- :mod:`l2l_core.landscape`: outer loss, learning-rate sweep, 2-D grid, deep zoom.
- :mod:`l2l_core.outer`: outer optimizers over the landscape, one file per method.
- :mod:`l2l_core.learned`: learned optimizers (tasks, LSTM, meta-training, baselines).
- :mod:`l2l_core.viz`: plotly figure builders.
- :mod:`l2l_core.io`: PNG export, reproduction of the posts.
- :mod:`l2l_core.runtime`: compile cache, sharding, job limits, background training.
- :mod:`l2l_core.cli`: ``python -m l2l_core ...``.
- :mod:`l2l_core.expr`: the safe grammar for typed formulas.

Importing any of them changes nothing outside it (no JAX config, no
environment variables): the entry points (``app.py``, the CLI) set the process
up with :func:`l2l_core.runtime.setup_process`.
"""
