"""Which fault scenarios a drill runs: ``--scenario`` values parsed before any work, then resolved.

A value is a scenario file (loaded and checked at once) or a built-in name (``builtin`` for all);
built-ins are generated from the policies' providers, the no-fault run's busiest provider and the
suites' arrival span (``faults.builtin``). docs/faults.md lists them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from routegate.errors import InputError
from routegate.faults.builtin import BUILTIN, builtin_scenarios
from routegate.faults.scenario import Scenario, load_scenario
from routegate.load.policy import Policy
from routegate.load.suite import Suite

ScenarioArg = Scenario | str
"""A loaded scenario file, or a built-in name (``builtin`` or one scenario) resolved after the no-fault run."""


def parse_scenario_args(args: Sequence[str], policies: Sequence[Policy]) -> list[ScenarioArg]:
    """``--scenario`` values: a file (loaded and checked now, before any work) or a built-in name."""
    out: list[ScenarioArg] = []
    for arg in args:
        if Path(arg).is_file() or arg.startswith("git:"):
            scenario = load_scenario(arg, policies[0].catalog)
            out.append(scenario)
        elif arg == BUILTIN or ("-" in arg and not arg.endswith((".yaml", ".yml"))):
            out.append(arg)
        else:
            raise InputError.single(arg, "no such scenario file; give a YAML file, 'builtin' or a built-in name")
    return out


def used_providers(policies: Sequence[Policy]) -> list[str]:
    """Providers of the models the policies' tiers use, sorted."""
    return sorted({p.catalog.provider_of(m) for p in policies for t in p.spec.tiers.values() for m in t.models})


def run_span_ms(suites: Sequence[Suite]) -> float:
    """The longest arrival span of the suites (each suite is its own stream of traffic)."""
    spans = [0.0]
    for s in suites:
        arrival = s.examples.column("arrival_ms").to_numpy(zero_copy_only=False)
        if arrival.size:
            spans.append(float(np.max(arrival) - np.min(arrival)))
    return max(spans)


def resolve_scenarios(
    args: Sequence[ScenarioArg], policies: Sequence[Policy], calls: Mapping[str, int], suites: Sequence[Suite]
) -> list[Scenario]:
    """Built-in names expanded, files as loaded. ``calls``: calls per provider in the no-fault run of the
    policy under test (its busiest provider gets the built-in rate-limit scenario)."""
    busiest = max(sorted(calls), key=lambda p: calls[p]) if calls else None
    builtins = builtin_scenarios(used_providers(policies), busiest, run_span_ms(suites))
    by_name = {s.name: s for s in builtins}
    out: list[Scenario] = []
    for arg in args:
        if isinstance(arg, Scenario):
            out.append(arg)
        elif arg == BUILTIN:
            out += builtins
        elif arg in by_name:
            out.append(by_name[arg])
        else:
            raise InputError.single(
                arg, f"unknown scenario {arg!r}: not a file, and the built-in names are: {', '.join(by_name)}"
            )
    names = [s.name for s in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError.single(",".join(dupes), "the same scenario name is given twice")
    return out
