"""The circuit breaker's state machine (providers/breaker.py), and the fault injector's columnar walk
of it (faults/walk.py) against stepping the machine call by call."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from routegate.faults.walk import walk_breaker
from routegate.load.policy import CircuitBreaker
from routegate.providers.breaker import Breaker, Ticket


def through(breaker: Breaker, now: float) -> Ticket:
    """The ticket of a call the breaker must let through."""
    ticket = breaker.admit(now)
    assert ticket is not None
    return ticket


def fail_calls(breaker: Breaker, count: int, start: float, latency: float = 1.0) -> None:
    """``count`` failed calls, one after the other from ``start``."""
    for k in range(count):
        breaker.settle(through(breaker, start + k * latency), True, start + (k + 1) * latency)


def test_failures_in_a_row_open_it_and_an_answer_resets_the_count() -> None:
    breaker = Breaker(CircuitBreaker(failures=3, cooldown_s=30.0))
    fail_calls(breaker, 2, 0.0)
    breaker.settle(through(breaker, 2.0), False, 3.0)  # the provider answered: the run starts again
    fail_calls(breaker, 2, 3.0)
    assert breaker.state == "closed"
    assert breaker.failures_to_trip == 1
    fail_calls(breaker, 1, 5.0)
    assert breaker.state == "open"
    assert breaker.opened_at == 6.0  # when the third failed call ended
    assert breaker.trips == 1
    assert breaker.admit(6.0) is None


def test_cooldown_then_one_probe_while_the_others_fail_at_once() -> None:
    breaker = Breaker(CircuitBreaker(failures=1, cooldown_s=30.0))
    fail_calls(breaker, 1, 0.0)
    assert breaker.cooldown_end == 31.0
    assert breaker.admit(30.999) is None
    probe = through(breaker, 31.0)  # the cooldown is over at its end, exactly
    assert probe.probe
    assert breaker.state == "half-open"
    assert breaker.admit(40.0) is None  # the probe is in flight
    assert breaker.admit(1e9) is None


def test_a_failed_probe_opens_it_for_another_cooldown_from_its_end() -> None:
    breaker = Breaker(CircuitBreaker(failures=2, cooldown_s=10.0))
    fail_calls(breaker, 2, 0.0)
    breaker.settle(through(breaker, 12.0), True, 15.0)
    assert breaker.state == "open"
    assert (breaker.trips, breaker.failed_probes) == (1, 1)
    assert breaker.admit(24.9) is None
    assert through(breaker, 25.0).probe


def test_a_successful_probe_closes_it_with_a_zero_count() -> None:
    breaker = Breaker(CircuitBreaker(failures=2, cooldown_s=10.0))
    fail_calls(breaker, 2, 0.0)
    breaker.settle(through(breaker, 12.0), False, 13.0)
    assert breaker.state == "closed"
    assert breaker.failures_to_trip == 2
    assert not through(breaker, 13.0).probe
    fail_calls(breaker, 1, 14.0)
    assert breaker.state == "closed"
    fail_calls(breaker, 1, 15.0)
    assert (breaker.state, breaker.trips, breaker.failed_probes) == ("open", 2, 0)


def test_a_call_in_flight_when_it_opened_counts_neither_way() -> None:
    breaker = Breaker(CircuitBreaker(failures=2, cooldown_s=10.0))
    early = through(breaker, 0.0)  # started while closed, ends late
    late = through(breaker, 0.5)
    fail_calls(breaker, 2, 1.0)
    breaker.settle(early, False, 4.0)  # its answer does not close the breaker ...
    assert breaker.state == "open"
    breaker.settle(late, True, 4.0)  # ... nor does its failure extend the cooldown
    assert breaker.cooldown_end == 13.0
    probe = through(breaker, 13.0)
    breaker.settle(late, False, 13.5)  # a stale answer while the probe is in flight decides nothing
    assert breaker.state == "half-open"
    breaker.settle(probe, False, 14.0)
    assert breaker.state == "closed"
    breaker.settle(early, True, 15.0)  # nor does it count after the breaker closed again
    assert breaker.failures_to_trip == 2


def test_per_second_scales_the_cooldown_to_the_clock_unit() -> None:
    breaker = Breaker(CircuitBreaker(failures=1, cooldown_s=2.5), per_second=1000.0)
    fail_calls(breaker, 1, 0.0, latency=100.0)
    assert breaker.cooldown_end == 2600.0


def step_per_call(t: np.ndarray, latency: np.ndarray, fail: np.ndarray, breaker: Breaker) -> np.ndarray:
    """The walk's rules stepped call by call, in start order: an outcome counts when its call's turn
    comes, the probe's when the first call starting at or after its end comes (or at the end)."""
    short = np.zeros(t.size, dtype=bool)
    probe: tuple[Ticket, bool, float] | None = None
    for k in range(t.size):
        now = float(t[k])
        if probe is not None and now >= probe[2]:
            breaker.settle(*probe)
            probe = None
        if breaker.opened_at is not None and not breaker.probing and now < breaker.opened_at:
            continue  # started before the breaker opened: it goes on, its outcome counts neither way
        ticket = breaker.admit(now)
        end = float(t[k] + latency[k])
        if ticket is None:
            short[k] = True
        elif ticket.probe:
            probe = (ticket, bool(fail[k]), end)
        else:
            breaker.settle(ticket, bool(fail[k]), end)
    if probe is not None:
        breaker.settle(*probe)
    return short


