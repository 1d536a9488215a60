"""The scorer contract: ``ScoreInput`` in, one float64 per row out.

A scorer is any object with ``__call__(inp, options) -> np.ndarray`` and
``validate_options(options) -> None``; the ``Scorer`` protocol adds two attributes that say what
it reads, which an object loaded without them gets by default (``as_scorer``). Values are in
[0, 1]; NaN means "could not be scored" (e.g. no reference to compare with).
A null response (the request got no answer) scores 0 for every scorer except
``judge``. ``OptionsScorer`` is the optional base class the built-ins use: it
validates options with a pydantic model and turns its errors into ``InputError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeAlias, TypeVar, runtime_checkable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, ValidationError

from routegate.errors import InputError, Problem

Column: TypeAlias = "pa.Array | pa.ChunkedArray"
"""An Arrow column, chunked or not (pyarrow has no type stubs, so this is ``Any`` to mypy)."""
OPTIONS_FIELD = "scoring.options"
"""Field path that option problems are reported under (``scoring.options.pattern``)."""


@dataclass(frozen=True)
class ScoreInput:
    """The columns a scorer sees, one row per request, all the same length."""

    response: Column
    """The final answer text (string); null where the request got no answer."""
    reference: Column | None = None
    """The example's reference answer (string, nullable); ``None`` when the suite has none."""
    recorded: Column | None = None
    """The recording's pre-judged quality (float64 in [0, 1], nullable); ``None`` when not recorded."""

    def __post_init__(self) -> None:
        n = len(self.response)
        for name in ("reference", "recorded"):
            column = getattr(self, name)
            if column is not None and len(column) != n:
                raise ValueError(f"ScoreInput.{name} has {len(column)} rows, response has {n}")

    def __len__(self) -> int:
        return len(self.response)


@runtime_checkable
class _Scores(Protocol):
    """The two methods every scorer has (what docs/scoring.md asks of a third-party one)."""

    def __call__(self, inp: ScoreInput, options: Mapping[str, Any]) -> np.ndarray: ...

    def validate_options(self, options: Mapping[str, Any]) -> None: ...


@runtime_checkable
class Scorer(Protocol):
    """What the engine sees of a scorer: the two methods and what it reads."""

    reads_response: bool
    """Whether the scorer reads ``inp.response``. ``False`` (``judge``): the engine does not gather
    millions of answer texts nobody reads. Default (``OptionsScorer``, ``as_scorer``): ``True``."""
    passes_recorded_quality: bool
    """Whether the scorer scores every row with its recorded quality, unchanged (NaN where none was
    recorded), whatever else the row holds. ``True`` (``judge``): the engine takes that column as
    the scores itself, with no round trip through Arrow (``ScoreInput.recorded``) and back.
    Default (``OptionsScorer``, ``as_scorer``): ``False``."""

    def __call__(self, inp: ScoreInput, options: Mapping[str, Any]) -> np.ndarray:
        """One float64 per row of ``inp``, in [0, 1], NaN where the row could not be scored."""
        ...

    def validate_options(self, options: Mapping[str, Any]) -> None:
        """Raise ``InputError`` (field ``scoring.options...``) when ``options`` are wrong."""
        ...


@dataclass  # not frozen: the protocol's attributes are plain (settable) ones
class _WithDefaults:
    """A loaded scorer that lacks one of the ``Scorer`` attributes, with its default."""

    inner: _Scores
    """The loaded object (it answers both methods)."""
    reads_response: bool
    """The object's own value, else ``True``."""
    passes_recorded_quality: bool
    """The object's own value, else ``False``."""

    def __call__(self, inp: ScoreInput, options: Mapping[str, Any]) -> np.ndarray:
        return self.inner(inp, options)

    def validate_options(self, options: Mapping[str, Any]) -> None:
        self.inner.validate_options(options)


