"""The address of an opened pixel round-trips: what a map links is what the page reads."""

from __future__ import annotations

import pytest

from ui.pixel_link import pixel_query, read_pixel_query


def test_a_pixel_and_a_second_one_round_trip_in_full_precision():
    q = pixel_query("log_sin", "sgd", {"lr": 0.1234567891234, "momentum": 0.9}, steps=50, x0=-4.0)
    q.update(pixel_query("tanh_net", "adam", {"lr_in": 0.01, "lr_out": 3.0, "b1": 0.9}, steps=100, seed=3,
                         suffix="_b"))
    a, b = read_pixel_query(q), read_pixel_query(q, "_b")
    assert a == {"task": "log_sin", "optimizer": "sgd", "hparams": {"lr": 0.1234567891234, "momentum": 0.9},
                 "steps": 50, "seed": 0, "x0": -4.0}
    assert b["task"] == "tanh_net" and b["hparams"] == {"b1": 0.9, "lr_in": 0.01, "lr_out": 3.0} and b["seed"] == 3
    assert read_pixel_query({}) is None


@pytest.mark.parametrize("query, word", [({"task": "log_sin", "lr": "fast"}, "lr"),
                                         ({"task": "log_sin", "opt": "sgdd"}, "unknown optimizer"),
                                         ({"task": "log_sin", "steps": "1.5"}, "whole number"),
                                         ({"task": "rosenbrock", "x0": "1,2,3"}, "x0"),
                                         ({"task": "log_sin", "lr": "nan"}, "finite")])
def test_a_wrong_value_in_the_address_is_named(query, word):
    with pytest.raises(ValueError, match=word):
        read_pixel_query(query)
