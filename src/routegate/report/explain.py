"""``routegate explain``: a policy as Markdown a product owner can read."""

from __future__ import annotations

from routegate.load.policy import Condition, Policy
from routegate.report.mdtext import md_cell, md_code, md_line, md_table
from routegate.units import format_count, format_ms, format_share, format_significant


def describe_condition(when: Condition) -> str:
    """One readable phrase per condition, joined with 'and'; 'every request' when empty.

    Values are rendered as code spans, so the result is safe Markdown.
    """
    parts: list[str] = []
    if when.task_type is not None:
        parts.append(f"task type is {_either(when.task_type)}")
    if when.pii is not None:
        parts.append("contains PII" if when.pii else "contains no PII")
    if when.stakes is not None:
        parts.append(f"stakes are {_either(when.stakes)}")
    if when.sla is not None:
        parts.append(f"SLA class is {_either(when.sla)}")
    if when.input_tokens_min is not None:
        parts.append(f"input is at least {format_count(when.input_tokens_min)} tokens")
    if when.input_tokens_max is not None:
        parts.append(f"input is at most {format_count(when.input_tokens_max)} tokens")
    if when.tags_any is not None:
        parts.append(f"tagged {_either(when.tags_any)}")
    if when.tags_all is not None:
        parts.append("tagged " + " and ".join(md_code(t) for t in when.tags_all))
    if when.pii_kinds_any is not None:
        parts.append(f"PII of kind {_either(when.pii_kinds_any)} was detected")
    if when.traffic is not None:
        parts.append(f"in a {format_share(when.traffic.share)} traffic share (seed {when.traffic.seed})")
    return " and ".join(parts) if parts else "every request"


def _named(name: str, description: str, *, code: bool = False) -> str:
    """A rule or tier name with its description (escaped: descriptions are free text)."""
    shown = md_code(name) if code else md_cell(name)
    return f"{shown}: {md_cell(description.strip())}" if description.strip() else shown


def _either(values: tuple[str, ...]) -> str:
    quoted = [md_code(v) for v in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def explain_policy(policy: Policy) -> str:
    spec, catalog = policy.spec, policy.catalog
    out: list[str] = [f"# Routing policy {md_code(spec.name)} {md_cell(spec.version)}", ""]
    if spec.description:
        out += [md_line(spec.description.strip()), ""]
    out += [
        f"- Owner: {md_cell(spec.owner)}",
        f"- Policy sha256: `{policy.sha256}`",
        f"- Catalog: {md_code(policy.catalog_source)} version {md_cell(catalog.version)}, "
        f"sha256 `{policy.catalog_sha256}`",
        "",
        "## Which requests go where",
        "",
        "Rules are checked in order; the first that matches decides the starting tier.",
        "",
    ]
    rows = [
        [str(i + 1), _named(rule.name, rule.description), describe_condition(rule.when), f"`{rule.tier}`"]
        for i, rule in enumerate(spec.rules)
    ]
    rows.append(["-", "(default)", "anything no rule matched", f"`{spec.default_tier}`"])
    out += [*md_table(["#", "rule", "when", "starting tier"], rows), ""]
    out += ["## Tiers and their fallback chains", ""]
    rows = []
    for name, tier in spec.tiers.items():
        chain = []
        for model in tier.models:
            m = catalog.models[model]
            chain.append(
                f"{md_code(model)} ({md_cell(m.provider)}, {m.privacy}, "
                f"${format_significant(m.price.input_per_1m, 6)}/${format_significant(m.price.output_per_1m, 6)} "
                "per 1M in/out)"
            )
        providers = sorted({catalog.models[m].provider for m in tier.models})
        rows.append(
            [
                _named(name, tier.description, code=True) + (" (private)" if tier.private else ""),
                " → ".join(chain),
                str(len(providers)),
            ]
        )
    out += [*md_table(["tier", "models, in fallback order", "providers"], rows), ""]
    single = [
        n
        for n, t in spec.tiers.items()
        if len({catalog.models[m].provider for m in t.models}) == 1 and len(spec.tiers) > 1
    ]
    if single:
        out += [f"Tiers that depend on a single provider: {', '.join(f'`{n}`' for n in single)}.", ""]
    out += ["## Fallback", ""]
    out += [
        "A failed call moves to the next model of the same tier when its error is one of: "
        + ", ".join(f"`{k}`" for k in spec.fallback.on)
        + ". Any other error, or the end of the chain, fails the request.",
        "",
    ]
    out += ["## Escalation (cascade)", ""]
    esc = spec.escalation
    if not esc.steps:
        out += ["This policy never escalates: the first answer is final.", ""]
    else:
        rows = [
            [f"`{s.from_tier}`", f"`{s.to}`", f"confidence below {format_significant(s.below_confidence, 6)}"]
            for s in esc.steps
        ]
        out += [*md_table(["from", "to", "when"], rows), ""]
        if esc.always_for_stakes:
            out += [f"Requests with stakes {_either(esc.always_for_stakes)} always escalate along these steps.", ""]
        out += [f"At most {esc.max_escalations} escalation(s) per request.", ""]
    out += ["## Latency budgets (SLA classes)", ""]
    if spec.sla:
        rows = [[f"`{name}`", format_ms(sla.latency_budget_ms)] for name, sla in spec.sla.items()]
        out += md_table(["SLA class", "budget"], rows)
        out += ["", "Once a request has used its budget, no further fallback or escalation starts.", ""]
    else:
        out += ["No latency budgets: fallbacks and escalations run regardless of elapsed time.", ""]
    if policy.warnings:
        out += ["## Warnings", ""] + [f"- {md_cell(w.format())}" for w in policy.warnings] + [""]
    return "\n".join(out)
