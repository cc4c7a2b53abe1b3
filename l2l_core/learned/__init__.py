"""Learned optimizers (Andrychowicz et al., 2016).

The task families it trains on are in :mod:`l2l_core.tasks` (``quadratic``, ``digits_mlp`` ...).

- :mod:`~l2l_core.learned.lstm`: the coordinatewise LSTM optimizer (flax) with the optax interface.
- :mod:`~l2l_core.learned.config`: a meta-training run's settings and the presets.
- :mod:`~l2l_core.learned.metatrain`: truncated-BPTT meta-training in chunks.
- :mod:`~l2l_core.learned.baselines`: the registry of hand-designed optax baselines, tuned over lr.
- :mod:`~l2l_core.learned.checkpoints`: msgpack checkpoints with checks (never pickle).
- :mod:`~l2l_core.learned.comparison`: the learned optimizer against the tuned baselines.
- :mod:`~l2l_core.learned.generalization`: the generalization map of the shipped optimizers.
- :mod:`~l2l_core.learned.training_job`: meta-training in a background thread (the page's runs).
"""
