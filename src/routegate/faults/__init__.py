"""Fault drills: scenarios (outages, error storms, slow providers, price shocks) and the injector.

``scenario`` is the YAML schema, ``builtin`` the scenarios routegate generates
from a policy, ``injector`` the ``Provider`` wrapper that applies a scenario on
the run's virtual clock. docs/faults.md documents all three.
"""

from routegate.faults.injector import FaultInjector, FaultStats
from routegate.faults.scenario import Scenario, load_scenario

__all__ = ["FaultInjector", "FaultStats", "Scenario", "load_scenario"]
