"""Drills: fault scenarios (outages, error storms, slow providers, price shocks) and the injector.

``scenario`` is the YAML schema, ``builtin`` the scenarios routegate generates
from a policy, ``resolve`` which scenarios a drill runs, ``injector`` the ``Provider``
wrapper that applies a scenario on the run's virtual clock (``walk``: its circuit
breaker over a batch). docs/faults.md documents them.
"""

from routegate.faults.injector import FaultInjector, FaultStats
from routegate.faults.scenario import Scenario, load_scenario

__all__ = ["FaultInjector", "FaultStats", "Scenario", "load_scenario"]
