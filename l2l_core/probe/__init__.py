"""Inside one training run: curvature, stability thresholds and parameter-space slices.

- :mod:`~l2l_core.probe.curvature`: Hessian-vector products and Lanczos top-k eigenvalues;
- :mod:`~l2l_core.probe.thresholds`: an optimizer's stability threshold on the sharpness, and
  :func:`~l2l_core.probe.thresholds.stability_edge` (the edge a map's theory line draws);
- :mod:`~l2l_core.probe.slices`: filter-normalized directions, fast 2-D slices, PCA of a path;
- :mod:`~l2l_core.probe.flat`: any task as one flat parameter vector;
- :mod:`~l2l_core.probe.run`: :func:`~l2l_core.probe.run.inspect_run`, one pixel opened.

Nothing is imported here: ``import l2l_core.probe`` stays cheap.
"""
