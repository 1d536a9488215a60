"""``Memo``: values derived once from a loaded suite's tables and shared by every run over it.

A gate replays its two policies on two threads; whichever asks for a value first computes it
while the other waits for the result (one lock per key, so unrelated work is never serialised;
re-entrant, so a computation may ask for other keys). Pure modules (``plan``, ``replay``) take a
``Memo`` without knowing what a suite is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")


class Memo(dict[str, Any]):
    """A dict of derived values with a thread-safe ``get_or_compute``."""

    def __init__(self) -> None:
        super().__init__()
        self._guard = threading.Lock()
        self._locks: dict[str, threading.RLock] = {}

    def get_or_compute(self, key: str, compute: Callable[[], T]) -> T:
        """``self[key]``, computed by ``compute()`` on first use."""
        if key in self:
            found: T = self[key]
            return found
        with self._guard:
            lock = self._locks.setdefault(key, threading.RLock())
        with lock:
            if key not in self:
                self[key] = compute()
            value: T = self[key]
            return value


def shared_array(memo: Memo | None, key: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
    """``compute()``, once per memo when there is one; read-only then, since every later run shares it."""
    if memo is None:
        return compute()

    def frozen() -> np.ndarray:
        value = compute()
        value.flags.writeable = False
        return value

    return memo.get_or_compute(key, frozen)
