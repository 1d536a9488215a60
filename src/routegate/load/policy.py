"""Routing policies: the schema, the cross-reference checks, loading and the canonical hash.

A policy file names a catalog, defines tiers (ordered fallback chains of
models), ordered rules (first match wins) that send requests to a tier, a
cheap-first escalation cascade, the error kinds that trigger a fallback, and
latency budgets per SLA class. docs/policy.md documents every field.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from routegate.errors import InputError, Problem, errors_only
from routegate.load.catalog import Catalog, ModelId
from routegate.load.schema import Frozen, pattern, validate_document
from routegate.load.sources import Source, parse_source
from routegate.load.yamlsource import Path as DocPath
from routegate.load.yamlsource import YamlDocument, parse_yaml

Stakes = Literal["low", "normal", "high"]
STAKES: tuple[str, ...] = ("low", "normal", "high")

PiiKind = Literal["email", "phone", "card", "iban", "ssn", "ip", "secret", "unknown"]
"""Kinds the PII detector reports (routegate.pii.ALL_KINDS); ``unknown``: detection failed closed."""

ErrorKind = Literal["timeout", "rate_limit", "server_error", "refusal", "client_error", "context_length"]
ERROR_KINDS: tuple[str, ...] = ("timeout", "rate_limit", "server_error", "refusal", "client_error", "context_length")
"""Every error kind a recording or a live call may report."""

STANDARD_TIERS: tuple[str, ...] = ("fast", "balanced", "reasoning", "private")
"""The tier names routegate's docs and reports use; policies may add others."""

Name = Annotated[
    str,
    Field(
        pattern=pattern(r"^[a-z0-9][a-z0-9_.-]*$", "a lower-case name: a-z, 0-9 and _ . - (e.g. fast, pii-to-private)"),
        max_length=64,
    ),
]
"""Lower-case identifiers for tiers, rules and SLA classes."""
Word = Annotated[str, Field(min_length=1, max_length=200)]


class Traffic(Frozen):
    """A deterministic share of requests: those whose hash of (seed, request id) falls below ``share``."""

    share: float = Field(gt=0, le=1)
    """Fraction of requests in (0, 1]."""
    seed: int = Field(ge=0, le=2**32 - 1)
    """Salt of the hash; rules with the same seed carve up the same ordering of requests."""


class Condition(Frozen):
    """Conditions on request attributes; all given ones must hold (logical AND)."""

    task_type: tuple[Word, ...] | None = Field(default=None, min_length=1)
    """Request's task type is one of these."""
    pii: bool | None = None
    """Request is (true) or is not (false) flagged as containing PII."""
    stakes: tuple[Stakes, ...] | None = Field(default=None, min_length=1)
    """Request's stakes is one of these (low, normal, high)."""
    sla: tuple[Word, ...] | None = Field(default=None, min_length=1)
    """Request's SLA class is one of these."""
    input_tokens_min: int | None = Field(default=None, ge=0)
    """Request's input tokens >= this."""
    input_tokens_max: int | None = Field(default=None, ge=0)
    """Request's input tokens <= this."""
    tags_any: tuple[Word, ...] | None = Field(default=None, min_length=1)
    """Request carries at least one of these tags."""
    tags_all: tuple[Word, ...] | None = Field(default=None, min_length=1)
    """Request carries every one of these tags."""
    pii_kinds_any: tuple[PiiKind, ...] | None = Field(default=None, min_length=1)
    """Detection found at least one of these PII kinds in the request (docs/privacy.md)."""
    traffic: Traffic | None = None
    """Request falls in this deterministic traffic share."""

    @model_validator(mode="after")
    def _range(self) -> Condition:
        lo, hi = self.input_tokens_min, self.input_tokens_max
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"input_tokens_min ({lo}) must be <= input_tokens_max ({hi})")
        return self


