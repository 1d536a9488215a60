"""Turning a parsed YAML document into a validated, frozen pydantic model.

Pydantic reports errors by location tuple (``("tiers", "fast", "models", 0)``);
``YamlDocument`` knows the line and column of each such tuple, so every
schema error becomes a ``Problem`` at ``file:line:col``.
"""

from __future__ import annotations

from types import UnionType
from typing import Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError

from routegate.errors import InputError, Problem
from routegate.load.yamlsource import YamlDocument

M = TypeVar("M", bound=BaseModel)


class Frozen(BaseModel):
    """Base of every schema model: immutable, strict about unknown fields, no NaN."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, strict=False)


PATTERN_HINTS: dict[str, str] = {}
"""Regex -> what it means in words, for ``string_pattern_mismatch`` messages (see :func:`pattern`)."""
_UNECHOED: set[str] = set()
"""Patterns whose mismatching input is not repeated in the message (it may be a secret)."""


def pattern(regex: str, meaning: str, *, echo: bool = True) -> str:
    """Register what ``regex`` means to a user and return it, for ``Field(pattern=pattern(...))``.

    ``echo=False`` keeps the offending value out of the message (e.g. an API key
    pasted where the name of its environment variable belongs), so it never
    reaches a CI log.
    """
    PATTERN_HINTS[regex] = meaning
    if not echo:
        _UNECHOED.add(regex)
    return regex


_TYPE_WORDS = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "string": "a string",
    "dict": "a mapping (key: value)",
    "model": "a mapping (key: value)",
    "list": "a list",
    "tuple": "a list",
    "date": "a date (YYYY-MM-DD)",
}


def _got(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return f"{value!r}"


def _describe(error: Any) -> str:
    """A pydantic error as a sentence that says what is allowed and what was found."""
    kind: str = error["type"]
    msg: str = error["msg"]
    ctx: dict[str, Any] = error.get("ctx") or {}
    got = _got(error.get("input"))
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "required field is missing"
    if kind == "finite_number":
        return "must be a finite number (not NaN or infinity)"
    bounds = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}
    for key, op in bounds.items():
        if kind == key:
            limit = next(iter(ctx.values()), "?")
            shown = f"{limit:g}" if isinstance(limit, float) else str(limit)
            return f"must be {op} {shown}, got {got}"
    if kind == "literal_error":
        return f"got {got}; allowed: {ctx.get('expected', '?')}"
    if kind == "string_pattern_mismatch":
        regex = str(ctx.get("pattern", ""))
        meaning = PATTERN_HINTS.get(regex, f"a string matching {regex}")
        return f"must be {meaning} (value not shown)" if regex in _UNECHOED else f"got {got}; must be {meaning}"
    if kind == "too_short":
        return f"must hold at least {ctx.get('min_length', 1)} item(s)"
    if kind == "too_long":
        return f"must hold at most {ctx.get('max_length', '?')} item(s)"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    for prefix, words in _TYPE_WORDS.items():
        if kind.startswith(prefix + "_") or kind == prefix:
            return f"must be {words}, got {got}"
    return msg[0].lower() + msg[1:] if msg else kind


def validate_document(model: type[M], doc: YamlDocument, *, allowed: dict[str, str] | None = None) -> M:
    """Validate ``doc.data`` against ``model``; raise ``InputError`` with positioned problems.

    ``allowed`` maps a top-level model name to a hint appended to ``unknown field``
    messages (the list of fields that are allowed there).
    """
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        problems: list[Problem] = []
        errors = exc.errors()
        locs = [tuple(part for part in e["loc"] if not (isinstance(part, str) and "[" in part)) for e in errors]
        for error, loc in zip(errors, locs, strict=True):
            if error["type"] == "too_short" and any(f[: len(loc)] == loc and len(f) > len(loc) for f in locs):
                continue  # a list emptied by its own invalid items: the item errors say it all
            message = _describe(error)
            if error["type"] == "extra_forbidden":
                fields = _fields_at(model, loc[:-1])
                if fields:
                    message += f"; allowed here: {', '.join(fields)}"
                problems.append(doc.problem(loc, message, key=True))
            else:
                # A bad mapping key (pydantic's loc ends in "[key]") points at the key, not its value.
                problems.append(doc.problem(loc, message, key=error["loc"][-1:] == ("[key]",)))
        raise InputError(sorted(set(problems))) from None


def _fields_at(model: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    """The field names allowed at ``loc`` inside ``model`` (best effort, for hints)."""
    annotation: Any = model
    for part in loc:
        annotation = _strip_none(annotation)
        origin = get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            info = annotation.model_fields.get(str(part))
            if info is None:
                return []
            annotation = info.annotation
        elif origin is dict:
            annotation = get_args(annotation)[1]
        elif origin in (list, tuple):
            annotation = get_args(annotation)[0]
        else:
            return []
    annotation = _strip_none(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return sorted(f.alias or name for name, f in annotation.model_fields.items())
    return []


def _strip_none(annotation: Any) -> Any:
    """``X | None`` -> ``X``."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) in (Union, UnionType) and len(args) == 1:
        return args[0]
    return annotation
