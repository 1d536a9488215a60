"""What a replaying command reads before any work: its suites (each once), its fault scenarios, its providers.

``routegate run``, ``gate`` and ``drill`` load and check everything here
first, so that bad input stops a command before any replay (exit code 2).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from routegate.errors import InputError

if TYPE_CHECKING:  # loaded on use: ``routegate --help`` imports none of the pipeline
    from routegate.drill import ScenarioArg
    from routegate.load.policy import Policy
    from routegate.load.suite import Suite


def load_suites(paths: Sequence[str], policies: Sequence[Policy] | None = None) -> list[Suite]:
    """Load every suite once; the same suite twice is bad input. ``policies``: planned over each suite
    while it loads (``pipeline.plan_while_loading``)."""
    from routegate.load.suite import load_suite
    from routegate.pipeline import plan_while_loading

    prepare = plan_while_loading(policies) if policies else None
    suites = [load_suite(p, prepare=prepare) for p in paths]
    names = [s.name for s in suites]
    if len(set(names)) != len(names):
        raise InputError.single(",".join(paths), "the same suite is given twice")
    return suites


def parse_scenarios(args: Sequence[str], policies: Sequence[Policy]) -> list[ScenarioArg]:
    """``--scenario`` values: files loaded and checked now, built-in names kept (none: no drill)."""
    if not args:
        return []
    from routegate.drill import parse_scenario_args  # only a drill needs the fault machinery

    return parse_scenario_args(args, policies)


def select_providers(providers: str) -> tuple[AbstractContextManager[object], dict[str, Any]]:
    """``--providers live``: a live provider factory (closed on exit) and the ``RunOptions`` fields that
    select it (a live run needs no recordings); ``recorded``: nothing to close, no fields."""
    if providers != "live":
        return contextlib.nullcontext(), {}
    from routegate.providers.live import LiveFactory

    factory = LiveFactory()
    return factory, {"provider": factory, "recorded": False}