class Rule(Frozen):
    """If a request matches ``when`` (and no earlier rule matched), it starts on ``tier``."""

    name: Name
    when: Condition = Condition()
    """Empty ``when`` matches every request."""
    tier: Name
    description: str = ""


class Tier(Frozen):
    """An ordered chain of models: the first answers, the rest are fallbacks in order."""

    models: tuple[ModelId, ...] = Field(min_length=1)
    private: bool = False
    """A private tier may only hold private-class (self-hosted) models."""
    description: str = ""


class EscalationStep(Frozen):
    """Escalate from tier ``from`` to tier ``to`` when the answer's confidence is below a threshold."""

    from_tier: Name = Field(alias="from")
    to: Name
    below_confidence: float = Field(ge=0, le=1)
    """Escalate when confidence < this (0 disables escalation by confidence)."""


class Escalation(Frozen):
    """The cheap-first cascade."""

    steps: tuple[EscalationStep, ...] = ()
    always_for_stakes: tuple[Stakes, ...] = ()
    """Requests with these stakes escalate along the steps unconditionally."""
    max_escalations: int = Field(default=1, ge=0, le=8)
    """At most this many escalations per request."""


class Retry(Frozen):
    """Retries of the same model before a call counts as failed (done by the provider layer)."""

    max_attempts: int = Field(default=1, ge=1, le=10)
    """Calls to the same model per attempt, the first included (1: no retry)."""
    on: tuple[ErrorKind, ...] = ("timeout", "rate_limit", "server_error")
    """Error kinds that are retried."""
    backoff_s: float = Field(default=0.5, ge=0)
    """First wait before a retry; doubles each time, with full jitter, up to ``max_backoff_s``."""
    max_backoff_s: float = Field(default=20.0, ge=0)
    """Longest wait between retries; a Retry-After header is honoured up to this."""


class CircuitBreaker(Frozen):
    """Per provider: after ``failures`` failed calls in a row, skip the provider for ``cooldown_s``, then probe."""

    failures: int = Field(default=5, ge=1)
    """Consecutive failed calls to one provider that open its breaker."""
    cooldown_s: float = Field(default=30.0, gt=0)
    """How long calls to an open provider are skipped (they fail at once and fall back); then one probe call."""


class Fallback(Frozen):
    """Which failed calls move on to the next model of the tier's chain, and how providers are protected."""

    on: tuple[ErrorKind, ...] = ("timeout", "rate_limit", "server_error")
    """Error kinds that fall back; any other error ends the request as failed."""
    retry: Retry = Retry()
    """Retries of the same model before falling back (live calls and drills; a recorded answer
    is one observation, so replaying a recording never retries it)."""
    circuit_breaker: CircuitBreaker | None = None
    """Per-provider breaker; ``null`` (the default) never skips a provider."""


class SlaClass(Frozen):
    """Latency budget of one SLA class."""

    latency_budget_ms: float = Field(gt=0)
    """No new attempt (fallback or escalation) starts once this much time has passed."""


class PolicySpec(Frozen):
    """The contents of a policy file."""

    name: Name
    version: Word
    description: str = ""
    owner: Word
    catalog: str = Field(
        default="models.yaml",
        pattern=pattern(
            r"^[A-Za-z0-9_.-]+\.ya?ml$",
            "a bare file name ending in .yaml or .yml (no folders); it is looked up in the policy's folder and above",
        ),
    )
    """File name of the catalog; found in the policy's folder or the nearest ancestor that has it."""
    tiers: dict[Name, Tier] = Field(min_length=1)
    rules: tuple[Rule, ...] = ()
    default_tier: Name
    escalation: Escalation = Escalation()
    fallback: Fallback = Fallback()
    sla: dict[Name, SlaClass] = Field(default_factory=dict)


