"""Files: figure export (PNG through kaleido) and the reproduction of both posts.

- :mod:`~l2l_core.io.export`: plotly figure -> PNG bytes, offline.
- :mod:`~l2l_core.io.reproduce`: every figure of both posts, with their arrays.
"""
