"""What the pages share: page state and URLs (:mod:`~ui.state`), the job wrapper and
exports (:mod:`~ui.shared`), Streamlit's script context (:mod:`~ui.adapter`), the
task and optimizer pickers (:mod:`~ui.pickers`), the outer-run panel
(:mod:`~ui.outer_panel`), the general landscape's view and runs, and each page's
cached calls into :mod:`l2l_core` (``*_compute``, ``*_views``, ``tour_steps``).

Each file in ``pages/`` is a short script: it reads widgets into a config,
calls these helpers and the engine, and draws :mod:`l2l_core.viz` figures.
"""
