"""Planning (rules -> starting tier), rule shadowing, ``explain`` and ``coverage``.

The vectorised code is checked against a plain per-row reference written here:
slow, obvious, and independent of Arrow.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from pydantic import ValidationError

from conftest import default_recordings, example_row, policy_data, run_cli, write_project, write_suite
from routegate.engine.coverage import missing_pairs, needed_pairs, reachable_tiers
from routegate.engine.plan import DEFAULT_RULE, match_condition, plan_tiers, traffic_draw
from routegate.load.policy import Condition, PolicySpec, covers, load_policy
from routegate.load.suite import load_suite
from routegate.report.explain import describe_condition, explain_policy

TASKS = ["chat", "math", "code", "summarize"]
STAKES = ["low", "normal", "high"]
SLAS = ["interactive", "batch"]
TAGS = ["legal", "medical", "vip", "eu"]


def random_examples(rng: np.random.Generator, n: int, chunks: int = 3) -> pa.Table:
    """n random requests, split into ``chunks`` record batches so every column is chunked."""
    rows = [
        {
            "id": f"r{i}-{rng.integers(1_000_000)}",
            "task_type": TASKS[rng.integers(len(TASKS))],
            "pii": bool(rng.random() < 0.3),
            "stakes": STAKES[rng.integers(len(STAKES))],
            "sla": SLAS[rng.integers(len(SLAS))],
            "input_tokens": int(rng.integers(0, 5000)),
            "tags": [TAGS[j] for j in rng.permutation(len(TAGS))[: rng.integers(0, 4)]],
        }
        for i in range(n)
    ]
    step = math.ceil(n / chunks)
    tables = [pa.Table.from_pylist(rows[i : i + step]) for i in range(0, n, step)]
    return pa.concat_tables(tables)


def random_condition(rng: np.random.Generator) -> Condition:
    data: dict[str, Any] = {}

    def some(values: list[str]) -> list[str]:
        return [values[j] for j in rng.permutation(len(values))[: rng.integers(1, len(values) + 1)]]

    if rng.random() < 0.4:
        data["task_type"] = some(TASKS)
    if rng.random() < 0.25:
        data["pii"] = bool(rng.random() < 0.5)
    if rng.random() < 0.3:
        data["stakes"] = some(STAKES)
    if rng.random() < 0.2:
        data["sla"] = some(SLAS)
    if rng.random() < 0.25:
        data["input_tokens_min"] = int(rng.integers(0, 3000))
    if rng.random() < 0.25:
        data["input_tokens_max"] = int(rng.integers(data.get("input_tokens_min", 0), 5000))
    if rng.random() < 0.25:
        data["tags_any"] = some(TAGS)
    if rng.random() < 0.2:
        data["tags_all"] = some(TAGS)[:2]
    if rng.random() < 0.2:
        data["traffic"] = {"share": float(rng.choice([0.1, 0.3, 0.5, 1.0])), "seed": int(rng.integers(0, 3))}
    return Condition.model_validate(data)


def reference_match(row: dict[str, Any], when: Condition, draws: dict[int, float]) -> bool:
    """Per-row reference: every given condition must hold."""
    tags = set(row["tags"])
    checks = [
        when.task_type is None or row["task_type"] in when.task_type,
        when.pii is None or row["pii"] == when.pii,
        when.stakes is None or row["stakes"] in when.stakes,
        when.sla is None or row["sla"] in when.sla,
        when.input_tokens_min is None or row["input_tokens"] >= when.input_tokens_min,
        when.input_tokens_max is None or row["input_tokens"] <= when.input_tokens_max,
        when.tags_any is None or bool(tags & set(when.tags_any)),
        when.tags_all is None or set(when.tags_all) <= tags,
        when.traffic is None or draws[when.traffic.seed] < when.traffic.share,
    ]
    return all(checks)


def _spec(rules: list[dict[str, Any]], default_tier: str = "balanced") -> PolicySpec:
    return PolicySpec.model_validate(policy_data(rules=rules, default_tier=default_tier))


def _draws(examples: pa.Table, seeds: range = range(3)) -> list[dict[int, float]]:
    per_seed = {s: traffic_draw(examples.column("id"), s) for s in seeds}
    return [{s: float(per_seed[s][i]) for s in seeds} for i in range(examples.num_rows)]


@pytest.mark.parametrize("seed", range(8))
def test_plan_matches_a_per_row_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    examples = random_examples(rng, 400)
    assert examples.column("tags").num_chunks == 3
    tiers = ["fast", "balanced", "reasoning", "private"]
    rules = [
        {"name": f"r{i}", "when": random_condition(rng).model_dump(exclude_none=True), "tier": tiers[rng.integers(4)]}
        for i in range(int(rng.integers(1, 7)))
    ]
    spec = _spec(rules, default_tier=tiers[rng.integers(4)])
    plan = plan_tiers(examples, spec)
    draws = _draws(examples)
    for i, row in enumerate(examples.to_pylist()):
        first = next((j for j, r in enumerate(spec.rules) if reference_match(row, r.when, draws[i])), None)
        expected_tier = spec.default_tier if first is None else spec.rules[first].tier
        assert plan.tiers[plan.tier[i]] == expected_tier, (i, row)
        assert plan.rule[i] == (DEFAULT_RULE if first is None else first)


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ({"task_type": ["math"]}, ["m-hi", "m-lo"]),
        ({"pii": True}, ["pii"]),
        ({"pii": False}, ["c-hi", "m-hi", "m-lo", "big", "tagged"]),
        ({"stakes": ["high"]}, ["c-hi", "m-hi"]),
        ({"sla": ["batch"]}, ["big"]),
        ({"input_tokens_min": 1000}, ["big"]),
        ({"input_tokens_max": 999}, ["pii", "c-hi", "m-hi", "m-lo", "tagged"]),
        ({"input_tokens_min": 1000, "input_tokens_max": 1000}, ["big"]),
        ({"tags_any": ["legal", "vip"]}, ["pii", "tagged"]),
        ({"tags_all": ["legal", "eu"]}, ["tagged"]),
        ({"tags_all": ["legal"]}, ["pii", "tagged"]),
        ({"task_type": ["math"], "stakes": ["high"]}, ["m-hi"]),
        ({}, ["pii", "c-hi", "m-hi", "m-lo", "big", "tagged"]),
    ],
)
def test_each_condition_kind(when: dict[str, Any], expected: list[str]) -> None:
    rows = [
        {
            "id": "pii",
            "task_type": "chat",
            "pii": True,
            "stakes": "normal",
            "sla": "interactive",
            "input_tokens": 10,
            "tags": ["legal"],
        },
        {
            "id": "c-hi",
            "task_type": "chat",
            "pii": False,
            "stakes": "high",
            "sla": "interactive",
            "input_tokens": 10,
            "tags": [],
        },
        {
            "id": "m-hi",
            "task_type": "math",
            "pii": False,
            "stakes": "high",
            "sla": "interactive",
            "input_tokens": 999,
            "tags": [],
        },
        {
            "id": "m-lo",
            "task_type": "math",
            "pii": False,
            "stakes": "low",
            "sla": "interactive",
            "input_tokens": 0,
            "tags": None,
        },
        {
            "id": "big",
            "task_type": "code",
            "pii": False,
            "stakes": "normal",
            "sla": "batch",
            "input_tokens": 1000,
            "tags": ["x"],
        },
        {
            "id": "tagged",
            "task_type": "chat",
            "pii": False,
            "stakes": "normal",
            "sla": "interactive",
            "input_tokens": 5,
            "tags": ["eu", "legal"],
        },
    ]
    # two chunks, so list offsets of the second chunk do not start at zero
    examples = pa.concat_tables([pa.Table.from_pylist(rows[:3]), pa.Table.from_pylist(rows[3:])])
    mask = match_condition(examples, Condition.model_validate(when))
    assert [r["id"] for r, hit in zip(rows, mask, strict=True) if hit] == expected


def test_first_matching_rule_wins_and_default_tier() -> None:
    rows = [
        example_row(0, pii=True, task_type="math", stakes="high"),  # rules 0 and 1 both match
        example_row(1, task_type="math", stakes="high"),
        example_row(2, task_type="chat"),
        example_row(3, task_type="code"),  # no rule
    ]
    for r in rows:
        r["input_tokens"] = 10
    examples = pa.Table.from_pylist(rows)
    spec = PolicySpec.model_validate(policy_data())
    plan = plan_tiers(examples, spec)
    assert [plan.tiers[t] for t in plan.tier] == ["private", "reasoning", "fast", "balanced"]
    assert plan.rule.tolist() == [0, 1, 3, DEFAULT_RULE]
    swapped = plan_tiers(examples, _spec([policy_data()["rules"][1], policy_data()["rules"][0]]))
    assert [swapped.tiers[t] for t in swapped.tier] == ["reasoning", "reasoning", "balanced", "balanced"]
    assert swapped.rule.tolist() == [0, 0, DEFAULT_RULE, DEFAULT_RULE]


def test_empty_examples_table_plans_nothing() -> None:
    examples = pa.Table.from_pylist([example_row(0, input_tokens=1)]).slice(0, 0)
    plan = plan_tiers(examples, PolicySpec.model_validate(policy_data()))
    assert plan.tier.size == 0


# Traffic split


def test_traffic_share_is_close_to_its_target() -> None:
    n = 40_000
    ids = pa.array([f"req-{i}" for i in range(n)])
    for share in (0.05, 0.25, 0.5):
        for seed in (0, 1, 12345):
            hit = traffic_draw(ids, seed) < share
            sigma = math.sqrt(share * (1 - share) / n)
            assert abs(hit.mean() - share) < 3 * sigma, (share, seed, hit.mean())


def test_traffic_draw_is_a_function_of_seed_and_id_only() -> None:
    ids = [f"req-{i}" for i in range(2000)]
    draw = traffic_draw(pa.array(ids), 7)
    assert ((draw >= 0) & (draw < 1)).all()
    order = np.random.default_rng(0).permutation(len(ids))
    shuffled = traffic_draw(pa.chunked_array([[ids[i] for i in order[:500]], [ids[i] for i in order[500:]]]), 7)
    np.testing.assert_array_equal(shuffled, draw[order])
    np.testing.assert_array_equal(traffic_draw(pa.array(ids), 7), draw)  # same again
    other = traffic_draw(pa.array(ids), 8)
    assert not np.array_equal(other, draw)
    both = ((draw < 0.3) & (other < 0.3)).mean()
    assert abs(both - 0.09) < 0.03  # independent seeds: overlap ~ share squared


def test_nested_shares_with_one_seed_are_nested_sets() -> None:
    """A 5% canary is inside the 20% share of the same seed: growing a canary keeps its requests."""
    ids = pa.array([f"req-{i}" for i in range(5000)])
    draw = traffic_draw(ids, 3)
    small, large = draw < 0.05, draw < 0.2
    assert small.any()
    assert not (small & ~large).any()


def test_traffic_rule_in_plan() -> None:
    n = 20_000
    examples = pa.Table.from_pylist([example_row(i, input_tokens=1) for i in range(n)])
    spec = _spec([{"name": "canary", "when": {"traffic": {"share": 0.1, "seed": 42}}, "tier": "reasoning"}])
    plan = plan_tiers(examples, spec)
    share = (np.array(plan.tiers)[plan.tier] == "reasoning").mean()
    assert abs(share - 0.1) < 3 * math.sqrt(0.1 * 0.9 / n)
    again = plan_tiers(examples.slice(5000), spec)
    np.testing.assert_array_equal(again.tier, plan.tier[5000:])


# Shadowing


def C(**kw: Any) -> Condition:
    return Condition.model_validate(kw)


@pytest.mark.parametrize(
    ("earlier", "later", "expected"),
    [
        (C(), C(task_type=["chat"]), True),
        (C(task_type=["chat"]), C(), False),
        (C(task_type=["chat", "code"]), C(task_type=["chat"]), True),
        (C(task_type=["chat"]), C(task_type=["chat", "code"]), False),
        (C(task_type=["chat"]), C(task_type=["chat"], stakes=["high"]), True),
        (C(pii=True), C(pii=True, task_type=["x"]), True),
        (C(pii=True), C(pii=False), False),
        (C(pii=True), C(), False),
        (C(stakes=["high", "normal"]), C(stakes=["high"]), True),
        (C(sla=["batch"]), C(sla=["interactive"]), False),
        (C(input_tokens_min=100), C(input_tokens_min=200), True),
        (C(input_tokens_min=100), C(input_tokens_min=50), False),
        (C(input_tokens_min=100), C(input_tokens_max=500), False),
        (C(input_tokens_max=500), C(input_tokens_min=10, input_tokens_max=400), True),
        (C(input_tokens_max=500), C(input_tokens_max=600), False),
        (C(tags_all=["a"]), C(tags_all=["a", "b"]), True),
        (C(tags_all=["a", "b"]), C(tags_all=["a"]), False),
        (C(tags_all=["a"]), C(tags_any=["a"]), False),
        (C(tags_any=["a", "b"]), C(tags_any=["a"]), True),
        (C(tags_any=["a", "b"]), C(tags_any=["a", "c"]), False),
        (C(tags_any=["b"]), C(tags_all=["b", "c"]), True),
        (C(tags_any=["b"]), C(tags_all=["c"]), False),
        (C(traffic={"share": 0.5, "seed": 1}), C(traffic={"share": 0.2, "seed": 1}), True),
        (C(traffic={"share": 0.2, "seed": 1}), C(traffic={"share": 0.5, "seed": 1}), False),
        (C(traffic={"share": 0.5, "seed": 1}), C(traffic={"share": 0.2, "seed": 2}), False),
        (C(traffic={"share": 0.5, "seed": 1}), C(), False),
        (C(task_type=["chat"]), C(task_type=["chat"]), True),
    ],
)
def test_covers(earlier: Condition, later: Condition, expected: bool) -> None:
    assert covers(earlier, later) is expected


@pytest.mark.parametrize("seed", range(6))
def test_covers_is_sound(seed: int) -> None:
    """Whenever ``covers`` says a later rule is shadowed, no request matches it without matching the earlier."""
    rng = np.random.default_rng(100 + seed)
    examples = random_examples(rng, 600)
    claimed = 0
    for _ in range(300):
        earlier, later = random_condition(rng), random_condition(rng)
        if rng.random() < 0.5:  # make covering pairs common: narrow the later rule from the earlier one
            try:
                later = Condition.model_validate(
                    {**earlier.model_dump(exclude_none=True), **later.model_dump(exclude_none=True)}
                )
            except ValidationError:  # an empty token range; not a rule anyone can write
                continue
        if covers(earlier, later):
            claimed += 1
            leak = match_condition(examples, later) & ~match_condition(examples, earlier)
            assert not leak.any(), (earlier, later)
    assert claimed > 30


def test_shadowed_rule_is_a_warning(tmp_path: Path) -> None:
    rules = [
        {"name": "all-chat", "when": {"task_type": ["chat"]}, "tier": "fast"},
        {"name": "hard-chat", "when": {"task_type": ["chat"], "stakes": ["high"]}, "tier": "reasoning"},
        {"name": "math", "when": {"task_type": ["math"]}, "tier": "reasoning"},
    ]
    policy = load_policy(str(write_project(tmp_path, rules=rules)))
    (warning,) = policy.warnings
    assert warning.severity == "warning"
    assert warning.field == "rules[1]"
    assert "rule 'hard-chat' is shadowed by earlier rule 'all-chat'" in warning.message


# explain


def test_explain_names_every_tier_model_rule_and_hash(project: Path) -> None:
    policy = load_policy(str(project))
    text = explain_policy(policy)
    assert policy.sha256 in text
    assert policy.catalog_sha256 in text
    for name, tier in policy.spec.tiers.items():
        assert f"`{name}`" in text
        row = next(line for line in text.splitlines() if line.startswith(f"| `{name}`"))
        chain = row.split(" | ")[1].split(" → ")
        assert [link.split(" (")[0] for link in chain] == [f"`{m}`" for m in tier.models]
    for rule in policy.spec.rules:
        assert rule.name in text
        assert f"`{rule.tier}`" in text
    assert "confidence below 0.6" in text
    assert "confidence below 0.5" in text
    assert "At most 2 escalation(s) per request." in text
    assert "Requests with stakes `high` always escalate" in text
    assert "| `interactive` | 5,000 ms |" in text
    assert "| `batch` | 60,000 ms |" in text
    assert "`timeout`, `rate_limit`, `server_error`" in text
    assert "| - | (default) | anything no rule matched | `balanced` |" in text
    assert "contains PII" in text
    assert "task type is `math` and stakes are `high`" in text
    assert "input is at least 1,000 tokens" in text


def test_explain_rule_rows_in_order(project: Path) -> None:
    text = explain_policy(load_policy(str(project)))
    starts = [text.index(f"| {i + 1} | {r['name']}") for i, r in enumerate(policy_data()["rules"])]
    assert starts == sorted(starts)


def test_explain_escapes_markdown_in_free_text(tmp_path: Path) -> None:
    nasty = "<script>alert(1)</script> | *bold* [link](http://evil) `code` # head"
    tiers = policy_data()["tiers"]
    tiers["fast"] = {**tiers["fast"], "description": nasty}
    rules = [{**policy_data()["rules"][0], "description": nasty}]
    policy = load_policy(
        str(write_project(tmp_path, description=nasty, owner="ops | <b>team</b>", tiers=tiers, rules=rules))
    )
    text = explain_policy(policy)
    assert "<script>" not in text
    assert "<b>" not in text
    assert "[link](http" not in text
    assert "*bold*" not in text
    assert "&lt;script&gt;" in text
    assert r"\*bold\*" in text
    # a '|' in a description must not open a new table cell: the rows keep their column count
    rule_row = next(line for line in text.splitlines() if line.startswith("| 1 |"))
    tier_row = next(line for line in text.splitlines() if line.startswith("| `fast`"))
    assert rule_row.replace("\\|", "").count("|") == 5
    assert tier_row.replace("\\|", "").count("|") == 4
    assert r"\|" in rule_row
    assert r"\|" in tier_row


def test_explain_without_escalation_or_sla(tmp_path: Path) -> None:
    policy = load_policy(str(write_project(tmp_path, escalation=None, sla=None)))
    text = explain_policy(policy)
    assert "This policy never escalates: the first answer is final." in text
    assert "No latency budgets" in text


def test_explain_lists_warnings(tmp_path: Path) -> None:
    rules = [
        {"name": "any", "when": {}, "tier": "fast"},
        {"name": "never", "when": {"pii": True}, "tier": "private"},
    ]
    text = explain_policy(load_policy(str(write_project(tmp_path, rules=rules))))
    assert "## Warnings" in text
    assert "never" in text.split("## Warnings")[1]


def test_explain_prints_numbers_in_their_units(tmp_path: Path) -> None:
    rules = [
        {"name": "huge", "when": {"input_tokens_min": 12345, "input_tokens_max": 1234567}, "tier": "reasoning"},
        {"name": "canary", "when": {"traffic": {"share": 0.333, "seed": 4}}, "tier": "fast"},
    ]
    sla = {"interactive": {"latency_budget_ms": 1500.5}, "batch": {"latency_budget_ms": 1234567}}
    escalation = {"steps": [{"from": "fast", "to": "balanced", "below_confidence": 0.125}]}
    text = explain_policy(load_policy(str(write_project(tmp_path, rules=rules, sla=sla, escalation=escalation))))
    # prices per 1M tokens with at most 6 significant digits and no trailing zeros
    assert "`gpt-small` (openai, external, $0.15/$0.6 per 1M in/out)" in text
    assert "`gpt-big` (openai, external, $5/$15 per 1M in/out)" in text
    assert "input is at least 12,345 tokens and input is at most 1,234,567 tokens" in text
    assert "in a 33.3% traffic share (seed 4)" in text
    assert "confidence below 0.125" in text
    assert "| `interactive` | 1,500 ms |" in text  # whole milliseconds, ties to even
    assert "| `batch` | 1,234,567 ms |" in text


def test_describe_condition() -> None:
    assert describe_condition(C()) == "every request"
    assert describe_condition(C(tags_any=["a", "b", "c"])) == "tagged `a`, `b` or `c`"
    assert describe_condition(C(tags_all=["a", "b"])) == "tagged `a` and `b`"
    assert describe_condition(C(traffic={"share": 0.05, "seed": 9})) == "in a 5.0% traffic share (seed 9)"
    assert describe_condition(C(pii=False, sla=["batch"])) == "contains no PII and SLA class is `batch`"


def test_explain_cli(project: Path) -> None:
    run = run_cli("explain", str(project))
    assert run.code == 0, run.stderr
    assert run.stdout.startswith("# Routing policy `test-policy` ")
    assert load_policy(str(project)).sha256 in run.stdout


# coverage


def reference_missing(examples: pa.Table, recordings: pa.Table, spec: PolicySpec) -> set[tuple[str, str]]:
    """Per-row reference for coverage: start tier by rules, then the escalation walk, minus recorded pairs."""
    can_escalate = any(s.below_confidence > 0 for s in spec.escalation.steps) or bool(spec.escalation.always_for_stakes)
    nxt = {s.from_tier: s.to for s in spec.escalation.steps}
    draws = _draws(examples, range(0))
    have = set(zip(recordings.column("example_id").to_pylist(), recordings.column("model").to_pylist(), strict=True))
    out: set[tuple[str, str]] = set()
    for i, row in enumerate(examples.to_pylist()):
        tier = next((r.tier for r in spec.rules if reference_match(row, r.when, draws[i])), spec.default_tier)
        tiers = [tier]
        while can_escalate and len(tiers) - 1 < spec.escalation.max_escalations and tiers[-1] in nxt:
            if nxt[tiers[-1]] in tiers:
                break
            tiers.append(nxt[tiers[-1]])
        for t in tiers:
            for model in spec.tiers[t].models:
                if (row["id"], model) not in have:
                    out.add((model, row["id"]))
    return out


@pytest.mark.parametrize("max_escalations", [0, 1, 2])
def test_missing_pairs_found_exactly(tmp_path: Path, max_escalations: int) -> None:
    rng = np.random.default_rng(max_escalations)
    examples = [
        example_row(
            i,
            task_type=TASKS[rng.integers(4)],
            pii=bool(rng.random() < 0.2),
            stakes=STAKES[rng.integers(3)],
            input_tokens=int(rng.integers(0, 2000)),
        )
        for i in range(60)
    ]
    models = ["gpt-small", "claude-mid", "gpt-big", "llama-local", "qwen-local"]
    recordings = [r for r in default_recordings(examples, models) if rng.random() < 0.7]
    suite = load_suite(write_suite(tmp_path / "s", examples, recordings))
    escalation = {**policy_data()["escalation"], "max_escalations": max_escalations}
    spec = PolicySpec.model_validate(policy_data(escalation=escalation))
    missing = missing_pairs(suite.examples, suite.recordings, spec)
    got = list(zip(missing.column("model").to_pylist(), missing.column("example_id").to_pylist(), strict=True))
    expected = reference_missing(suite.examples, suite.recordings, spec)
    assert expected  # the test means something
    assert len(got) == len(set(got))
    assert set(got) == expected
    assert got == sorted(got)
    need = needed_pairs(suite.examples, spec)
    assert need.num_rows >= len(got)


def test_fully_recorded_suite_misses_nothing_with_the_same_columns(tmp_path: Path) -> None:
    """Every model recorded for every example: the shortcut answers with the empty table the full
    check would give (same columns and types)."""
    examples = [example_row(i, pii=i % 3 == 0, stakes=STAKES[i % 3]) for i in range(20)]
    models = ["gpt-small", "claude-mid", "gpt-big", "llama-local", "qwen-local"]
    full = load_suite(write_suite(tmp_path / "full", examples, default_recordings(examples, models)))
    spec = PolicySpec.model_validate(policy_data())
    missing = missing_pairs(full.examples, full.recordings, spec)
    assert missing.num_rows == 0
    partial = load_suite(write_suite(tmp_path / "partial", examples, default_recordings(examples, models[:2])))
    some = missing_pairs(partial.examples, partial.recordings, spec)
    assert some.num_rows > 0
    assert missing.schema == some.schema


def test_reachable_tiers() -> None:
    spec = PolicySpec.model_validate(policy_data())
    assert reachable_tiers(spec, "fast") == ["fast", "balanced", "reasoning"]
    assert reachable_tiers(spec, "balanced") == ["balanced", "reasoning"]
    assert reachable_tiers(spec, "private") == ["private"]
    one = PolicySpec.model_validate(policy_data(escalation={**policy_data()["escalation"], "max_escalations": 1}))
    assert reachable_tiers(one, "fast") == ["fast", "balanced"]
    off = policy_data()["escalation"]
    off = {**off, "always_for_stakes": [], "steps": [{**s, "below_confidence": 0} for s in off["steps"]]}
    assert reachable_tiers(PolicySpec.model_validate(policy_data(escalation=off)), "fast") == ["fast"]


def test_coverage_cli_exit_codes(tmp_path: Path) -> None:
    policy = write_project(tmp_path, rules=[], default_tier="private", escalation=None)
    examples = [example_row(i) for i in range(3)]
    full = write_suite(tmp_path / "full", examples, default_recordings(examples, ["llama-local", "qwen-local"]))
    run = run_cli("coverage", str(policy), str(full))
    assert run.code == 0, run.stderr
    assert run.stdout.splitlines() == ["6 (model, example) pairs could be needed; 0 have no recording"]
    partial = write_suite(tmp_path / "partial", examples, default_recordings(examples, ["llama-local"]))
    run = run_cli("coverage", str(policy), str(partial), "--limit", "2")
    assert run.code == 1
    assert run.stdout.splitlines() == [
        "6 (model, example) pairs could be needed; 3 have no recording",
        "  qwen-local: 3 missing",
        "  qwen-local\tex0",
        "  qwen-local\tex1",
        "  ... and 1 more",
    ]


def test_coverage_cli_bad_input(tmp_path: Path) -> None:
    policy = write_project(tmp_path)
    run = run_cli("coverage", str(policy), str(tmp_path / "nope"))
    assert run.code == 2
    assert "Traceback" not in run.stderr
    assert run.problem_lines == [f"{tmp_path / 'nope'}:0:0: -: suite folder not found"]
