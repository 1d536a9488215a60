"""The suite manifest, ``suite.yaml``: its schema, the slices it declares and its scorer check.

docs/suites.md documents every field.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from routegate.errors import InputError, Problem
from routegate.load.policy import Name
from routegate.load.schema import Frozen, pattern
from routegate.load.yamlsource import YamlDocument
from routegate.scoring import get_scorer

SUITE_FILE = "suite.yaml"

SemVer = Annotated[
    str,
    Field(
        pattern=pattern(r"^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$", "a semantic version MAJOR.MINOR.PATCH, e.g. 1.2.0")
    ),
]


class Provenance(Frozen):
    """Where the suite's data came from."""

    repository: str = Field(min_length=1)
    commit: str = ""
    path: str = ""
    license: str = Field(min_length=1)
    notes: str = ""


class Scoring(Frozen):
    """How quality (and, optionally, confidence) is computed for a response."""

    scorer: Name = "judge"
    """Registered scorer name: ``judge`` passes the recorded ``quality`` column through."""
    options: dict[str, Any] = Field(default_factory=dict)
    """Scorer options (e.g. ``pattern`` for ``regex``)."""
    confidence: Name | None = None
    """Scorer whose 0/1 score of a response serves as its confidence when the recording has none."""
    confidence_options: dict[str, Any] = {}
    """Options of the confidence scorer (it never sees the reference answer)."""


class ColumnNotes(Frozen):
    """suite.yaml's ``columns:`` block: which recorded columns were measured and which modelled (and how)."""

    measured: tuple[str, ...] = ()
    """Names of the columns that were measured."""
    modelled: dict[str, str] = Field(default_factory=dict)
    """Column name -> one sentence on how it was derived."""


class SuiteManifest(Frozen):
    """The contents of ``suite.yaml``."""

    name: Name
    version: SemVer
    description: str = ""
    source: Provenance
    examples: str = "examples.parquet"
    """Examples table, relative to the suite folder (``.parquet`` or ``.jsonl``)."""
    recordings: str = "recordings.parquet"
    """Recordings table, relative to the suite folder (``.parquet`` or ``.jsonl``)."""
    slices: tuple[str, ...] = ("task_type",)
    """Columns of the examples table that reports break results down by."""
    cluster: str | None = None
    """A column of the examples table whose equal values mark requests that are not independent (the
    turns of one conversation, the questions on one passage): paired intervals are then clustered by it
    (docs/gates.md). ``None``: every request is its own cluster."""
    scoring: Scoring = Scoring()
    columns: ColumnNotes = ColumnNotes()
    """Notes on how the recorded columns were obtained (never read by the replay)."""


BASE_SLICES: tuple[str, ...] = ("task_type", "pii", "stakes", "sla")
"""Request attributes every summary groups by (``Suite.slice_columns`` adds the suite's own slices)."""


def manifest_slice_columns(manifest: SuiteManifest) -> list[str]:
    """``BASE_SLICES``, then the manifest's own slices."""
    return list(BASE_SLICES) + [c for c in manifest.slices if c not in BASE_SLICES]


def check_scoring(manifest: SuiteManifest, doc: YamlDocument) -> None:
    """The scorer and confidence scorer exist and their options are valid; problems point into suite.yaml."""
    checks = [(manifest.scoring.scorer, manifest.scoring.options, "scorer", "options")]
    if manifest.scoring.confidence is not None:
        checks.append(
            (manifest.scoring.confidence, manifest.scoring.confidence_options, "confidence", "confidence_options")
        )
    problems: list[Problem] = []
    for name, options, name_field, options_field in checks:
        try:
            get_scorer(name).validate_options(options)
        except InputError as exc:
            for p in exc.problems:
                parts = p.field.split(".")
                if parts[:2] == ["scoring", "options"]:
                    path: tuple[str | int, ...] = ("scoring", options_field, *parts[2:])
                else:
                    path = ("scoring", name_field)
                problems.append(doc.problem(path, p.message))
    if problems:
        raise InputError(problems)
