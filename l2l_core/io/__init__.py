"""Files (a leaf: it imports no engine module above it).

- :mod:`~l2l_core.io.files`: atomic writes, NPZ/CSV writers and readers, run-folder locks.
- :mod:`~l2l_core.io.export`: plotly figure -> PNG bytes, offline.
"""
