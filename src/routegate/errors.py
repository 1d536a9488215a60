"""Errors that reach the user.

The exception tree, in one place::

    RoutegateError                 anything routegate raises on purpose
    └── InputError                 bad input: exit code 2, one line per problem
        └── (carries Problem objects: file:line:col: field.path: message)

Every other exception is a bug. The CLI turns an ``InputError`` into lines on
stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one input file."""

    file: str
    """The file as the user named it (or ``git:REF:path``)."""
    line: int
    """1-based line; 0 when the problem concerns the whole file."""
    col: int
    """1-based column; 0 when the problem concerns the whole file."""
    field: str
    """Dotted path of the field (``tiers.fast.models[0]``), or ``-`` for the file itself."""
    message: str
    """What is wrong and what is allowed."""
    severity: Severity = "error"

    def format(self) -> str:
        prefix = "" if self.severity == "error" else "warning: "
        return f"{self.file}:{self.line}:{self.col}: {self.field}: {prefix}{self.message}"


class RoutegateError(Exception):
    """Base class of the errors routegate raises on purpose."""


class InputError(RoutegateError):
    """Bad input; carries one or more problems. Exit code 2."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(p.format() for p in self.problems))

    @classmethod
    def single(cls, file: str, message: str, field: str = "-", line: int = 0, col: int = 0) -> InputError:
        return cls([Problem(file, line, col, field, message)])


def errors_only(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def format_path(path: Sequence[str | int]) -> str:
    """``("tiers", "fast", "models", 0)`` -> ``tiers.fast.models[0]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "-"
