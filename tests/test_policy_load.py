"""Loading policies and catalogs: canonical hashes, catalog discovery and ``git:REF:path`` sources."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import catalog_data, dump_yaml, policy_data, run_cli, write_catalog, write_policy, write_project
from routegate.errors import InputError
from routegate.load.policy import PolicySpec, canonical_sha256, load_catalog_source, load_policy
from routegate.load.sources import Source, parse_source

# The same policy, written twice by different hands.
BLOCK = """\
name: hashed
version: "2.1"
owner: routing-team
description: Cheap first, private for PII.
tiers:
  fast:
    models:
      - gpt-small
      - claude-mid
  balanced:
    models:
      - claude-mid
      - gpt-big
  private:
    private: true
    models:
      - llama-local
rules:
  - name: pii
    when:
      pii: true
    tier: private
  - name: chat
    when:
      task_type:
        - chat
      input_tokens_max: 2000
    tier: fast
default_tier: balanced
escalation:
  steps:
    - from: fast
      to: balanced
      below_confidence: 0.6
sla:
  interactive:
    latency_budget_ms: 4000
"""

REWRITTEN = """\
# Keys reordered, comments added, flow style, and every default written out.
default_tier: balanced   # where unmatched requests go
sla: {interactive: {latency_budget_ms: 4000.0}}
escalation:
  max_escalations: 1
  always_for_stakes: []
  steps: [{to: balanced, below_confidence: 0.60, from: fast}]
fallback: {on: [timeout, rate_limit, server_error]}
tiers:
  private: {models: [llama-local], private: true, description: ""}
  balanced: {models: [claude-mid, gpt-big], private: false}

  fast:
    # cheapest first
    models: [gpt-small, claude-mid]
rules:
  - {tier: private, name: pii, when: {pii: true}, description: ""}
  - name: chat
    tier: fast
    when: {input_tokens_max: 2000, task_type: [chat]}
catalog: models.yaml
owner: 'routing-team'
version: '2.1'
name: "hashed"
description: >-
  Cheap first, private for PII.
"""


def _load(tmp_path: Path, text: str, name: str = "p.yaml") -> str:
    if not (tmp_path / "models.yaml").exists():
        write_catalog(tmp_path)
    (tmp_path / name).write_text(text, encoding="utf-8")
    return load_policy(str(tmp_path / name)).sha256


def test_hash_ignores_order_comments_layout_and_explicit_defaults(tmp_path: Path) -> None:
    assert _load(tmp_path, BLOCK, "a.yaml") == _load(tmp_path, REWRITTEN, "b.yaml")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("below_confidence: 0.6", "below_confidence: 0.61"),  # a threshold
        ("      - gpt-small\n      - claude-mid", "      - claude-mid\n      - gpt-small"),  # chain order
        ("description: Cheap first, private for PII.", "description: Cheap first, private for PII"),
        ("input_tokens_max: 2000", "input_tokens_max: 2001"),
        ("latency_budget_ms: 4000", "latency_budget_ms: 4500"),
        ('version: "2.1"', 'version: "2.2"'),
        ("      pii: true", "      pii: false"),
    ],
)
def test_any_changed_value_changes_the_hash(tmp_path: Path, old: str, new: str) -> None:
    assert BLOCK.count(old) == 1
    assert _load(tmp_path, BLOCK, "a.yaml") != _load(tmp_path, BLOCK.replace(old, new), "b.yaml")


def test_rule_order_changes_the_hash(tmp_path: Path) -> None:
    rules = policy_data()["rules"]
    first = write_project(tmp_path / "a", rules=rules)
    second = write_project(tmp_path / "b", rules=[rules[1], rules[0], *rules[2:]])
    assert load_policy(str(first)).sha256 != load_policy(str(second)).sha256


def test_tier_order_in_the_mapping_does_not_change_the_hash(tmp_path: Path) -> None:
    """Tiers are looked up by name; their order in the file carries no meaning."""
    tiers = policy_data()["tiers"]
    first = write_project(tmp_path / "a")
    second = write_project(tmp_path / "b", tiers=dict(reversed(list(tiers.items()))))
    assert load_policy(str(first)).sha256 == load_policy(str(second)).sha256


def test_hash_is_sha256_of_canonical_json(project: Path) -> None:
    import hashlib
    import json

    policy = load_policy(str(project))
    data = policy.spec.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"))
    assert policy.sha256 == hashlib.sha256(blob.encode()).hexdigest()
    assert len(policy.sha256) == 64
    assert canonical_sha256(PolicySpec.model_validate(policy_data())) == policy.sha256


def test_fields_at_their_default_do_not_enter_the_hash(project: Path) -> None:
    """A schema field added later with a neutral default keeps existing hashes stable."""
    policy = load_policy(str(project))
    explicit = policy.spec.model_copy(
        update={"fallback": policy.spec.fallback.model_copy(update={"circuit_breaker": None})}
    )
    assert canonical_sha256(explicit) == policy.sha256
    changed = policy.spec.model_copy(
        update={
            "fallback": policy.spec.fallback.model_copy(
                update={"retry": policy.spec.fallback.retry.model_copy(update={"max_attempts": 3})}
            )
        }
    )
    assert canonical_sha256(changed) != policy.sha256


CATALOG_BLOCK = """\
version: "2024-06-01"
providers:
  openai:
    api: openai
