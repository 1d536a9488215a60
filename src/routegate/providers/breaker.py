"""The circuit breaker of one provider (``policy.fallback.circuit_breaker``): one state machine.

Live calls drive it on the wall clock (``endpoint.Endpoint``, one call at a time as calls start
and end); the fault injector drives it on the virtual clock (``faults.walk``, jumping from one
breaker event to the next over a batch's calls sorted by start). Both therefore follow the same
rules (docs/policy.md, "Breaker"):

- closed: calls go through; ``failures`` failed calls in a row open it, when the last of them ends;
- open: calls fail at once, with no request, until ``cooldown_s`` after it opened;
- half-open: the next call is the probe; calls starting while it is in flight fail at once; the
  probe's success closes the breaker with a zero count, its failure opens it for another cooldown.

A call let through gets a ``Ticket``; its outcome is handed back with it (``settle``). A call that
started before the breaker last changed state (e.g. in flight when it opened) is stale: it goes
on, and its outcome changes nothing. Time is whatever unit the caller's clock counts in
(``per_second``): seconds live, milliseconds on the injector's virtual clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from routegate.load.policy import CircuitBreaker

BREAKER_KINDS: tuple[str, ...] = ("timeout", "rate_limit", "server_error")
"""Error kinds of a call's final outcome that count as a failed call: the provider looks down. Any
other answer (a refusal, a 400) shows it is up and resets the run of failures."""


@dataclass(frozen=True)
class Ticket:
    """A call the breaker let through; hand it back with the call's outcome (``Breaker.settle``)."""

    generation: int
    """The breaker's count of state changes when it let the call through: once it changes state
    again, the ticket is stale and its outcome changes nothing."""
    probe: bool
    """Whether the call is the half-open probe."""


class Breaker:
    """One provider's circuit breaker (see the module docstring), initially closed with a zero count."""

    def __init__(self, config: CircuitBreaker, *, per_second: float = 1.0) -> None:
        """``per_second``: clock units per second (1 for seconds, 1000 for milliseconds)."""
        self.failures = config.failures
        """Failed calls in a row that open the breaker."""
        self.cooldown = config.cooldown_s * per_second
        """How long it stays open before the probe, in clock units."""
        self.streak = 0
        """Failed calls in a row so far (while closed)."""
        self.opened_at: float | None = None
        """When it last opened; ``None`` while closed."""
        self.probing = False
        """Whether the probe is in flight (half-open)."""
        self.generation = 0
        """State changes so far (what makes a ticket stale)."""
        self.trips = 0
        """Times it opened after ``failures`` failed calls in a row."""
        self.failed_probes = 0
        """Probes that failed (each opened it again)."""

    @property
    def state(self) -> str:
        """``closed``, ``open`` (cooling down, or cooled down with no probe yet) or ``half-open``."""
        if self.opened_at is None:
            return "closed"
        return "half-open" if self.probing else "open"

    @property
    def cooldown_end(self) -> float:
        """When the cooldown ends and the next call is the probe; ``-inf`` while closed."""
        return -float("inf") if self.opened_at is None else self.opened_at + self.cooldown

    @property
    def failures_to_trip(self) -> int:
        """How many more failed calls in a row open the (closed) breaker."""
        return self.failures - self.streak

    def admit(self, now: float) -> Ticket | None:
        """Let a call starting at ``now`` through (its ticket), or ``None``: it fails at once."""
        if self.opened_at is None:
            return Ticket(self.generation, probe=False)
        if self.probing or now < self.opened_at + self.cooldown:
            return None
        self.probing = True
        return Ticket(self.generation, probe=True)

    def settle(self, ticket: Ticket, failed: bool, now: float) -> None:
        """Count the outcome of the call holding ``ticket``, which ended at ``now``; ``failed``: its
        final outcome (after retries) is one of ``BREAKER_KINDS``."""
        if ticket.generation != self.generation:
            return  # started before the last state change: it went on, and counts neither way
        if ticket.probe:
            self.probing = False
            if failed:
                self.failed_probes += 1
                self._open(now)
            else:
                self.opened_at = None
                self.streak = 0
                self.generation += 1
            return
        if not failed:
            self.streak = 0
            return
        self.streak += 1
        if self.streak >= self.failures:
            self.trips += 1
            self.streak = 0
            self._open(now)

    def _open(self, now: float) -> None:
        self.opened_at = now
        self.generation += 1
