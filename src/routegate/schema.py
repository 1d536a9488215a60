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
from routegate.yamlsource import YamlDocument

M = TypeVar("M", bound=BaseModel)


class Frozen(BaseModel):
    """Base of every schema model: immutable, strict about unknown fields, no NaN."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, strict=False)


def _describe(error: Any) -> str:
    kind = error["type"]
    msg: str = error["msg"]
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "required field is missing"
    if kind == "finite_number":
        return "must be a finite number (not NaN or infinity)"
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
        for error in exc.errors():
            loc = tuple(part for part in error["loc"] if not (isinstance(part, str) and "[" in part))
            message = _describe(error)
            if error["type"] == "extra_forbidden":
                fields = _fields_at(model, loc[:-1])
                if fields:
                    message += f"; allowed here: {', '.join(fields)}"
                problems.append(doc.problem(loc, message, key=True))
            else:
                problems.append(doc.problem(loc, message))
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