models:
  gpt-small:
    provider: openai
    privacy: external
    price:
      input_per_1m: 0.15
      output_per_1m: 0.6
      source: https://openai.com/pricing
      as_of: 2024-06-01
    context_window: 128000
"""

CATALOG_REWRITTEN = """\
# prices reviewed monthly
models:
  gpt-small: {context_window: 128000, privacy: external, provider: openai, description: "",
              price: {as_of: "2024-06-01", source: "https://openai.com/pricing", output_per_1m: 0.60, input_per_1m: 0.150}}
providers: {openai: {timeout_s: 60, max_concurrency: 16, api: openai}}
description: ''
version: '2024-06-01'
"""


def _catalog_hash(tmp_path: Path, text: str, name: str) -> str:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return load_catalog_source(Source(path=parse_source(str(tmp_path / name)).path))[1]


def test_catalog_hash_is_canonical(tmp_path: Path) -> None:
    assert _catalog_hash(tmp_path, CATALOG_BLOCK, "a.yaml") == _catalog_hash(tmp_path, CATALOG_REWRITTEN, "b.yaml")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("output_per_1m: 0.6", "output_per_1m: 0.65"),
        ("as_of: 2024-06-01", "as_of: 2024-07-01"),
        ("context_window: 128000", "context_window: 64000"),
        ("privacy: external", "privacy: private"),
    ],
)
def test_catalog_hash_changes_with_any_value(tmp_path: Path, old: str, new: str) -> None:
    changed = CATALOG_BLOCK.replace(old, new)
    assert changed != CATALOG_BLOCK
    assert _catalog_hash(tmp_path, CATALOG_BLOCK, "a.yaml") != _catalog_hash(tmp_path, changed, "b.yaml")


def test_policy_carries_its_catalog_hash(project: Path) -> None:
    policy = load_policy(str(project))
    _, catalog_sha = load_catalog_source(parse_source(str(project.parent / "models.yaml")))
    assert policy.catalog_sha256 == catalog_sha
    write_catalog(project.parent, version="2024-07-01")
    again = load_policy(str(project))
    assert again.catalog_sha256 != catalog_sha
    assert again.sha256 == policy.sha256  # the policy's own meaning did not change


# Catalog discovery


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def _repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    _git(path, "init", "-q", "-b", "main")
    return path


def test_catalog_found_in_an_ancestor_folder(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    write_catalog(repo)
    policy = write_policy(repo / "policies" / "team", "p.yaml")
    loaded = load_policy(str(policy))
    assert Path(loaded.catalog_source).resolve() == (repo / "models.yaml").resolve()


def test_nearest_catalog_wins(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    write_catalog(repo, version="root")
    write_catalog(repo / "policies", version="near")
    policy = write_policy(repo / "policies", "p.yaml")
    assert load_policy(str(policy)).catalog.version == "near"


def test_catalog_search_stops_at_the_git_top_level(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_catalog(tmp_path)  # outside the repository: must not be used
    repo = _repo(tmp_path / "repo")
    write_policy(repo / "policies", "p.yaml")
    monkeypatch.chdir(repo)
    with pytest.raises(InputError) as info:
        load_policy("policies/p.yaml")
    (problem,) = info.value.problems
    assert problem.field == "catalog"
    assert problem.message == "catalog 'models.yaml' not found in the policy's folder or any folder above it"


def test_named_catalog_file(tmp_path: Path) -> None:
    write_catalog(tmp_path, "prices-2024.yaml", version="named")
    policy = write_policy(tmp_path, catalog="prices-2024.yaml")
    assert load_policy(str(policy)).catalog.version == "named"


# git:REF:path


@pytest.fixture
def history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repo with two commits of policies/p.yaml (threshold 0.6 then 0.7) and a dirty working copy (0.8)."""
    repo = _repo(tmp_path / "repo")
    write_catalog(repo)
    steps = policy_data()["escalation"]

    def write(threshold: float) -> None:
        escalation = {**steps, "steps": [{**steps["steps"][0], "below_confidence": threshold}, steps["steps"][1]]}
        write_policy(repo / "policies", "p.yaml", escalation=escalation)

    write(0.6)
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "first")
    write(0.7)
    _git(repo, "commit", "-q", "-am", "second")
    write(0.8)
    monkeypatch.chdir(repo)
    return repo


