"""What is trained: the inner problems (1-D losses, typed formulas) and the inner
optimizer (SGD with momentum) with its hyperparameters.

- :mod:`~l2l_core.inner.problems`: the registry :data:`PROBLEMS` of 1-D inner losses.
- :mod:`~l2l_core.inner.hyperparams`: the one conversion between the landscape's
  axes (log10 lr, log10(1 - momentum)) and (lr, momentum).
- :mod:`~l2l_core.inner.unroll`: the one SGD-with-momentum step and its unroll.
"""
