"""The examples section of report.html: the largest regressions and improvements, as plain text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from routegate.report.html.cells import show_points, show_share
from routegate.units import MISSING


def _text_or_none(x: Any) -> str:
    return "(no prompt)" if x is None else str(x)


def _answer(side: Mapping[str, Any]) -> str:
    """The answer's text; without one, why: the request failed, or the suite records no answer texts
    (RouteLLM's MMLU: only which letter was right)."""
    if side.get("response") is not None:
        return str(side["response"])
    return (
        "(no answer: the request failed)" if side.get("model") is None else "(answer text not recorded in this suite)"
    )


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
                    "reference": None if ex.get("reference") is None else str(ex["reference"]),
                    "sides": [
                        {
                            "run": run,
                            "tier": str(s.get("tier") or "(failed)"),
                            "model": str(s.get("model") or MISSING),
                            "quality": show_share(s.get("quality")),
                            "response": _answer(s),
                        }
                        for run, s in (("baseline", b), ("candidate", c))
                    ],
                }
            )
        out[kind] = items
    return out
