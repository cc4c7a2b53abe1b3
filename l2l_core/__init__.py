"""l2l_core: the engine of the meta-loss landscape explorer (pure JAX, no UI).

Modules by role: ``problems`` (1-D inner losses), ``unroll`` (inner training),
``landscape`` (outer loss, sweeps, grids), ``figures`` (plotly builders),
``cli`` (``python -m l2l_core ...``).
"""
