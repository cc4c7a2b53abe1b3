"""Inputs are bounded before work or memory is spent: a huge seed range is
refused without building it; an out-of-range link value is reported with the
value used instead of being replaced silently."""

import tracemalloc

import pytest

from l2l_core import outer


@pytest.mark.parametrize("text", ["0-200000", "0-20000000", "5, 0-99999999999", ",".join(["1"] * 5000)])
def test_seed_lists_are_refused_before_they_are_built(text):
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="at most 16 seeds"):
            outer.parse_seeds(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, f"{peak / 2**20:.1f} MiB spent on a refused seed list"


def test_seed_ranges_within_the_cap_still_work():
    assert outer.parse_seeds("0-3, 7") == [0, 1, 2, 3, 7]
    assert outer.parse_seeds("0-15") == list(range(16))
    with pytest.raises(ValueError, match="at most 16"):
        outer.parse_seeds("0-16")
