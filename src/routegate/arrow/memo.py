"""``Memo``: values derived once from a loaded suite's tables and shared by every run over it.

A value is stored under a typed key: a ``MemoKind`` (declared once, as a module constant next to
the computation of its values) and the parts that tell its values apart (a seed, a catalog's
hash, a column's name). A kind says the type of its values, so ``memo.get_or_compute(key,
compute)`` is typed by the key, and kinds compare by identity: two modules that pick the same
name still have two kinds, never one cache, and a misspelt kind is a name error, not a second cache.

A gate replays its two policies on two threads; whichever asks for a value first computes it
while the other waits for the result (one lock per key, so unrelated work is never serialised;
re-entrant, so a computation may ask for other keys, as long as no two computations ask for each
other's keys). Pure modules (``plan``, ``replay``) take a ``Memo`` without knowing what a suite is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np

T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class MemoKind(Generic[T]):
    """One kind of derived value, of type ``T``: a module constant beside the computation.

    Compared by identity (``eq=False``), so each declaration is its own kind whatever its name.
    """

    name: str
    """What the values are, for reading (``repr``, debugging); never compared."""

    def key(self, *parts: Hashable) -> MemoKey[T]:
        """The key of the value of this kind derived from ``parts`` (none when there is one per suite)."""
        return MemoKey(self, parts)


@dataclass(frozen=True)
class MemoKey(Generic[T]):
    """Where a ``Memo`` keeps one value of type ``T``: its kind and the parts it was derived from."""

    kind: MemoKind[T]
    """The kind of the value (compared by identity)."""
    parts: tuple[Hashable, ...] = ()
    """What tells values of one kind apart: equal parts, one value."""


class Memo:
    """Derived values by ``MemoKey``, with a thread-safe ``get_or_compute``."""

    def __init__(self) -> None:
        self._values: dict[MemoKey[Any], Any] = {}
        self._guard = threading.Lock()
        self._locks: dict[MemoKey[Any], threading.RLock] = {}

    def __contains__(self, key: MemoKey[Any]) -> bool:
        return key in self._values

    def __getitem__(self, key: MemoKey[T]) -> T:
        value: T = self._values[key]
        return value

    def __setitem__(self, key: MemoKey[T], value: T) -> None:
        """Store a value known already (the loader's join keys), before any run reads the memo."""
        self._values[key] = value

    def values(self) -> Iterator[Any]:
        """Every value stored so far (for inspection)."""
        return iter(list(self._values.values()))

    def get_or_compute(self, key: MemoKey[T], compute: Callable[[], T]) -> T:
        """``self[key]``, computed by ``compute()`` on first use (once, whichever thread asks first)."""
        if key in self._values:
            found: T = self._values[key]
            return found
        with self._guard:
            lock = self._locks.setdefault(key, threading.RLock())
        with lock:
            if key not in self._values:
                self._values[key] = compute()
            value: T = self._values[key]
            return value


def shared_array(memo: Memo | None, key: MemoKey[np.ndarray], compute: Callable[[], np.ndarray]) -> np.ndarray:
    """``compute()``, once per memo when there is one; read-only then, since every later run shares it."""
    if memo is None:
        return compute()

    def frozen() -> np.ndarray:
        value = compute()
        value.flags.writeable = False
        return value

    return memo.get_or_compute(key, frozen)
