"""What is trained: the inner problems (1-D losses, typed formulas) and the inner
optimizer (SGD with momentum) with its hyperparameters.

- :mod:`~l2l_core.tasks.problems`: the registry :data:`PROBLEMS` of 1-D inner losses.
- :mod:`~l2l_core.inner.hyperparams`: the one conversion between the landscape's
  axes (log10 lr, log10(1 - momentum)) and (lr, momentum).
- :mod:`~l2l_core.inner.unroll`: the one SGD-with-momentum step and its unroll.
- :mod:`~l2l_core.inner.optimizers`: the registry :data:`OPTIMIZERS` of optax inner
  optimizers with their hyperparameter axes.
- :mod:`~l2l_core.tasks.general`: the registry :data:`TASKS` of tasks (1-D, 2-D, formulas,
  a small network); :mod:`~l2l_core.inner.fastpow`: powers as exp/log (CPU speed).
"""
