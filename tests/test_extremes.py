"""``compare.extremes``: the rows a report lists as the largest drops and rises, without a full sort."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from routegate.stats.compare import extremes

VALUES = st.lists(st.sampled_from([-1.0, -0.5, -0.0, 0.0, 0.25, 0.5, 1.0, float("nan"), float("inf")]), max_size=80)


def _by_full_sort(values: np.ndarray, limit: int) -> tuple[list[int], list[int]]:
    """The definition: finite rows sorted by (value, row); the first ``limit`` and the last ``limit`` reversed."""
    rows = np.flatnonzero(np.isfinite(values))
    order = rows[np.lexsort((rows, values[rows]))]
    return [int(i) for i in order[:limit]], [int(i) for i in order[::-1][:limit]]


@settings(max_examples=400, deadline=None)
@given(VALUES, st.integers(min_value=0, max_value=20))
def test_extremes_are_the_ends_of_the_full_sort(values: list[float], limit: int) -> None:
    """Heavy ties (quality deltas are often -1, 0 or 1) are where a partition could pick other rows."""
    array = np.array(values, dtype=np.float64)
    assert extremes(array, limit) == _by_full_sort(array, limit)


def test_ties_list_the_lowest_rows_for_drops_and_the_highest_for_rises() -> None:
    values = np.array([-1.0, 1.0, -1.0, 1.0, -1.0, 1.0, 0.0])
    assert extremes(values, 2) == ([0, 2], [5, 3])


def test_large_arrays_agree_with_the_full_sort() -> None:
    rng = np.random.default_rng(3)
    values = rng.choice([-1.0, -0.5, 0.0, 0.5, 1.0], size=200_000)
    values[rng.integers(0, values.size, 1000)] = np.nan
    for limit in (1, 10, 50):
        assert extremes(values, limit) == _by_full_sort(values, limit)