def _threshold(spec: str) -> float:
    return load_policy(spec).spec.escalation.steps[0].below_confidence


def test_git_ref_reads_the_committed_version(history: Path) -> None:
    assert _threshold("policies/p.yaml") == 0.8
    assert _threshold("git:HEAD:policies/p.yaml") == 0.7
    assert _threshold("git:HEAD~1:policies/p.yaml") == 0.6
    assert _threshold("git:main:policies/p.yaml") == 0.7
    hashes = {
        load_policy(s).sha256 for s in ("policies/p.yaml", "git:HEAD:policies/p.yaml", "git:HEAD~1:policies/p.yaml")
    }
    assert len(hashes) == 3


def test_git_ref_hash_equals_the_hash_of_the_same_content_on_disk(history: Path, tmp_path: Path) -> None:
    committed = _git(history, "show", "HEAD:policies/p.yaml")
    copy = tmp_path / "copy"
    write_catalog(copy)
    (copy / "p.yaml").write_text(committed + "\n")
    assert load_policy(str(copy / "p.yaml")).sha256 == load_policy("git:HEAD:policies/p.yaml").sha256


def test_git_ref_finds_its_catalog_in_the_refs_tree(history: Path) -> None:
    committed = load_policy("git:HEAD:policies/p.yaml")
    assert committed.catalog_source == "git:HEAD:models.yaml"
    (history / "models.yaml").unlink()  # gone from the working copy, still in the commit
    again = load_policy("git:HEAD:policies/p.yaml")
    assert again.catalog_sha256 == committed.catalog_sha256
    assert again.source == "git:HEAD:policies/p.yaml"


def test_git_ref_catalog_is_the_committed_one(history: Path) -> None:
    before = load_policy("git:HEAD:policies/p.yaml").catalog_sha256
    write_catalog(history, version="edited-but-not-committed")
    assert load_policy("git:HEAD:policies/p.yaml").catalog_sha256 == before
    assert load_policy("policies/p.yaml").catalog_sha256 != before


def test_git_path_is_relative_to_the_cwd(history: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(history / "policies")
    assert _threshold("git:HEAD:p.yaml") == 0.7


def test_explain_and_validate_accept_git_refs(history: Path) -> None:
    working = load_policy("policies/p.yaml").sha256
    committed = load_policy("git:HEAD:policies/p.yaml").sha256
    run = run_cli("explain", "git:HEAD:policies/p.yaml", cwd=history)
    assert run.code == 0, run.stderr
    assert committed in run.stdout
    assert working not in run.stdout
    assert "confidence below 0.7" in run.stdout
    run = run_cli("validate", "git:HEAD~1:policies/p.yaml", cwd=history)
    assert run.code == 0, run.stderr
    assert (
        f"policy  git:HEAD~1:policies/p.yaml (sha256 {load_policy('git:HEAD~1:policies/p.yaml').sha256[:12]})"
        in run.stdout
    )


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            "git:no-such-branch:policies/p.yaml",
            "git:no-such-branch:policies/p.yaml:0:0: -: unknown git ref 'no-such-branch'",
        ),
        ("git:HEAD:policies/missing.yaml", "git:HEAD:policies/missing.yaml:0:0: -: not found at git ref 'HEAD'"),
        ("git:HEAD~9:policies/p.yaml", "git:HEAD~9:policies/p.yaml:0:0: -: unknown git ref 'HEAD~9'"),
        (
            "git:policies/p.yaml",
            "git:policies/p.yaml:0:0: -: expected git:REF:path, e.g. git:origin/main:policies/assistant.yaml",
        ),
    ],
)
def test_git_ref_errors_are_clear(history: Path, spec: str, expected: str) -> None:
    for command in ("explain", "validate"):
        run = run_cli(command, spec, cwd=history)
        assert run.code == 2
        assert "Traceback" not in run.stderr
        assert run.problem_lines == [expected]


