"""Shared fixtures: a small valid catalog, policy and suite written into a folder, and a CLI runner.

Other test files import the helpers directly (``from conftest import write_policy``)
or use the fixtures below. Every helper returns the path it wrote.
"""

from __future__ import annotations

import atexit
import copy
import functools
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CHANGES = ROOT / "docs" / "changes"
"""The example pull requests (docs/changes/README.md): patches of the production policies in policies/."""


@functools.cache
def changed_policy(change: str) -> Path:
    """The production policy that ``docs/changes/<change>.patch`` edits, with the patch applied.

    The patch is applied with ``git apply`` to a copy of ``policies/`` (so the catalog sits beside
    the changed file, as in the repository) in a temporary folder removed when the tests end.
    """
    patch = CHANGES / f"{change}.patch"
    (target,) = [line[len("+++ b/") :] for line in patch.read_text().splitlines() if line.startswith("+++ b/")]
    folder = Path(tempfile.mkdtemp(prefix=f"routegate-{change}-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    shutil.copytree(ROOT / "policies", folder / "policies")
    subprocess.run(["git", "apply", str(patch)], cwd=folder, check=True, capture_output=True)
    return folder / target


CATALOG: dict[str, Any] = {
    "version": "2024-06-01",
    "description": "Test catalog",
    "providers": {
        "openai": {"api": "openai", "base_url": "https://api.openai.com/v1", "api_key_env": "OPENAI_API_KEY"},
        "anthropic": {"api": "anthropic", "api_key_env": "ANTHROPIC_API_KEY"},
        "local": {"api": "openai", "base_url": "http://localhost:8000/v1"},
    },
    "models": {
        "gpt-small": {
            "provider": "openai",
            "privacy": "external",
            "price": {
                "input_per_1m": 0.15,
                "output_per_1m": 0.6,
                "source": "https://openai.com/pricing",
                "as_of": "2024-06-01",
            },
            "context_window": 128000,
        },
        "gpt-big": {
            "provider": "openai",
            "privacy": "external",
            "price": {
                "input_per_1m": 5.0,
                "output_per_1m": 15.0,
                "source": "https://openai.com/pricing",
                "as_of": "2024-06-01",
            },
            "context_window": 128000,
        },
        "claude-mid": {
            "provider": "anthropic",
            "privacy": "external",
            "price": {
                "input_per_1m": 3.0,
                "output_per_1m": 15.0,
                "source": "https://anthropic.com/pricing",
                "as_of": "2024-06-01",
            },
            "context_window": 200000,
        },
        "llama-local": {
            "provider": "local",
            "privacy": "private",
            "price": {
                "input_per_1m": 0.1,
                "output_per_1m": 0.1,
                "source": "internal GPU cost sheet",
                "as_of": "2024-06-01",
            },
            "context_window": 8192,
        },
        "qwen-local": {
            "provider": "local",
            "privacy": "private",
            "price": {
                "input_per_1m": 0.2,
                "output_per_1m": 0.2,
                "source": "internal GPU cost sheet",
                "as_of": "2024-06-01",
            },
            "context_window": 32768,
        },
    },
}

POLICY: dict[str, Any] = {
    "name": "test-policy",
    "version": "1.0.0",
    "description": "A small policy for tests",
    "owner": "routing-team",
    "catalog": "models.yaml",
    "tiers": {
        "fast": {"models": ["gpt-small", "claude-mid"]},
        "balanced": {"models": ["claude-mid", "gpt-big"]},
        "reasoning": {"models": ["gpt-big", "claude-mid"]},
        "private": {"models": ["llama-local", "qwen-local"], "private": True},
    },
    "rules": [
        {"name": "pii-stays-home", "when": {"pii": True}, "tier": "private"},
        {"name": "hard-math", "when": {"task_type": ["math"], "stakes": ["high"]}, "tier": "reasoning"},
        {"name": "long-inputs", "when": {"input_tokens_min": 1000}, "tier": "balanced"},
        {"name": "chat-fast", "when": {"task_type": ["chat"]}, "tier": "fast"},
    ],
    "default_tier": "balanced",
    "escalation": {
        "steps": [
            {"from": "fast", "to": "balanced", "below_confidence": 0.6},
            {"from": "balanced", "to": "reasoning", "below_confidence": 0.5},
        ],
        "always_for_stakes": ["high"],
        "max_escalations": 2,
    },
    "fallback": {"on": ["timeout", "rate_limit", "server_error"]},
    "sla": {"interactive": {"latency_budget_ms": 5000}, "batch": {"latency_budget_ms": 60000}},
}

MANIFEST: dict[str, Any] = {
    "name": "tiny",
    "version": "1.0.0",
    "description": "A tiny suite for tests",
    "source": {"repository": "https://example.org/tiny", "license": "CC0-1.0"},
    "examples": "examples.parquet",
    "recordings": "recordings.parquet",
    "slices": ["task_type"],
    "scoring": {"scorer": "judge"},
    "columns": {"measured": ["latency_ms"], "modelled": {"quality": "judged by a test"}},
}


def example_row(i: int, **overrides: Any) -> dict[str, Any]:
    """One valid example row with id ``ex{i}``."""
    row: dict[str, Any] = {
        "id": f"ex{i}",
        "messages": [{"role": "user", "content": f"question number {i}"}],
        "task_type": "chat",
        "pii": False,
        "stakes": "normal",
        "sla": "interactive",
        "tags": [],
        "reference": None,
    }
    row.update(overrides)
    return row


def recording_row(example_id: str, model: str, **overrides: Any) -> dict[str, Any]:
    """One valid, successful recording row."""
    row: dict[str, Any] = {
        "example_id": example_id,
        "model": model,
        "response": f"answer from {model}",
        "input_tokens": 12,
        "output_tokens": 30,
        "latency_ms": 250.0,
        "error": "",
        "confidence": 0.9,
        "quality": 0.8,
    }
    row.update(overrides)
    return row


def default_examples(n: int = 4) -> list[dict[str, Any]]:
    return [example_row(i) for i in range(n)]


def default_recordings(
    examples: Sequence[Mapping[str, Any]], models: Sequence[str] = ("gpt-small",)
) -> list[dict[str, Any]]:
    return [recording_row(str(ex["id"]), m) for ex in examples for m in models]


def dump_yaml(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with top-level keys replaced; a value of ``None`` removes the key."""
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = copy.deepcopy(value)
    return out


def catalog_data(**overrides: Any) -> dict[str, Any]:
    return _merge(CATALOG, overrides)


def policy_data(**overrides: Any) -> dict[str, Any]:
    return _merge(POLICY, overrides)


def write_catalog(folder: Path, name: str = "models.yaml", **overrides: Any) -> Path:
    """Write the test catalog (top-level keys replaced by ``overrides``) to ``folder/name``."""
    return dump_yaml(Path(folder) / name, catalog_data(**overrides))


def write_policy(folder: Path, name: str = "policy.yaml", **overrides: Any) -> Path:
    """Write the test policy (top-level keys replaced by ``overrides``; ``None`` drops a key)."""
    return dump_yaml(Path(folder) / name, policy_data(**overrides))


def write_table(path: Path, rows: Sequence[Mapping[str, Any]], schema: pa.Schema | None = None) -> Path:
    """Rows -> parquet (or JSON Lines when ``path`` ends in .jsonl)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".jsonl":
        import json

        path.write_text("".join(json.dumps(dict(r)) + "\n" for r in rows), encoding="utf-8")
        return path
    table = pa.Table.from_pylist([dict(r) for r in rows], schema=schema)
    pq.write_table(table, path)
    return path


def write_suite(
    folder: Path,
    examples_rows: Sequence[Mapping[str, Any]] | None = None,
    recordings_rows: Sequence[Mapping[str, Any]] | None = None,
    **manifest_overrides: Any,
) -> Path:
    """Write a suite folder (suite.yaml + examples + recordings) and return the folder.

    Rows default to four chat examples recorded on ``gpt-small``. Manifest keys
    may be overridden (``None`` drops a key); table file names follow the manifest.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = _merge(MANIFEST, manifest_overrides)
    examples = list(examples_rows) if examples_rows is not None else default_examples()
    recordings = list(recordings_rows) if recordings_rows is not None else default_recordings(examples)
    dump_yaml(folder / "suite.yaml", manifest)
    write_table(folder / manifest.get("examples", "examples.parquet"), examples)
    write_table(folder / manifest.get("recordings", "recordings.parquet"), recordings)
    return folder


def write_project(folder: Path, **policy_overrides: Any) -> Path:
    """Catalog + policy in ``folder``; returns the policy path."""
    write_catalog(folder)
    return write_policy(folder, **policy_overrides)


def random_router(
    folder: Path,
    share: float,
    seed: int,
    *,
    strong: str = "gpt-4-1106-preview",
    weak: str = "mixtral-8x7b-instruct-v0.1",
    fallback: bool = False,
    private: str | None = None,
) -> Path:
    """A policy that sends ``share`` of requests (by a seeded hash of the id) to ``strong`` and the rest to
    ``weak``, written in ``folder`` (beside the bundled catalog unless the folder has its own). Two with
    the same share and other seeds have equal expected quality, cost and latency (an A/A pair).
    ``fallback``: each tier falls back to the other model; ``private``: PII requests stay on that model."""
    if not (folder / "models.yaml").exists():
        shutil.copy(ROOT / "policies" / "models.yaml", folder / "models.yaml")
    tiers: dict[str, Any] = {
        "fast": {"models": [weak, strong] if fallback else [weak]},
        "reasoning": {"models": [strong, weak] if fallback else [strong]},
    }
    rules: list[dict[str, Any]] = []
    if private is not None:
        tiers["private"] = {"private": True, "models": [private]}
        rules.append({"name": "pii", "when": {"pii": True}, "tier": "private"})
    rules.append({"name": "coin", "when": {"traffic": {"share": share, "seed": seed}}, "tier": "reasoning"})
    data: dict[str, Any] = {
        "name": f"random-{seed}",
        "version": "1",
        "owner": "tests",
        "catalog": "models.yaml",
        "tiers": tiers,
        "rules": rules,
        "default_tier": "fast",
    }
    if fallback:
        data["fallback"] = {"on": ["timeout", "rate_limit", "server_error"]}
    kind = "-fallback" if fallback else ""
    return dump_yaml(folder / f"random-{strong}-{weak}-{share:.4f}-{seed}{kind}.yaml", data)


def routegate_exe() -> str:
    """The ``routegate`` console script of the running interpreter's environment."""
    beside = Path(sys.executable).parent / "routegate"
    if beside.exists():
        return str(beside)
    found = shutil.which("routegate")
    if found is None:
        pytest.fail("the routegate console script is not installed (pip install -e .)")
    return found


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def problem_lines(self) -> list[str]:
        """stderr lines that are problems (``file:line:col: field: message``), not the summary."""
        return [line for line in self.stderr.splitlines() if not line.endswith("item(s) passed")]


def run_cli(*args: str, cwd: Path | None = None) -> Run:
    """Run the real CLI as a subprocess; never raises on a non-zero exit."""
    result = subprocess.run([routegate_exe(), *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=120)
    return Run(result.returncode, result.stdout, result.stderr)


@pytest.fixture
def cli() -> Callable[..., Run]:
    return run_cli


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder holding models.yaml and a valid policy.yaml; returns the policy path."""
    return write_project(tmp_path)


@pytest.fixture
def suite_dir(tmp_path: Path) -> Path:
    """A valid suite folder with four examples recorded on gpt-small."""
    return write_suite(tmp_path / "suite")
