"""Replay one provider's calls of a batch step through its circuit breaker, on the virtual clock.

The rules are the shared state machine's (``providers.breaker.Breaker``); this module only
drives it fast. Calls are taken in start order. Between breaker events the walk is columnar:
``searchsorted`` on the start times and on the run lengths of consecutive failures finds the
call that trips the breaker, the calls short-circuited while it is open, the probe and the
calls short-circuited while the probe is in flight. The Python loop runs once per trip or
probe, never once per call; per trip, the machine is fed only the calls that decide (the
last success before the run of failures, and the run).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from routegate.providers.breaker import Breaker


@dataclass
class BreakerWalk:
    """Result of replaying one provider's calls (sorted by start time) through its breaker."""

    short: np.ndarray
    """bool per call: short-circuited (failed at once, no request)."""
    intervals: list[tuple[float, float]]
    """(start, end) of every span in which the breaker short-circuited calls: open, or its probe in
    flight (later batch steps short-circuit their calls that start inside one)."""
    trips: int
    """Times the breaker opened after ``failures`` failed calls in a row."""
    failed_probes: int
    """Probes that failed (each opened the breaker again)."""


def _settle_calls(breaker: Breaker, calls: range, t: np.ndarray, latency: np.ndarray, fail: np.ndarray) -> None:
    """Let each of ``calls`` (in start order) through the closed breaker and count its outcome."""
    for k in calls:
        ticket = breaker.admit(float(t[k]))
        if ticket is not None:
            breaker.settle(ticket, bool(fail[k]), float(t[k] + latency[k]))


def walk_breaker(t: np.ndarray, latency: np.ndarray, fail: np.ndarray, breaker: Breaker) -> BreakerWalk:
    """Which calls (sorted by start time ``t``, in the breaker's clock units) ``breaker`` short-circuits.

    ``breaker`` starts closed and is left as the last call leaves it. ``fail``: the call's final
    outcome counts as a failed call. The call completing a run of failures opens the breaker when
    it ends; calls that started before that go on, and their outcomes count neither way (stale).
    """
    n = t.size
    short = np.zeros(n, dtype=bool)
    intervals: list[tuple[float, float]] = []
    idx = np.arange(n)
    last_ok = np.maximum.accumulate(np.where(~fail, idx, -1)) if n else idx
    run = idx - last_ok
    candidates = np.flatnonzero(run >= breaker.failures)
    i = 0
    while i < n:
        # closed from call i on: the call j completing the run that trips it
        need = breaker.failures_to_trip
        j = i + need - 1
        if j >= n or run[j] < need:  # a success between i and j: a full run of `failures` after it
            k = int(np.searchsorted(candidates, i + breaker.failures - 1, side="left"))
            if k == candidates.size:
                break
            j = int(candidates[k])
        _settle_calls(breaker, range(max(i, int(last_ok[j])), j + 1), t, latency, fail)
        while True:  # open: cooldown, then the probe
            open_at = breaker.opened_at
            assert open_at is not None  # call j (or the failed probe) opened it
            until = breaker.cooldown_end
            a = max(int(np.searchsorted(t, open_at, side="left")), j + 1)
            b = max(int(np.searchsorted(t, until, side="left")), a)
            short[a:b] = True
            intervals.append((open_at, until))
            if b >= n:
                i = n
                break
            probe = b
            ticket = breaker.admit(float(t[probe]))
            assert ticket is not None  # the first call after the cooldown is the probe
            probe_end = float(t[probe] + latency[probe])
            c = max(int(np.searchsorted(t, probe_end, side="left")), probe + 1)
            short[probe + 1 : c] = True
            intervals.append((float(t[probe]), probe_end))
            breaker.settle(ticket, bool(fail[probe]), probe_end)
            if breaker.state == "open":
                j = c - 1
                continue
            i = c
            break
    return BreakerWalk(short, intervals, breaker.trips, breaker.failed_probes)