calls = st.lists(
    st.tuples(st.integers(0, 40), st.sampled_from([0.0, 1.0, 5.0, 20.0]), st.booleans()), min_size=0, max_size=120
)


@settings(max_examples=300, deadline=None)
@given(calls=calls, failures=st.integers(1, 4), cooldown_s=st.sampled_from([0.004, 0.01, 0.05]))
def test_the_columnar_walk_equals_stepping_the_machine_per_call(
    calls: list[tuple[int, float, bool]], failures: int, cooldown_s: float
) -> None:
    gaps, latencies, fails = zip(*calls, strict=True) if calls else ((), (), ())
    t = np.cumsum(np.asarray(gaps, dtype=np.float64))  # sorted start times, ties included
    latency = np.asarray(latencies, dtype=np.float64)
    fail = np.asarray(fails, dtype=bool)
    config = CircuitBreaker(failures=failures, cooldown_s=cooldown_s)
    walked = Breaker(config, per_second=1000.0)
    walk = walk_breaker(t, latency, fail, walked)
    stepped = Breaker(config, per_second=1000.0)
    assert walk.short.tolist() == step_per_call(t, latency, fail, stepped).tolist()
    assert (walk.trips, walk.failed_probes) == (stepped.trips, stepped.failed_probes)
    for start, end in walk.intervals:  # every short-circuited call starts inside a reported span
        assert start <= end
    inside = np.zeros(t.size, dtype=bool)
    for start, end in walk.intervals:
        inside |= (t >= start) & (t < end)
    assert not (walk.short & ~inside).any()


def test_the_walk_jumps_over_a_long_outage_by_breaker_events() -> None:
    """200,000 calls, one per 10 ms, 5 ms each, all failing: one trip, then a failed probe per cooldown."""
    n = 200_000
    t = np.arange(n) * 10.0
    breaker = Breaker(CircuitBreaker(failures=5, cooldown_s=1.0), per_second=1000.0)
    walk = walk_breaker(t, np.full(n, 5.0), np.ones(n, dtype=bool), breaker)
    went = np.flatnonzero(~walk.short)
    # open at 45 ms until 1045: the probe is the call at 1050, open again 1055..2055: 2060, ...
    assert went[:8].tolist() == [0, 1, 2, 3, 4, 105, 206, 307]
    assert (np.diff(went[5:]) == 101).all()
    assert (walk.trips, walk.failed_probes) == (1, went.size - 5)
    assert breaker.state == "open"