def test_git_ref_outside_a_repository(tmp_path: Path) -> None:
    write_project(tmp_path)
    run = run_cli("explain", "git:HEAD:policy.yaml", cwd=tmp_path)
    assert run.code == 2
    assert "Traceback" not in run.stderr
    assert run.problem_lines == [
        "git:HEAD:policy.yaml:0:0: -: git:REF:path needs the current folder to be inside a git repository"
    ]


def test_git_ref_path_outside_the_repository(history: Path) -> None:
    run = run_cli("explain", "git:HEAD:../outside.yaml", cwd=history)
    assert run.code == 2
    assert run.problem_lines == [f"git:HEAD:../outside.yaml:0:0: -: path is outside the repository {history.resolve()}"]


def test_git_ref_with_a_broken_committed_policy_names_the_ref(history: Path) -> None:
    (history / "policies" / "p.yaml").write_text("name: [unclosed\n")
    _git(history, "commit", "-q", "-am", "broken")
    with pytest.raises(InputError) as info:
        load_policy("git:HEAD:policies/p.yaml")
    (problem,) = info.value.problems
    assert problem.file == "git:HEAD:policies/p.yaml"
    assert problem.line == 2
    assert _threshold("git:HEAD~1:policies/p.yaml") == 0.7


# Working-tree errors


def test_missing_policy_file(tmp_path: Path) -> None:
    run = run_cli("explain", "nope.yaml", cwd=tmp_path)
    assert run.code == 2
    assert run.problem_lines == ["nope.yaml:0:0: -: file not found"]


def test_policy_that_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "d.yaml").mkdir()
    run = run_cli("explain", "d.yaml", cwd=tmp_path)
    assert run.code == 2
    assert run.problem_lines == ["d.yaml:0:0: -: is a folder; expected a file"]


def test_policy_not_utf8(tmp_path: Path) -> None:
    write_catalog(tmp_path)
    (tmp_path / "p.yaml").write_bytes(b"name: caf\xe9\n")
    run = run_cli("explain", "p.yaml", cwd=tmp_path)
    assert run.code == 2
    assert run.problem_lines == ["p.yaml:0:0: -: not valid UTF-8 (byte 9)"]


def test_broken_catalog_reported_against_the_catalog_file(tmp_path: Path) -> None:
    data = catalog_data()
    data["models"]["gpt-small"]["price"]["input_per_1m"] = -1
    dump_yaml(tmp_path / "models.yaml", data)
    write_policy(tmp_path)
    with pytest.raises(InputError) as info:
        load_policy(str(tmp_path / "policy.yaml"))
    (problem,) = info.value.problems
    assert problem.file == str(tmp_path / "models.yaml")
    assert problem.field == "models.gpt-small.price.input_per_1m"
    assert problem.message == "must be >= 0, got -1"


def test_loaded_policy_is_frozen(project: Path) -> None:
    from pydantic import ValidationError

    policy = load_policy(str(project))
    with pytest.raises(ValidationError):
        policy.spec.default_tier = "fast"  # type: ignore[misc]
    assert policy.tier_models()["private"] == ("llama-local", "qwen-local")
    assert policy.warnings == ()


# docs/policy.md: its examples stay valid


def _yaml_blocks(markdown: str) -> list[str]:
    blocks = markdown.split("```yaml\n")[1:]
    return [block.split("```", 1)[0] for block in blocks]


def test_annotated_example_in_docs_is_valid(tmp_path: Path) -> None:
    root = Path(__file__).parent.parent
    policy_text, catalog_text = _yaml_blocks((root / "docs" / "policy.md").read_text(encoding="utf-8"))[:2]
    (tmp_path / "models.yaml").write_bytes((root / "policies" / "models.yaml").read_bytes())
    (tmp_path / "cheap-first.yaml").write_text(policy_text, encoding="utf-8")
    policy = load_policy(str(tmp_path / "cheap-first.yaml"))
    assert policy.warnings == ()
    assert set(policy.spec.tiers) == {"fast", "balanced", "reasoning", "private"}
    assert policy.spec.rules[0].name == "pii-stays-home"
    assert any(r.when.traffic is not None for r in policy.spec.rules)
    (tmp_path / "catalog.yaml").write_text(catalog_text, encoding="utf-8")
    catalog, _ = load_catalog_source(parse_source(str(tmp_path / "catalog.yaml")))
    assert catalog.models["phi-2"].privacy == "private"
