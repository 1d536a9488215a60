"""``Memo``: each value computed once per key, whichever threads ask; typed keys kept apart."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np
import pytest

from routegate.arrow.memo import Memo, MemoKind, shared_array

COUNT: MemoKind[int] = MemoKind("test.count")
WORDS: MemoKind[tuple[str, ...]] = MemoKind("test.words")
ARRAY: MemoKind[np.ndarray] = MemoKind("test.array")
NAME: MemoKind[str] = MemoKind("test.name")

T = TypeVar("T")


class Counted:
    """A compute function that counts its calls (thread-safe) and returns ``value``."""

    def __init__(self, value: int, pause: float = 0.0) -> None:
        self.value = value
        self.pause = pause
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self) -> int:
        with self._lock:
            self.calls += 1
        time.sleep(self.pause)  # long enough for every other thread to ask meanwhile
        return self.value


def _together(tasks: Sequence[Callable[[], T]]) -> list[T]:
    """Run every task on its own thread, all released at once by a barrier; their results in order."""
    start = threading.Barrier(len(tasks))
    out: dict[int, T] = {}

    def run(k: int) -> None:
        start.wait()
        out[k] = tasks[k]()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(tasks))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(out) == len(tasks), "a thread did not finish"
    return [out[k] for k in range(len(tasks))]


def test_threads_asking_at_once_share_one_computation() -> None:
    memo = Memo()
    compute = Counted(7, pause=0.2)
    key = COUNT.key("suite")
    results = _together([lambda: memo.get_or_compute(key, compute) for _ in range(6)])
    assert results == [7] * 6
    assert compute.calls == 1
    assert memo.get_or_compute(key, Counted(8)) == 7  # from the memo from now on
    assert compute.calls == 1


def test_a_value_computed_once_is_the_same_object_for_every_caller() -> None:
    memo = Memo()
    first = memo.get_or_compute(WORDS.key(), lambda: ("a", "b"))
    assert memo.get_or_compute(WORDS.key(), lambda: ("c",)) is first
    assert memo[WORDS.key()] is first


def test_keys_of_one_kind_with_different_parts_are_distinct() -> None:
    memo = Memo()
    assert memo.get_or_compute(COUNT.key(3), lambda: 3) == 3
    assert memo.get_or_compute(COUNT.key(4), lambda: 4) == 4
    assert memo.get_or_compute(COUNT.key(3, "x"), lambda: 5) == 5
    assert memo.get_or_compute(COUNT.key(("a", 1)), lambda: 6) == 6
    assert memo.get_or_compute(COUNT.key("a", 1), lambda: 7) == 7  # parts are not flattened
    assert [memo[COUNT.key(3)], memo[COUNT.key(4)], memo[COUNT.key(3, "x")]] == [3, 4, 5]
    assert COUNT.key(3) == COUNT.key(3)  # equal parts: one key, built anywhere
    assert memo.get_or_compute(COUNT.key(3), lambda: 0) == 3


def test_kinds_with_the_same_name_never_share_values() -> None:
    """Two modules that happen to name their kinds alike still keep their own values."""
    mine: MemoKind[int] = MemoKind("same.name")
    theirs: MemoKind[int] = MemoKind("same.name")
    memo = Memo()
    assert memo.get_or_compute(mine.key(1), lambda: 1) == 1
    assert theirs.key(1) not in memo
    assert memo.get_or_compute(theirs.key(1), lambda: 2) == 2
    assert memo[mine.key(1)] == 1
    assert mine.key(1) != theirs.key(1)


def test_a_computation_may_ask_for_other_keys() -> None:
    memo = Memo()
    inner = Counted(2)

    def outer() -> int:
        return memo.get_or_compute(COUNT.key("inner"), inner) + memo.get_or_compute(COUNT.key("inner"), inner) + 1

    assert memo.get_or_compute(COUNT.key("outer"), outer) == 5
    assert inner.calls == 1
    assert memo[COUNT.key("inner")] == 2


def test_a_computation_asking_a_key_another_thread_is_computing_gets_its_value() -> None:
    memo = Memo()
    inner = Counted(2, pause=0.2)

    def outer() -> int:
        return memo.get_or_compute(COUNT.key("inner"), inner) * 10

    asks = [
        lambda: memo.get_or_compute(COUNT.key("outer"), outer),
        lambda: memo.get_or_compute(COUNT.key("inner"), inner),
    ]
    assert _together(asks) == [20, 2]
    assert inner.calls == 1


def test_unrelated_keys_are_computed_at_the_same_time() -> None:
    """One lock per key: a computation waiting for another key's computation on another thread
    is not blocked by it (one lock for the whole memo would keep the second from starting)."""
    memo = Memo()
    first_started, second_done = threading.Event(), threading.Event()

    def first() -> str:
        first_started.set()
        return "saw second" if second_done.wait(timeout=5) else "blocked"

    def second() -> str:
        second_done.set()
        return "second"

    def ask_second() -> str:
        assert first_started.wait(timeout=5)
        return memo.get_or_compute(NAME.key("second"), second)

    asks = [lambda: memo.get_or_compute(NAME.key("first"), first), ask_second]
    assert _together(asks) == ["saw second", "second"]


def test_a_value_stored_ahead_is_not_computed_again() -> None:
    memo = Memo()
    assert COUNT.key() not in memo
    memo[COUNT.key()] = 9
    assert COUNT.key() in memo
    compute = Counted(1)
    assert memo.get_or_compute(COUNT.key(), compute) == 9
    assert compute.calls == 0


def test_a_failed_computation_stores_nothing() -> None:
    memo = Memo()

    def fails() -> int:
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        memo.get_or_compute(COUNT.key(), fails)
    assert COUNT.key() not in memo
    assert memo.get_or_compute(COUNT.key(), lambda: 3) == 3


def test_shared_arrays_are_read_only_and_computed_once() -> None:
    memo = Memo()
    calls: list[int] = []

    def compute() -> np.ndarray:
        calls.append(1)
        return np.arange(4)

    shared = shared_array(memo, ARRAY.key(1), compute)
    with pytest.raises(ValueError, match="read-only"):
        shared[0] = 5
    again = shared_array(memo, ARRAY.key(1), compute)
    assert again is shared
    np.testing.assert_array_equal(again, np.arange(4))
    assert len(calls) == 1
    assert not shared_array(memo, ARRAY.key(2), compute).flags.writeable
    assert len(calls) == 2


def test_without_a_memo_an_array_is_the_callers_own() -> None:
    plain = shared_array(None, ARRAY.key(1), lambda: np.arange(3))
    plain[0] = 7  # not shared with anyone: writeable
    assert plain.tolist() == [7, 1, 2]
    assert shared_array(None, ARRAY.key(1), lambda: np.arange(3)).tolist() == [0, 1, 2]
