"""What is trained: every task and task family, in ONE registry.

Each kind is defined in a file of its own; :func:`registry` gathers them under
one name space, so a name means one thing everywhere (the pages, the CLI, the
learned optimizers):

- :mod:`~l2l_core.tasks.problems`: 1-D losses (the seed post's ``log_sin`` ...),
  each with its float32 fast path for the post's SGD-momentum grid kernel;
- :mod:`~l2l_core.tasks.general`: the tasks any optax optimizer trains (1-D
  and 2-D functions, typed formulas, the small ``tanh_net``) and
  :func:`~l2l_core.tasks.general.resolve_task`;
- :mod:`~l2l_core.tasks.mlp`: full-batch MLPs on the digits training split
  (``digits_mlp``, ``digits_fc_tanh``), one flat parameter vector;
- :mod:`~l2l_core.tasks.fractal_networks`: the trainability-fractal networks, each
  with its hand-written fast kernel (:mod:`l2l_core.landscape.fractal`);
- :mod:`~l2l_core.tasks.quadratics`, :mod:`~l2l_core.tasks.mlp_families`,
  :mod:`~l2l_core.tasks.datasets`: the families learned optimizers sample
  (random quadratics, MLPs on bundled datasets), registered in
  :mod:`~l2l_core.tasks.families`.

The abstraction itself is in :mod:`~l2l_core.tasks.base`: a
:class:`~l2l_core.tasks.base.Task`, a batch of tasks as a learned optimizer
runs them (:class:`~l2l_core.tasks.base.TaskBatch`) and a
:class:`~l2l_core.tasks.base.TaskFamily`. A single task is a family of one
(:func:`~l2l_core.tasks.families.family_of_one`), so a learned optimizer trains
and races on any task of the maps; ``digits_mlp`` is both: the learned
optimizer's family (fresh initializations, minibatches) and, full batch, a
task of the maps.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

__all__ = ["ROLES", "Entry", "get", "names", "registry"]

#: What a name can be used for: ``landscape`` (the general maps, any optax optimizer,
#: and opening a pixel), ``post`` (the seed post's lr x momentum kernel), ``fractal``
#: (the trainability-fractal kernel), ``learned`` (meta-training and comparisons: a
#: family, or a task of the maps as a family of one).
ROLES = ("landscape", "post", "fractal", "learned")


@dataclass(frozen=True)
class Entry:
    """One name of the registry.

    Attributes:
      name: the key (URL value, ``--problem``/``--task`` value).
      kind: ``function`` (1-D or 2-D), ``network``, ``fractal_network`` or ``family``.
      title, description: what pages and ``--help`` show.
      roles: the subset of :data:`ROLES` it serves.
      defined_in: the module that defines it (where to read or change it).
      fast_path: the hand-written kernel registered on it, if any.
    """

    name: str
    kind: str
    title: str
    description: str
    roles: tuple[str, ...]
    defined_in: str
    fast_path: str | None = None


@lru_cache(maxsize=1)
def registry() -> dict[str, Entry]:
    """Every task and family by name; a name defined twice for two different things raises.

    The kind tables are imported here, on first use: the learned families pull in
    flax, which the ``fractal`` command's fast start does without.
    """
    from l2l_core.tasks import families, fractal_networks, general, mlp, problems

    out: dict[str, Entry] = {}

    def add(entry: Entry) -> None:
        old = out.get(entry.name)
        if old is None:
            out[entry.name] = entry
            return
        if (old.kind, entry.kind) != ("network", "family"):
            raise ValueError(f"task name {entry.name!r} is defined twice ({old.defined_in}, {entry.defined_in})")
        # the same network as a full-batch map task and as the learned optimizer's family
        roles = old.roles + tuple(r for r in entry.roles if r not in old.roles)
        out[entry.name] = Entry(entry.name, "family", old.title, old.description, roles,
                                f"{old.defined_in}, {entry.defined_in}", old.fast_path)

    for name, p in problems.PROBLEMS.items():
        add(Entry(name, "function", p.title, p.description, ("landscape", "post", "learned"), problems.__name__,
                  "sgd_momentum_grid" + ("+sincos" if p.fast_value_and_grad is not None else "")))
    for name, t in general.TASKS.items():
        if t.problem is None:
            add(Entry(name, "network" if t.labels is not None else "function", t.title, t.description,
                      ("landscape", "learned"), general.__name__))
    for name, spec in mlp.MLP_TASKS.items():
        add(Entry(name, "network", spec["title"], spec["description"], ("landscape", "learned"), mlp.__name__))
    for name, s in fractal_networks.SPECS.items():
        # the full-batch lr variants are tasks of the maps too (any optimizer; their kernel checked against it)
        roles = ("fractal",) + (("landscape", "learned") if fractal_networks.supported(name) is None else ())
        add(Entry(name, "fractal_network", s.title, s.description, roles, fractal_networks.__name__,
                  "fractal_grid"))
    for name, f in families.TASK_FAMILIES.items():
        add(Entry(name, "family", f.label, f.label, ("learned",), families.__name__))
    return out


def get(name: str) -> Entry:
    """The entry ``name``; ValueError lists the names."""
    reg = registry()
    if name not in reg:
        raise ValueError(f"unknown task {name!r}; choose one of {sorted(reg)}")
    return reg[name]


def names(role: str | None = None) -> list[str]:
    """The registered names, all or those serving ``role`` (one of :data:`ROLES`)."""
    if role is not None and role not in ROLES:
        raise ValueError(f"unknown role {role!r}; choose one of {ROLES}")
    return [n for n, e in registry().items() if role is None or role in e.roles]