@dataclass(frozen=True)
class Policy:
    """A validated policy with its catalog and hashes."""

    spec: PolicySpec
    catalog: Catalog
    source: str
    """Where it was read from (a path or ``git:REF:path``)."""
    catalog_source: str
    sha256: str
    """Canonical hash of the policy's meaning (see :func:`canonical_sha256`)."""
    catalog_sha256: str
    warnings: tuple[Problem, ...] = ()

    @property
    def name(self) -> str:
        return self.spec.name

    def tier_models(self) -> dict[str, tuple[str, ...]]:
        return {name: tier.models for name, tier in self.spec.tiers.items()}


def canonical_sha256(model: Frozen) -> str:
    """sha256 of the model's canonical JSON: key order, comments and layout do not matter, values do.

    Fields equal to their default are left out, so a field added to the schema later (with a
    default that keeps the old behaviour) does not change the hash of existing policies.
    """
    data = model.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def check_policy(spec: PolicySpec, catalog: Catalog, doc: YamlDocument) -> list[Problem]:
    """Cross-reference checks the schema alone cannot express."""
    problems: list[Problem] = []

    def add(path: DocPath, message: str, severity: str = "error") -> None:
        problems.append(doc.problem(path, message, severity=severity))

    known_models = ", ".join(catalog.model_ids)
    tiers = sorted(spec.tiers)
    for name, tier in spec.tiers.items():
        if name == "private" and not tier.private:
            add(("tiers", name), "the tier named 'private' must set private: true")
        for i, model in enumerate(tier.models):
            path: DocPath = ("tiers", name, "models", i)
            if model not in catalog.models:
                add(path, f"unknown model {model!r}; the catalog knows: {known_models}")
            elif tier.private and catalog.models[model].privacy != "private":
                add(path, f"model {model!r} is external; a private tier may only hold private-class models")
        if len(set(tier.models)) != len(tier.models):
            add(("tiers", name, "models"), "a model appears twice in the chain")

    def check_tier(path: DocPath, tier: str) -> None:
        if tier not in spec.tiers:
            add(path, f"unknown tier {tier!r}; defined tiers: {', '.join(tiers)}")

    check_tier(("default_tier",), spec.default_tier)
    seen_rules: dict[str, int] = {}
    for i, rule in enumerate(spec.rules):
        check_tier(("rules", i, "tier"), rule.tier)
        if rule.name in seen_rules:
            add(("rules", i, "name"), f"rule name {rule.name!r} already used by rules[{seen_rules[rule.name]}]")
        seen_rules.setdefault(rule.name, i)
        for j in range(i):
            if covers(spec.rules[j].when, rule.when):
                add(
                    ("rules", i),
                    f"rule {rule.name!r} is shadowed by earlier rule {spec.rules[j].name!r} "
                    "(every request it matches is taken first); it never fires",
                    "warning",
                )
                break
    froms: dict[str, int] = {}
    for i, step in enumerate(spec.escalation.steps):
        check_tier(("escalation", "steps", i, "from"), step.from_tier)
        check_tier(("escalation", "steps", i, "to"), step.to)
        if step.from_tier == step.to:
            add(("escalation", "steps", i, "to"), "a step must escalate to a different tier")
        if step.from_tier in froms:
            add(
                ("escalation", "steps", i, "from"),
                f"tier {step.from_tier!r} already escalates in steps[{froms[step.from_tier]}]; one step per tier",
            )
        froms.setdefault(step.from_tier, i)
        src, dst = spec.tiers.get(step.from_tier), spec.tiers.get(step.to)
        if src is not None and dst is not None and src.private and not dst.private:
            add(
                ("escalation", "steps", i, "to"),
                f"escalating from private tier {step.from_tier!r} to non-private tier {step.to!r} "
                "sends sensitive requests to external models",
                "warning",
            )
    cycle = _escalation_cycle(spec)
    if cycle:
        add(("escalation", "steps"), f"escalation steps form a cycle: {' -> '.join(cycle)}")
    return problems


