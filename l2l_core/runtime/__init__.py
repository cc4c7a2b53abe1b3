"""Running the engine: compilation cache, devices and job limits (a leaf: it imports no engine module).

- :mod:`~l2l_core.runtime.compile_cache`: JAX's persistent compilation cache (set up by entry points).
- :mod:`~l2l_core.runtime.sharding`: chunks and batches split over every device.
- :mod:`~l2l_core.runtime.jobs`: the server-wide limit on heavy jobs, with cancel.
"""
