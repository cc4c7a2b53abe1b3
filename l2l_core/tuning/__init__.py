"""What tuning sees: a real tuner (Optuna) on the map's own objective, and a user's study read back.

:mod:`~l2l_core.tuning.audit` runs an Optuna study whose every trial is one run
of the engine and holds its sparse view against the dense map;
:mod:`~l2l_core.tuning.study` reads a user's Optuna SQLite file read-only.
"""