def _escalation_cycle(spec: PolicySpec) -> list[str]:
    nxt = {s.from_tier: s.to for s in spec.escalation.steps}
    for start in nxt:
        path = [start]
        node = start
        while node in nxt:
            node = nxt[node]
            if node in path:
                return [*path[path.index(node) :], node]
            path.append(node)
    return []


def covers(earlier: Condition, later: Condition) -> bool:
    """True when every request ``later`` matches is also matched by ``earlier``."""

    def subset(a: tuple[str, ...] | None, b: tuple[str, ...] | None) -> bool:
        # earlier allows set `a`; later allows set `b`; earlier covers later when b ⊆ a.
        return a is None or (b is not None and set(b) <= set(a))

    if not subset(earlier.task_type, later.task_type):
        return False
    if not subset(earlier.stakes, later.stakes):
        return False
    if not subset(earlier.sla, later.sla):
        return False
    if earlier.pii is not None and earlier.pii != later.pii:
        return False
    if earlier.input_tokens_min is not None and (
        later.input_tokens_min is None or later.input_tokens_min < earlier.input_tokens_min
    ):
        return False
    if earlier.input_tokens_max is not None and (
        later.input_tokens_max is None or later.input_tokens_max > earlier.input_tokens_max
    ):
        return False
    if earlier.tags_all is not None and not (later.tags_all and set(earlier.tags_all) <= set(later.tags_all)):
        return False
    if earlier.tags_any is not None:
        guaranteed_any = later.tags_any is not None and set(later.tags_any) <= set(earlier.tags_any)
        guaranteed_all = later.tags_all is not None and bool(set(later.tags_all) & set(earlier.tags_any))
        if not (guaranteed_any or guaranteed_all):
            return False
    if earlier.pii_kinds_any is not None and not (
        later.pii_kinds_any is not None and set(later.pii_kinds_any) <= set(earlier.pii_kinds_any)
    ):
        return False
    if earlier.traffic is not None:
        t = later.traffic
        if t is None or t.seed != earlier.traffic.seed or t.share > earlier.traffic.share:
            return False
    return True


def load_catalog_source(source: Source) -> tuple[Catalog, str]:
    """Load and validate a catalog file; return it with its canonical sha256."""
    doc = parse_yaml(source.read_text(), source.display)
    catalog = validate_document(Catalog, doc)
    defined = ", ".join(sorted(catalog.providers))
    problems = [
        doc.problem(("models", model_id, "provider"), f"unknown provider {m.provider!r}; defined: {defined}")
        for model_id, m in catalog.models.items()
        if m.provider not in catalog.providers
    ]
    if problems:
        raise InputError(problems)
    return catalog, canonical_sha256(catalog)


def load_policy(spec: str) -> Policy:
    """Load a policy from a path or ``git:REF:path``; raise ``InputError`` on any problem."""
    source = parse_source(spec)
    return load_policy_source(source)


def load_policy_source(source: Source) -> Policy:
    doc = parse_yaml(source.read_text(), source.display)
    policy_spec = validate_document(PolicySpec, doc)
    catalog_source = source.find_upward(policy_spec.catalog)
    if catalog_source is None:
        line, col = doc.position(("catalog",))
        raise InputError.single(
            source.display,
            f"catalog {policy_spec.catalog!r} not found in the policy's folder or any folder above it",
            "catalog",
            line,
            col,
        )
    catalog, catalog_sha = load_catalog_source(catalog_source)
    problems = check_policy(policy_spec, catalog, doc)
    if errors_only(problems):
        raise InputError(sorted(problems))
    return Policy(
        spec=policy_spec,
        catalog=catalog,
        source=source.display,
        catalog_source=catalog_source.display,
        sha256=canonical_sha256(policy_spec),
        catalog_sha256=catalog_sha,
        warnings=tuple(sorted(problems)),
    )


def policy_to_dict(policy: Policy) -> dict[str, Any]:
    return policy.spec.model_dump(mode="json", by_alias=True)
