"""The built-in scenarios, generated from the providers a policy uses and its no-fault run.

``--scenario builtin`` selects them all; each is also selectable by name:

* ``<provider>-down``: the provider returns 503 for the whole run;
* ``<provider>-down-2h``: 503 for 2 hours, from 10% of the run's span;
* ``rate-limit-<busiest>``: 30% of calls to the busiest provider (most calls in the no-fault
  run) get 429 with ``Retry-After: 2``;
* ``<provider>-price-x3``: the provider's prices triple from the start.
"""

from __future__ import annotations

from collections.abc import Sequence

from routegate.faults.scenario import Errors, Outage, PriceShock, Scenario

BUILTIN = "builtin"
"""The ``--scenario`` value that selects every built-in scenario."""
RATE_LIMIT_SHARE = 0.3
RETRY_AFTER_S = 2.0
PRICE_MULTIPLIER = 3.0


def builtin_scenarios(providers: Sequence[str], busiest: str | None, span_ms: float, seed: int = 0) -> list[Scenario]:
    """Every built-in scenario for ``providers`` (sorted), in a fixed order."""
    out: list[Scenario] = []
    start = 0.1 * max(span_ms, 0.0)
    for p in sorted(providers):
        out.append(
            Scenario(
                name=f"{p}-down",
                description=f"{p} is down for the whole run",
                seed=seed,
                faults=(Outage(type="outage", provider=p),),
            )
        )
        out.append(
            Scenario(
                name=f"{p}-down-2h",
                description=f"{p} is down for 2 hours",
                seed=seed,
                faults=(Outage(type="outage", provider=p, start=f"{start:.3f}ms", duration="2h"),),
            )
        )
    if busiest is not None:
        out.append(
            Scenario(
                name=f"rate-limit-{busiest}",
                description=f"{RATE_LIMIT_SHARE:.0%} of calls to {busiest} are rate limited",
                seed=seed,
                faults=(
                    Errors(
                        type="errors",
                        provider=busiest,
                        kind="rate_limit",
                        rate=RATE_LIMIT_SHARE,
                        retry_after_s=RETRY_AFTER_S,
                    ),
                ),
            )
        )
    for p in sorted(providers):
        out.append(
            Scenario(
                name=f"{p}-price-x3",
                description=f"{p}'s prices triple",
                seed=seed,
                faults=(PriceShock(type="price", provider=p, multiplier=PRICE_MULTIPLIER),),
            )
        )
    return out
