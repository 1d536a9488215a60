"""``notable.spread_extremes``: the rows a report lists as the largest drops (and, negated, rises),
spread over task types where drops tie, without a full sort of every row."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from routegate.stats.notable import spread_extremes

VALUES = st.lists(st.sampled_from([-1.0, -0.5, -0.0, 0.0, 0.25, 0.5, 1.0, float("nan"), float("inf")]), max_size=80)


def _by_definition(values: np.ndarray, groups: np.ndarray, limit: int) -> list[int]:
    """The definition, row by row: finite rows by value; within a value, the k-th row (by row order) of
    every group before the (k+1)-th of any, groups in ascending code."""
    rows = [i for i in range(values.size) if np.isfinite(values[i])]
    seen: dict[tuple[float, int], int] = {}
    keyed = []
    for i in sorted(rows, key=lambda i: (values[i], groups[i], i)):
        k = (float(values[i]), int(groups[i]))
        turn = seen.get(k, 0)
        seen[k] = turn + 1
        keyed.append((float(values[i]), turn, int(groups[i]), i))
    return [i for *_, i in sorted(keyed)[:limit]]


@settings(max_examples=400, deadline=None)
@given(VALUES, st.integers(min_value=0, max_value=20), st.integers(min_value=1, max_value=4))
def test_spread_extremes_follow_the_definition(values: list[float], limit: int, n_groups: int) -> None:
    """Heavy ties (quality deltas are often -1, 0 or 1) are where a partition could pick other rows."""
    array = np.array(values, dtype=np.float64)
    groups = np.arange(array.size) % n_groups
    assert spread_extremes(array, groups.__getitem__, limit) == _by_definition(array, groups, limit)


def test_tied_drops_come_from_every_task_type_in_turn_not_the_first_in_table_order() -> None:
    values = np.array([-1.0] * 6 + [-1.0] * 3 + [-0.5, 0.0])
    groups = np.array([0] * 6 + [1] * 3 + [2, 2])  # six of subject 0 first, as MMLU lists them
    assert spread_extremes(values, groups.__getitem__, 4) == [0, 6, 1, 7]
    assert spread_extremes(values, groups.__getitem__, 10)[-1] == 9  # the smaller drop after every tie


def test_large_arrays_agree_with_the_definition() -> None:
    rng = np.random.default_rng(3)
    values = rng.choice([-1.0, -0.5, 0.0, 0.5, 1.0], size=20_000)
    values[rng.integers(0, values.size, 100)] = np.nan
    groups = rng.integers(0, 7, values.size)
    for limit in (1, 10, 50):
        assert spread_extremes(values, groups.__getitem__, limit) == _by_definition(values, groups, limit)
