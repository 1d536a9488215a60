"""The last sections of report.html: the policy diff and the provenance of every input."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from routegate._version import __version__
from routegate.units import format_count
from routegate.writer import clean_json

MAX_DIFF_LINES = 2000
"""Lines of the policy diff shown; a longer diff is cut and says so."""
MAX_DIFF_CHARS = 200_000
"""Characters of the policy diff read; a longer diff is cut and says so."""


def diff_lines(policy_diff: str) -> dict[str, Any]:
    """The unified diff of the two policy files, one classified line each (meta, hunk, add, del, ctx), capped."""
    text = policy_diff[:MAX_DIFF_CHARS]
    lines = text.splitlines()
    truncated = len(policy_diff) > MAX_DIFF_CHARS or len(lines) > MAX_DIFF_LINES
    rows = []
    for line in lines[:MAX_DIFF_LINES]:
        if line.startswith(("+++", "---")):
            cls = "meta"
        elif line.startswith("@@"):
            cls = "hunk"
        elif line.startswith("+"):
            cls = "add"
        elif line.startswith("-"):
            cls = "del"
        else:
            cls = "ctx"
        rows.append({"cls": cls, "text": line})
    added = sum(r["cls"] == "add" for r in rows)
    removed = sum(r["cls"] == "del" for r in rows)
    return {"lines": rows, "truncated": truncated, "added": added, "removed": removed}


def _count(x: Any) -> str:
    return format_count(int(x or 0))


def provenance(verdict: Mapping[str, Any]) -> dict[str, Any]:
    """Both policies, every suite, the gates configuration, the seed, missing recordings and versions."""
    policies = []
    for side in ("baseline", "candidate"):
        p = verdict[side]["policy"]
        policies.append(
            {
                "role": side,
                **{k: str(p.get(k, "")) for k in ("name", "version", "source", "sha256", "catalog", "catalog_sha256")},
            }
        )
    suites = [
        {
            "name": str(s.get("name", "")),
            "version": str(s.get("version", "")),
            "sha256": str(s.get("sha256", "")),
            "examples": _count(s.get("examples")),
            "recordings": _count(s.get("recordings")),
        }
        for s in verdict.get("suites") or []
    ]
    cfg = verdict.get("gates_config") or {}
    missing = verdict.get("missing_recordings") or {}
    return {
        "policies": policies,
        "suites": suites,
        "gates_source": str(cfg.get("source", "(unknown)")),
        "gates_spec": json.dumps(clean_json(cfg.get("spec")), sort_keys=True, indent=2, ensure_ascii=False),
        "seed": str(verdict.get("seed", "")),
        "schema_version": str(verdict.get("schema_version", "")),
        "missing_b": _count((missing.get("baseline") or {}).get("total")),
        "missing_c": _count((missing.get("candidate") or {}).get("total")),
        "version": __version__,
    }
