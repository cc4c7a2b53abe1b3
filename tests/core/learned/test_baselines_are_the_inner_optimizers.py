"""The learned optimizer's baselines are the inner-optimizer registry's optimizers (one
definition each): 20 steps of each give exactly what optax's own constructor gives."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from l2l_core.learned.baselines import BASELINES

OPTAX = {"sgd": optax.sgd(0.1), "adam": optax.adam(0.1), "rmsprop": optax.rmsprop(0.1),
         "nag": optax.sgd(0.1, momentum=0.9, nesterov=True)}


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_each_baseline_is_the_registry_optimizer(name):
    def loss(p):
        return jnp.sum(jnp.sin(p) * p**2)

    ends = []
    for opt in (BASELINES[name][1](0.1), OPTAX[name]):
        p = jnp.linspace(-1.0, 1.0, 7)
        state = opt.init(p)
        for _ in range(20):
            u, state = opt.update(jax.grad(loss)(p), state, p)
            p = optax.apply_updates(p, u)
        ends.append(np.asarray(p))
    np.testing.assert_array_equal(ends[0], ends[1])
