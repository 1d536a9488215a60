"""What a replaying command reads before any work: its suites (each once), its fault scenarios, its providers.

``routegate run``, ``gate`` and ``drill`` load and check everything here
first, so that bad input stops a command before any replay (exit code 2).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # loaded on use: ``routegate --help`` imports none of the pipeline
    from routegate.faults.resolve import ScenarioArg
    from routegate.load.policy import Policy
    from routegate.load.suite import Suite


def load_suites(paths: Sequence[str]) -> list[Suite]:
    """Load every suite once (``pipeline.load_suites``); the same suite twice is bad input."""
    from routegate.pipeline import load_suites as load_each

    return load_each(paths)


def parse_scenarios(args: Sequence[str], policies: Sequence[Policy]) -> list[ScenarioArg]:
    """``--scenario`` values: files loaded and checked now, built-in names kept (none: no drill)."""
    if not args:
        return []
    from routegate.faults.resolve import parse_scenario_args

    return parse_scenario_args(args, policies)


def select_providers(providers: str) -> tuple[AbstractContextManager[object], dict[str, Any]]:
    """``--providers live``: a live provider factory (closed on exit) and the ``RunOptions`` fields that
    select it (a live run needs no recordings); ``recorded``: nothing to close, no fields."""
    if providers != "live":
        return contextlib.nullcontext(), {}
    from routegate.providers.live import LiveFactory

    factory = LiveFactory()
    return factory, {"provider": factory, "recorded": False}