def as_scorer(obj: object) -> Scorer | None:
    """``obj`` as a ``Scorer``, or ``None`` when it lacks ``__call__`` or ``validate_options``.

    An object with both attributes is returned as it is; one without them (docs/scoring.md: the
    attributes are optional) is wrapped with the defaults, the safe answers: it reads the
    response and does not pass the recorded quality through.
    """
    if isinstance(obj, Scorer):
        return obj
    if not isinstance(obj, _Scores):
        return None
    reads = getattr(obj, "reads_response", True)
    passes = getattr(obj, "passes_recorded_quality", False)
    return _WithDefaults(obj, bool(reads), bool(passes))


def needs_response(scorer: Scorer) -> bool:
    """Whether ``scorer`` reads the response text (``Scorer.reads_response``)."""
    return scorer.reads_response


def passes_recorded_quality(scorer: Scorer) -> bool:
    """Whether ``scorer``'s scores are the recorded quality (``Scorer.passes_recorded_quality``)."""
    return scorer.passes_recorded_quality


class Options(BaseModel):
    """Base of a scorer's options model: immutable, strict about unknown fields, no NaN (as every
    routegate schema model is; scoring sits below the loader, so it has its own base)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, strict=False)


class NoOptions(Options):
    """A scorer that takes no options."""


OptionsT = TypeVar("OptionsT", bound=Options)


class OptionsScorer(Generic[OptionsT]):
    """Base for scorers whose options are a pydantic model (``options_model``)."""

    options_model: type[OptionsT]
    """The pydantic model the options are validated with."""
    reads_response = True
    """``Scorer.reads_response``: a subclass that never reads the response says ``False``."""
    passes_recorded_quality = False
    """``Scorer.passes_recorded_quality``: only a scorer that is exactly ``judge``'s pass-through says ``True``."""

    def validate_options(self, options: Mapping[str, Any]) -> None:
        self.parse_options(options)

    def parse_options(self, options: Mapping[str, Any]) -> OptionsT:
        try:
            return self.options_model.model_validate(dict(options))
        except ValidationError as exc:
            problems = []
            for error in exc.errors():
                path = ".".join(str(part) for part in error["loc"])
                field = f"{OPTIONS_FIELD}.{path}" if path else OPTIONS_FIELD
                message = "unknown option" if error["type"] == "extra_forbidden" else str(error["msg"])
                if error["type"] == "extra_forbidden":
                    message += f"; allowed: {', '.join(sorted(self.options_model.model_fields)) or 'none'}"
                problems.append(Problem("-", 0, 0, field, message))
            raise InputError(problems) from None

    def __call__(self, inp: ScoreInput, options: Mapping[str, Any]) -> np.ndarray:
        return self.score(inp, self.parse_options(options))

    def score(self, inp: ScoreInput, options: OptionsT) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


def binary_scores(hit: Column | np.ndarray, inp: ScoreInput, unscorable: np.ndarray | None = None) -> np.ndarray:
    """Hits -> float64 scores 1/0; NaN where ``unscorable`` (e.g. no reference); 0 where the response is null."""
    if not isinstance(hit, np.ndarray):
        hit = pc.fill_null(hit, False).to_numpy(zero_copy_only=False)
    values = np.asarray(hit, dtype=np.float64)
    if unscorable is not None:
        values[unscorable] = np.nan
    values[null_mask(inp.response, len(inp))] = 0.0
    return values


def null_mask(column: Column | None, n: int) -> np.ndarray:
    """True where ``column`` is null (everywhere when the column is absent)."""
    if column is None:
        return np.ones(n, dtype=bool)
    return np.asarray(pc.is_null(column).to_numpy(zero_copy_only=False), dtype=bool)


def strings(column: Column | None, n: int) -> Column:
    """``column`` as Arrow strings, or an all-null string array when absent."""
    if column is None:
        return pa.nulls(n, pa.string())
    return (
        column
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
        else pc.cast(column, pa.string())
    )
