"""The examples section of report.html: the largest regressions and improvements, as plain text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from routegate.report.html.cells import show_points, show_share
from routegate.units import MISSING


def _text_or_none(x: Any) -> str:
    return "(no response)" if x is None else str(x)


def example_lists(verdict: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """``regressions`` and ``improvements``: per request its prompt, and each side's tier, model, quality, response."""
    examples = verdict.get("examples") or {}
    out: dict[str, list[dict[str, Any]]] = {}
    for kind in ("regressions", "improvements"):
        items = []
        for ex in examples.get(kind) or []:
            b, c = ex.get("baseline") or {}, ex.get("candidate") or {}
            items.append(
                {
                    "suite": str(ex.get("suite", "")),
                    "id": str(ex.get("example_id", "")),
                    "delta": show_points(ex.get("delta"), 1),
                    "prompt": _text_or_none(ex.get("prompt")),
                    "sides": [
                        {
                            "run": run,
                            "tier": str(s.get("tier") or "(failed)"),
                            "model": str(s.get("model") or MISSING),
                            "quality": show_share(s.get("quality")),
                            "response": _text_or_none(s.get("response")),
                        }
                        for run, s in (("baseline", b), ("candidate", c))
                    ],
                }
            )
        out[kind] = items
    return out
