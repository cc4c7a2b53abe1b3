"""hyper_grid against an independent float64 loop that runs optax directly.

The reference below spells out each optimizer's optax call and each task's loss
on its own (it does not use the registries' build functions or losses), trains
one cell in a Python loop in float64, and averages the losses before each
update. Cells are compared where the reference is smooth (a relative nudge of
1e-4 in both hyperparameters moves it by less than 1e-4), to 1e-3 relative.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from l2l_core.inner.optimizers import OPTIMIZERS
from l2l_core.landscape import meta_loss_grid
from l2l_core.landscape.general import SUMMARIES, hyper_grid, task_axes
from l2l_core.tasks.general import TASKS, tanh_net_task

OPTAX = {
    "sgd": lambda h: optax.sgd(h["lr"], momentum=h["momentum"]),
    "nesterov": lambda h: optax.sgd(h["lr"], momentum=h["momentum"], nesterov=True),
    "adam": lambda h: optax.adam(h["lr"], b1=h["b1"], b2=h["b2"], eps=h["eps"]),
    "rmsprop": lambda h: optax.rmsprop(h["lr"], decay=h["decay"], eps=h["eps"]),
    "adamw": lambda h: optax.adamw(h["lr"], b1=h["b1"], b2=h["b2"], eps=h["eps"], weight_decay=h["weight_decay"]),
}
DEFAULTS = {
    "sgd": dict(lr=0.1, momentum=0.9), "nesterov": dict(lr=0.1, momentum=0.9),
    "adam": dict(lr=0.01, b1=0.9, b2=0.999, eps=1e-8), "rmsprop": dict(lr=0.01, decay=0.9, eps=1e-8),
    "adamw": dict(lr=0.01, b1=0.9, b2=0.999, eps=1e-8, weight_decay=1e-4),
}
LOSSES = {
    "log_sin": (lambda p: jnp.log(p**2 + 1 + jnp.sin(3 * p)) + 1.5, -4.0),
    "parabola": (lambda p: 0.5 * p**2, -4.0),
    "double_well": (lambda p: (p**2 - 1) ** 2 / 4 + 0.3 * p, -4.0),
    "rippled_bowl": (lambda p: 0.1 * p**2 + 0.5 * (1 - jnp.cos(4 * p)), -4.0),
    "rosenbrock": (lambda p: (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2, (-1.2, 1.0)),
    "beale": (lambda p: (1.5 - p[0] + p[0] * p[1]) ** 2 + (2.25 - p[0] + p[0] * p[1] ** 2) ** 2
              + (2.625 - p[0] + p[0] * p[1] ** 3) ** 2, (1.0, 1.0)),
    "himmelblau": (lambda p: (p[0] ** 2 + p[1] - 11) ** 2 + (p[0] + p[1] ** 2 - 7) ** 2, (0.0, 0.0)),
    "sin(x)*cos(y) + 0.1*(x**2 + y**2)": (lambda p: jnp.sin(p[0]) * jnp.cos(p[1]) + 0.1 * (p[0] ** 2 + p[1] ** 2),
                                          (1.0, 1.0)),
    "x**4/4 - x": (lambda p: p**4 / 4 - p, -4.0),
}


def _value(axis_unit, display):
    return 10.0**display if axis_unit == "log10" else 1.0 - 10.0**display


def reference_cells(task: str, opt: str, hps: list[dict], steps: int) -> np.ndarray:
    """Mean loss before each of ``steps`` optax updates, in float64, for each cell of ``hps``.

    The cells train side by side (a leading batch axis on the parameters, each
    hyperparameter an array broadcast against them), so one Python loop over the
    steps serves them all; the cells never mix (the loss is a sum over cells).
    """
    with jax.enable_x64(True):
        n = len(hps)
        if task == "tanh_net":
            d = tanh_net_task(0).data
            x, y = jnp.asarray(d["task_inputs"]), jnp.asarray(d["task_targets"])

            def cell_loss(p):
                return jnp.mean((jnp.tanh(x @ p[0].T) @ p[1].T - y) ** 2)

            leaves = [jnp.broadcast_to(jnp.asarray(d[f"task_init_{k}"]), (n,) + d[f"task_init_{k}"].shape)
                      for k in (0, 1)]
            layer_lr = ("lr_in", "lr_out")
        else:
            cell_loss, x0 = LOSSES[task]
            leaves = [jnp.broadcast_to(jnp.asarray(x0, jnp.float64), (n,) + np.shape(x0))]
            layer_lr = ("lr",)

        def hp_arrays(leaf, lr_name):
            shape = (n,) + (1,) * (leaf.ndim - 1)  # one value per cell, broadcast over its parameters
            return {k: jnp.asarray([h[lr_name if k == "lr" else k] for h in hps], jnp.float64).reshape(shape)
                    for k in DEFAULTS[opt]}

        txs = [OPTAX[opt](hp_arrays(leaf, name)) for leaf, name in zip(leaves, layer_lr)]
        states = [tx.init(leaf) for tx, leaf in zip(txs, leaves)]

        def summed(ls):  # the sum over cells, and each cell's own loss
            values = jax.vmap(cell_loss)(tuple(ls) if task == "tanh_net" else ls[0])
            return jnp.sum(values), values

        @jax.jit  # one step of every cell; a Python loop runs the steps
        def step(leaves, states, total):
            (_, values), grads = jax.value_and_grad(summed, has_aux=True)(leaves)
            new_leaves, new_states = [], []
            for tx, g, st, leaf in zip(txs, grads, states, leaves):
                upd, st = tx.update(g, st, leaf)
                new_leaves.append(optax.apply_updates(leaf, upd))
                new_states.append(st)
            return new_leaves, new_states, total + values

        total = jnp.zeros(n, jnp.float64)
        for _ in range(steps):
            leaves, states, total = step(leaves, states, total)
        finite = jnp.isfinite(total)
        for leaf in leaves:
            finite &= jnp.all(jnp.isfinite(leaf.reshape(n, -1)), axis=1)
        return np.where(np.asarray(finite), np.asarray(total) / steps, np.nan)


def reference(task: str, opt: str, hp: dict, steps: int) -> float:
    """:func:`reference_cells` of one cell."""
    return float(reference_cells(task, opt, [hp], steps)[0])


TASK_NAMES = list(TASKS) + ["sin(x)*cos(y) + 0.1*(x**2 + y**2)", "x**4/4 - x"]
QUICK = {("log_sin", "adam"), ("rosenbrock", "adam"), ("himmelblau", "rmsprop"), ("beale", "nesterov"),
         ("tanh_net", "adamw"), ("sin(x)*cos(y) + 0.1*(x**2 + y**2)", "sgd"), ("x**4/4 - x", "adamw")}
PAIRS = [pytest.param(t, o, marks=() if (t, o) in QUICK else pytest.mark.slow) for t in TASK_NAMES for o in OPTIMIZERS]


@pytest.mark.parametrize("task, opt", PAIRS)
def test_every_pair_matches_optax_in_float64_where_smooth(task, opt):
    axes = task_axes(task, opt)
    names = ["lr_in", "lr_out"] if task == "tanh_net" else list(axes)[:2]
    ax, ay = axes[names[0]], axes[names[1]]
    lo, hi = ax.default_range
    xs = lo + np.array([0.0, 0.05, 0.1, 0.4]) * (hi - lo)  # small learning rates: smooth, mostly
    ylo, yhi = ay.default_range
    # momentum-like values away from 1, learning rates small
    ys = np.linspace(ylo + 0.5 * (yhi - ylo), yhi, 3) if ay.unit != "log10" else np.linspace(ylo, ylo + 1.5, 3)
    steps = 30
    z = hyper_grid(task, opt, names[0], names[1], xs, ys, inner_steps=steps)
    assert z.shape == (3, 4) and z.dtype == np.float32
    cells, hps = [], []
    for i, yv in enumerate(ys):
        for j, xv in enumerate(xs):
            hp = dict(DEFAULTS[opt])
            if task == "tanh_net":
                hp.update(lr_in=hp["lr"], lr_out=hp["lr"])
            hp[names[0]], hp[names[1]] = _value(ax.unit, xv), _value(ay.unit, yv)
            nudged = dict(hp, **{names[0]: hp[names[0]] * (1 + 1e-4), names[1]: hp[names[1]] * (1 + 1e-4)})
            cells.append((i, j, xv, yv))
            hps += [hp, nudged]
    refs = reference_cells(task, opt, hps, steps)
    compared = 0
    for (i, j, xv, yv), ref, ref2 in zip(cells, refs[0::2], refs[1::2]):
        if not np.isfinite(ref) or abs(ref2 - ref) > 1e-4 * abs(ref):
            continue
        compared += 1
        assert abs(z[i, j] - ref) <= 1e-3 * abs(ref) + 1e-6, (xv, yv, z[i, j], ref)
    assert compared >= 2, f"only {compared} smooth cells to compare"


@pytest.mark.slow
def test_float64_grid_matches_the_reference_to_float_rounding():
    with jax.enable_x64(True):
        z = hyper_grid("rosenbrock", "adam", "lr", "b2", [-3.0, -1.5], [-3.0, -1.0], inner_steps=40,
                       dtype=np.float64)
    assert z.dtype == np.float64
    for i, yv in enumerate([-3.0, -1.0]):
        for j, xv in enumerate([-3.0, -1.5]):
            hp = dict(DEFAULTS["adam"], lr=10.0**xv, b2=1 - 10.0**yv)
            assert z[i, j] == pytest.approx(reference("rosenbrock", "adam", hp, 40), rel=1e-9)


@pytest.mark.slow
def test_every_axis_of_adamw_spans_a_grid():
    for a, b in (("b1", "lr"), ("lr", "b2"), ("eps", "weight_decay"), ("weight_decay", "b1")):
        va, vb = OPTIMIZERS["adamw"].axes[a], OPTIMIZERS["adamw"].axes[b]
        xa, yb = va.default_range[0] + 0.5, vb.default_range[0] + 0.5
        z = hyper_grid("rosenbrock", "adamw", a, b, [xa], [yb], inner_steps=20)
        hp = dict(DEFAULTS["adamw"], **{a: _value(va.unit, xa), b: _value(vb.unit, yb)})
        ref = reference("rosenbrock", "adamw", hp, 20)
        assert z[0, 0] == pytest.approx(ref, rel=1e-3), (a, b)


def test_the_posts_case_is_todays_fast_kernel_bit_for_bit():
    xs, ys = np.linspace(-3, 2, 57), np.linspace(-3, 0, 31)
    np.testing.assert_array_equal(hyper_grid("log_sin", "sgd", "lr", "momentum", xs, ys), meta_loss_grid(xs, ys))
    np.testing.assert_array_equal(hyper_grid("rippled_bowl", "sgd", "momentum", "lr", ys, xs, summary="min").T,
                                  meta_loss_grid(xs, ys, problem="rippled_bowl", reduce="min"))


@pytest.mark.slow
def test_summaries_final_min_converge():
    xs, ys = np.array([-3.0, -2.0]), np.array([-1.0])
    mean, final, low, conv = (hyper_grid("parabola", "adam", "lr", "b1", xs, ys, inner_steps=50, summary=s)
                              for s in SUMMARIES)
    assert np.all(low <= mean) and np.all(final <= mean)
    assert np.all(conv < 0)  # small steps on a quadratic converge: the measure is negative
    diverged = hyper_grid("parabola", "sgd", "lr", "momentum", [1.5], [-0.5], inner_steps=100,
                          summary="converge", x0=-4.0)
    assert diverged[0, 0] > 0  # lr 30 on x^2/2: diverges, and the measure says so with a positive sign


def test_diverged_runs_are_nan_not_errors():
    z = hyper_grid("rosenbrock", "sgd", "lr", "momentum", [-4.0, 1.0], [-1.0], inner_steps=50)
    assert np.isfinite(z[0, 0]) and np.isnan(z[0, 1])


@pytest.mark.parametrize("kwargs, words", [
    (dict(optimizer="lion"), "unknown inner optimizer"),
    (dict(x_axis="beta"), "choose one of"),
    (dict(y_axis="lr"), "must differ"),
    (dict(fixed={"b1": 0.5}), "cannot also be fixed"),
    (dict(fixed={"momentum": 0.5}), "no hyperparameter"),
    (dict(fixed={"b2": 1.5}), "b2"),
    (dict(fixed={"eps": -1.0}), "eps"),
    (dict(summary="median"), "summary"),
    (dict(task="x + z"), "not a task"),
    (dict(x0=(1.0, 2.0, 3.0)), "two numbers"),
    (dict(inner_steps=0), "steps"),
    (dict(seed=-1), "seed"),
    (dict(dtype=np.float64), "jax_enable_x64"),
    (dict(dtype="int8"), "float32 or float64"),
    (dict(x_values=[np.nan]), "non-finite"),
    (dict(x_values=np.zeros(4097), y_values=np.zeros(4097)), "cap"),
])
def test_arguments_are_checked_with_a_message(kwargs, words):
    args = dict(task="rosenbrock", optimizer="adam", x_axis="lr", y_axis="b1", x_values=[-2.0], y_values=[-1.0])
    args.update(kwargs)
    with pytest.raises(ValueError, match=words):
        hyper_grid(args.pop("task"), args.pop("optimizer"), args.pop("x_axis"), args.pop("y_axis"),
                   args.pop("x_values"), args.pop("y_values"), **args)


def test_network_task_has_per_layer_learning_rates_only():
    with pytest.raises(ValueError, match="per layer"):
        hyper_grid("tanh_net", "sgd", "lr", "momentum", [-2.0], [-1.0])
    a = hyper_grid("tanh_net", "sgd", "lr_in", "lr_out", [-2.0], [-1.0], inner_steps=5, seed=0)
    b = hyper_grid("tanh_net", "sgd", "lr_in", "lr_out", [-2.0], [-1.0], inner_steps=5, seed=1)
    assert a[0, 0] != b[0, 0]  # the seed draws another network


def test_cancel_skips_chunks():
    z = hyper_grid("rosenbrock", "adam", "lr", "b1", np.linspace(-3, -1, 4096), [-1.0, -2.0], inner_steps=5,
                   cancel=lambda: True)
    assert np.isnan(z).all()


@pytest.mark.slow
def test_one_compiled_kernel_serves_every_pair_of_axes():
    """Which hyperparameters are on the axes is data for small grids (a page's coarse
    passes): a new pair of axes, or a new value off the axes, reuses the (task,
    optimizer, summary) kernel instead of compiling; the kernel specialized to the axes
    (large grids) gives the same numbers."""
    from l2l_core.landscape import general

    xs, ys = np.linspace(-2.0, -1.0, 3), np.linspace(-2.0, -1.0, 2)
    first = hyper_grid("beale", "adam", "lr", "b1", xs, ys, inner_steps=5)
    size = general._chunk_kernel_any_axes._cache_size()
    for x, y, fixed in [("b1", "b2", None), ("eps", "lr", {"b1": 0.5}), ("b2", "lr", {"eps": 1e-6})]:
        hyper_grid("beale", "adam", x, y, xs, ys, inner_steps=7, fixed=fixed)
    assert general._chunk_kernel_any_axes._cache_size() == size
    # ... and the axes still mean what they say: lr x b1 swapped is the transpose,
    swapped = hyper_grid("beale", "adam", "b1", "lr", ys, xs, inner_steps=5)
    np.testing.assert_allclose(swapped, first.T, rtol=1e-6)
    # and the specialized kernel agrees, with values off the axes set or not.
    for x, y, fixed in [("lr", "b1", None), ("b2", "lr", {"eps": 1e-6, "b1": 0.8})]:
        a = hyper_grid("beale", "adam", x, y, xs, ys, inner_steps=9, fixed=fixed, any_axes=True)
        b = hyper_grid("beale", "adam", x, y, xs, ys, inner_steps=9, fixed=fixed, any_axes=False)
        np.testing.assert_allclose(a, b, rtol=1e-5)
