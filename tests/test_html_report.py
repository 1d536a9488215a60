"""report.html: content, determinism, size, and safety in a real headless Chromium.

The Chromium tests drive Debian's ``/usr/bin/chromium`` through the ``playwright``
package (never a downloaded browser). Without it they skip with the reason,
except under CI (``CI`` set), where they fail: the safety checks must run there.
Set ``ROUTEGATE_UPDATE_SCREENSHOT=1`` to refresh docs/images/report.png from the
real ``routegate gate`` run.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from routegate.gates.outcome import GateOutcome
from routegate.gates.result import GateResult
from routegate.gates.spec import GatesSpec
from routegate.importers.synthetic import write_synthetic_suite
from routegate.load.policy import load_policy
from routegate.load.suite import load_suite
from routegate.pipeline import RunOptions, gate_policies
from routegate.report.html import render_html
from routegate.report.html.slices import MAX_SLICE_ROWS
from routegate.report.verdict import verdict_json
from routegate.stats.frontier import single_model_points
from routegate.units import Unit
from routegate.writer import dumps_json

ROUTEGATE = shutil.which("routegate") or str(Path(sys.executable).parent / "routegate")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "images" / "report.png"

XSS = [
    "<script>window.__xss=1;alert(1)</script>",
    '<img src=x onerror="window.__xss=1">',
    '<svg onload="window.__xss=1">',
    "[click](javascript:alert(1)) javascript:window.__xss=1",
    "</pre></details><script>window.__xss=1</script>",
    '"><iframe src=javascript:alert(1)>',
    "{{7*7}} {% raw %}",
    "</style><style>body{display:none}</style>",
    "ctrl:\x00\x07\x1b[31m\x7f:end",
]
CONTROL_SHOWN = "ctrl:␀␇␛[31m␡:end"
"""How the control-character payload must read on the page."""


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = write_synthetic_suite(tmp_path_factory.mktemp("synthetic"), 2000, seed=3)
    text = (folder / "policy.yaml").read_text()
    assert "below_confidence: 0.55" in text
    candidate = (
        text.replace("below_confidence: 0.55", "below_confidence: 0.35")
        .replace("name: bench", "name: bench-cheaper", 1)
        .replace("version: 1.0.0", "version: 1.1.0", 1)
    )
    (folder / "candidate.yaml").write_text(candidate)
    return folder


@pytest.fixture(scope="module")
def outcome_and_verdict(suite: Path) -> tuple[GateOutcome, dict[str, Any]]:
    """A real gate (cheaper candidate: less escalation), run in-process, and its verdict dict."""
    baseline, candidate = load_policy(str(suite / "policy.yaml")), load_policy(str(suite / "candidate.yaml"))
    suites = [load_suite(suite)]
    outcome = gate_policies(baseline, candidate, suites, GatesSpec(), options=RunOptions(seed=5))
    v = verdict_json(outcome, GatesSpec())
    v["single_models"] = single_model_points(suites, candidate, seed=5)
    return outcome, v


@pytest.fixture(scope="module")
def verdict(outcome_and_verdict: tuple[GateOutcome, dict[str, Any]]) -> dict[str, Any]:
    """The real gate's verdict dict, before any JSON round trip."""
    return outcome_and_verdict[1]


@pytest.fixture(scope="module")
def gates(outcome_and_verdict: tuple[GateOutcome, dict[str, Any]]) -> tuple[GateResult, ...]:
    """The real gate's typed results, in verdict.json's order."""
    return outcome_and_verdict[0].verdict.gates


@pytest.fixture(scope="module")
def gate_out(suite: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output folder of a real ``routegate gate`` run in a subprocess."""
    out = tmp_path_factory.mktemp("gate") / "out"
    result = subprocess.run(
        [
            ROUTEGATE,
            "gate",
            "--baseline",
            str(suite / "policy.yaml"),
            "--candidate",
            str(suite / "candidate.yaml"),
            "--suite",
            str(suite),
            "--out",
            str(out),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    return out


def _need_chromium() -> None:
    problem = None
    if not CHROMIUM.exists():
        problem = f"{CHROMIUM} is missing (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright package is missing (pip install -e '.[test]')"
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"Chromium tests cannot run under CI: {problem}")
        pytest.skip(f"Chromium tests need Debian's chromium and playwright: {problem}")


@dataclass
class Rendered:
    """What a page did while Chromium loaded it."""

    html_path: Path
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    text: str = ""
    xss: str = ""
    dangerous_elements: int = -1
    event_attributes: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    queries: dict[str, Any] = field(default_factory=dict)


Open = Callable[..., Rendered]


@pytest.fixture
def open_in_chromium(tmp_path: Path) -> Iterator[Open]:
    """Open an HTML file in a fresh headless Chromium and record what it did."""
    _need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1200, "height": 900},
        )

        def open_file(path: Path, *, queries: dict[str, str] | None = None, screenshot: Path | None = None) -> Rendered:
            page = context.new_page()
            r = Rendered(path)
            page.on("console", lambda m: r.console_errors.append(m.text) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: r.page_errors.append(str(e)))
            page.on("request", lambda q: r.requests.append(q.url))

            def on_dialog(d: Any) -> None:
                r.dialogs.append(d.message)
                d.dismiss()

            page.on("dialog", on_dialog)
            page.goto(path.resolve().as_uri())
            page.wait_for_load_state("load")
            if screenshot is not None:
                page.set_viewport_size({"width": 1200, "height": 2610})
                page.screenshot(path=str(screenshot), full_page=False)
            page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
            r.text = page.inner_text("body")
            r.xss = page.evaluate("typeof window.__xss")
            r.dangerous_elements = page.evaluate(
                "document.querySelectorAll('script,iframe,object,embed,img,image,foreignObject,link,base,form').length"
            )
            r.event_attributes = page.evaluate(
                "[...document.querySelectorAll('*')].flatMap(e => [...e.attributes].map(a => a.name))"
                ".filter(n => n.toLowerCase().startsWith('on'))"
            )
            r.links = page.evaluate("[...document.querySelectorAll('[href]')].map(e => e.getAttribute('href'))")
            for name, js in (queries or {}).items():
                r.queries[name] = page.evaluate(js)
            page.close()
            return r

        yield open_file
        context.close()


def _assert_clean(r: Rendered) -> None:
    assert r.console_errors == []
    assert r.page_errors == []
    assert r.requests == [r.html_path.resolve().as_uri()]
    assert r.dialogs == []
    assert r.xss == "undefined"
    assert r.dangerous_elements == 0
    assert r.event_attributes == []
    assert all(h.startswith("#") for h in r.links), r.links


# --------------------------------------------------------------------------- content and determinism


def test_same_verdict_gives_same_bytes_before_and_after_json(
    verdict: dict[str, Any], gates: tuple[GateResult, ...]
) -> None:
    first = render_html(verdict, gates=gates, policy_diff="--- a\n+++ b\n")
    assert render_html(verdict, gates=gates, policy_diff="--- a\n+++ b\n") == first
    assert render_html(json.loads(dumps_json(verdict)), gates=gates, policy_diff="--- a\n+++ b\n") == first
    assert "Generated at" not in first
    stamped = render_html(verdict, gates=gates, policy_diff="--- a\n+++ b\n", generated_at="2030-01-02 03:04 UTC")
    assert "Generated at 2030-01-02 03:04 UTC." in stamped
    assert re.sub(r"<div>Generated at [^<]*</div>\n?", "", stamped) == first


def test_page_is_self_contained(verdict: dict[str, Any], gates: tuple[GateResult, ...]) -> None:
    html = render_html(verdict, gates=gates)
    assert "<script" not in html.lower()
    assert "default-src 'none'; style-src 'unsafe-inline'; img-src data:" in html
    # The only URL is the SVG namespace, which no browser fetches.
    assert set(re.findall(r"(?:https?:)?//[\w.-]+[^\s\"'<>]*", html)) == {"http://www.w3.org/2000/svg"}
    assert not re.search(r"""\s(?:src|srcset|action|formaction|xlink:href)=""", html)
    assert all(h.startswith("#") for h in re.findall(r'href="([^"]*)"', html))
    assert "|safe" not in (Path(__file__).resolve().parents[1] / "src/routegate/templates/report.html.j2").read_text()


def test_failed_gates_come_first_and_banner_says_failed(verdict: dict[str, Any], gates: tuple[GateResult, ...]) -> None:
    assert not verdict["passed"], "the cheaper candidate is expected to fail a quality gate"
    html = render_html(verdict, gates=gates)
    assert 'class="banner failed"' in html
    assert ">FAILED<" in html
    failed = [g["name"] for g in verdict["gates"] if not g["passed"]]
    passed = [g["name"] for g in verdict["gates"] if g["passed"] and not g["skipped"]]
    gates_html = html[html.index('id="gates"') : html.index('id="tiers"')]
    rows = re.findall(r'<td class="name">([^<]*)</td><td><span class="status st-([a-z-]+)"', gates_html)
    names = [n.replace("&amp;", "&") for n, _ in rows]
    assert names[: len(failed)] == failed
    assert set(names[len(failed) : len(failed) + len(passed)]) == set(passed)
    assert [s for _, s in rows[: len(failed)]] == ["failed"] * len(failed)
    assert f"fails {len(failed)} of {len(verdict['gates'])} gates" in html


def test_passing_verdict_banner(verdict: dict[str, Any], gates: tuple[GateResult, ...]) -> None:
    v = copy.deepcopy(verdict)
    v["passed"] = True
    html = render_html(v, gates=[dataclasses.replace(g, passed=True, inconclusive=False) for g in gates])
    assert 'class="banner passed"' in html
    assert ">PASSED<" in html
    assert "passes all" in html
    assert "fails" not in html.split('id="summary"')[0]


def test_a_passing_verdict_with_inconclusive_gates_says_so_beside_the_verdict(
    verdict: dict[str, Any], gates: tuple[GateResult, ...]
) -> None:
    """An inconclusive gate does not fail the check, but the banner names it: not a plain PASSED."""
    v = copy.deepcopy(verdict)
    v["passed"] = True
    unsure = {gates[0].name}
    shown = [dataclasses.replace(g, passed=True, inconclusive=g.name in unsure) for g in gates]
    html = render_html(v, gates=shown)
    assert 'class="banner unsure" id="verdict">\n  <div class="badge">PASSED, 1 INCONCLUSIVE</div>' in html
    assert f"cannot tell for 1: {gates[0].name}" in html
    assert '<span class="status st-inconclusive">inconclusive</span>' in html


def test_saving_against_the_reasoning_tier(verdict: dict[str, Any], gates: tuple[GateResult, ...]) -> None:
    ref = next(p for p in verdict["single_models"] if p["model"] == "synth-reasoning")["cost_per_1k_usd"]
    base = verdict["deltas"]["overall"]["cost_per_1k_usd"]["baseline"]
    cand = verdict["deltas"]["overall"]["cost_per_1k_usd"]["candidate"]
    html = render_html(verdict, gates=gates)
    assert f"<b>${ref:,.4f}</b> per 1k" in html
    assert f"Baseline saves<br><b>{100 * (1 - base / ref):.1f}%</b>" in html
    assert f"Candidate saves<br><b>{100 * (1 - cand / ref):.1f}%</b>" in html
    # With the tier's chain declared in the policy description, its first model is the reference.
    v = copy.deepcopy(verdict)
    v["candidate"]["policy"]["tiers"] = {"reasoning": ["synth-balanced", "synth-reasoning"]}
    other = next(p for p in v["single_models"] if p["model"] == "synth-balanced")["cost_per_1k_usd"]
    assert f"<b>${other:,.4f}</b> per 1k" in render_html(v, gates=gates)
    # No single-model replay of the reasoning tier's models: said, not guessed.
    v = copy.deepcopy(verdict)
    v["single_models"] = [p for p in v["single_models"] if p["model"] != "synth-reasoning"]
    html = render_html(v, gates=gates)
    assert "No single-model replay exists for the reasoning tier" in html
    assert "Baseline saves" not in html


def test_tier_shift_matrix_and_tier_mix(verdict: dict[str, Any], gates: tuple[GateResult, ...]) -> None:
    html = render_html(verdict, gates=gates)
    counts = verdict["tier_shift"]["counts"]
    tier_table = html[html.index('id="shift"') : html.index("<h3>Model shift</h3>")]
    diag = re.findall(r'<td class="diag">([\d,]+)</td>', tier_table)
    assert diag == [f"{counts[i][i]:,}" for i in range(len(counts))]
    models = verdict["model_shift"]["counts"]
    model_table = html[html.index("<h3>Model shift</h3>") : html.index('id="frontier"')]
    assert re.findall(r'<td class="diag">([\d,]+)</td>', model_table) == [
        f"{models[i][i]:,}" for i in range(len(models))
    ]
    moved = sum(map(sum, counts)) - sum(counts[i][i] for i in range(len(counts)))
    assert moved > 0
    assert f"{moved:,} of {sum(map(sum, counts)):,} requests" in html
    for tier, mix in verdict["deltas"]["overall"]["tier_mix"].items():
        assert f"{100 * mix['baseline']:.1f}% → {100 * mix['candidate']:.1f}%" in html, tier


def test_frontier_plot_has_every_single_model(verdict: dict[str, Any], gates: tuple[GateResult, ...]) -> None:
    html = render_html(verdict, gates=gates)
    plot = html[html.index('id="frontier"') : html.index('id="latency"')]
    for p in verdict["single_models"]:
        assert f">{p['model']}</text>" in plot
    assert plot.count("<circle") >= len(verdict["single_models"])
    assert 'stroke-dasharray="5 4"' in plot  # the frontier
    assert ">baseline: bench</text>" in plot
    assert ">candidate: bench-cheaper</text>" in plot


def test_latency_and_slices_are_summarised(verdict: dict[str, Any], gates: tuple[GateResult, ...]) -> None:
    html = render_html(verdict, gates=gates)
    sla = verdict["deltas"]["by_slice"]["sla"]
    for cls, block in sla.items():
        p95 = block["latency_ms"]["p95"]
        assert f"sla={cls}" in html
        assert f"{p95['baseline']:,.0f} ms → {p95['candidate']:,.0f} ms" in html
    for name, values in verdict["deltas"]["by_slice"].items():
        assert f"<summary>{name} · {len(values)} values</summary>" in html
        for value, block in values.items():
            q = block["quality"]
            assert f"{100 * q['baseline']:.1f}% → {100 * q['candidate']:.1f}%" in html, (name, value)


def test_size_stays_small_with_many_slice_values(verdict: dict[str, Any], gates: tuple[GateResult, ...]) -> None:
    v = copy.deepcopy(verdict)
    block = next(iter(v["deltas"]["by_slice"]["task_type"].values()))
    many = 20_000
    v["deltas"]["by_slice"]["customer"] = {f"customer-{i:05d}": block for i in range(many)}
    extra = [
        GateResult(f"quality[customer=customer-{i:05d}]", True, 0.0, -0.03, "ok " * 30, unit=Unit.POINTS)
        for i in range(5000)
    ]
    html = render_html(v, gates=[*gates, *extra])
    assert len(html.encode()) < 5_000_000
    assert len(html.encode()) < 300_000  # only capped, aggregated rows go in
    assert f"… and {many - MAX_SLICE_ROWS} more values" in html
    assert "more gates (all listed in verdict.json)" in html


GATE_CELL = re.compile(
    r'<td class="name">([^<]*)</td><td>.*?</td><td class="num">([^<]*)</td><td class="num">([^<]*)</td>'
)
"""A gates-table row: name, observed, threshold."""


@pytest.mark.parametrize(
    ("unit", "observed", "threshold", "shown"),
    [
        (Unit.POINTS, -0.0123, -0.01, ("-1.23 pt", "-1.00 pt")),
        (Unit.SHARE, 0.0123, 0.01, ("1.23%", "1.00%")),
        (Unit.PERCENT, 10.06, 10.0, ("+10.1%", "+10.0%")),
        (Unit.MS, 1234.5, 2500.0, ("1,234 ms", "2,500 ms")),
        (Unit.COUNT, 12345, 0, ("12,345", "0")),
        (Unit.NUMBER, 0.99871234, 0.99, ("0.9987", "0.99")),
        (Unit.MS, None, 2500.0, ("–", "2,500 ms")),
        (Unit.SHARE, float("nan"), 0.01, ("–", "1.00%")),
    ],
)
def test_gate_values_are_printed_in_the_unit_the_result_carries(
    verdict: dict[str, Any],
    unit: Unit,
    observed: float | int | None,
    threshold: float | int,
    shown: tuple[str, str],
) -> None:
    # The name says "quality" whatever the unit: the page must follow the unit, not the name.
    gate = GateResult("quality", False, observed, threshold, "reason", unit=unit)
    rows = GATE_CELL.findall(render_html(verdict, gates=[gate]))
    assert rows == [("quality", *shown)]


def test_gates_of_the_real_run_show_their_units(verdict: dict[str, Any], gates: tuple[GateResult, ...]) -> None:
    html = render_html(verdict, gates=gates)
    rows = {name: (observed, threshold) for name, observed, threshold in GATE_CELL.findall(html)}
    by_name = {g.name: g for g in gates}
    observed = by_name["quality"].observed
    assert isinstance(observed, float)
    assert rows["quality"] == (f"{100 * observed:+.2f} pt", "-1.00 pt")
    assert rows["cost"][1] == "+10.0%"
    assert rows["errors"][1] == "1.00%"
    assert rows["privacy"] == ("0", "0")
    kinds = {g.name.split("[")[0]: g.unit for g in gates}
    assert kinds == {
        "quality": Unit.POINTS,
        "cost": Unit.PERCENT,
        "latency_p95_increase": Unit.PERCENT,
        "errors": Unit.SHARE,
        "privacy": Unit.COUNT,
    }


def test_units_stay_out_of_verdict_json(verdict: dict[str, Any], gates: tuple[GateResult, ...]) -> None:
    assert [g.to_json() for g in gates] == verdict["gates"]
    assert all(
        set(g) <= {"name", "status", "passed", "skipped", "observed", "threshold", "reason", "details"}
        for g in verdict["gates"]
    )


def _poison(verdict: dict[str, Any], gates: tuple[GateResult, ...]) -> tuple[dict[str, Any], list[GateResult], str]:
    """The verdict and its gates with the XSS corpus in every untrusted field, and a policy diff carrying it too."""
    v = copy.deepcopy(verdict)
    joined = " | ".join(XSS)
    assert v["examples"]["regressions"], "the cheaper candidate is expected to regress some requests"
    for kind in ("regressions", "improvements"):
        for k, ex in enumerate(v["examples"][kind]):
            payload = XSS[k % len(XSS)]
            ex["example_id"] = f"id-{k}-{payload}"
            ex["suite"] = payload
            ex["prompt"] = f"[user] {joined}"
            ex["baseline"]["response"] = payload
            ex["candidate"]["response"] = joined
            ex["candidate"]["model"] = payload
    v["suites"][0]["name"] = joined
    v["suites"][0]["version"] = XSS[0]
    for side in ("baseline", "candidate"):
        v[side]["policy"]["name"] = f"{side}-{XSS[1]}"
        v[side]["policy"]["source"] = XSS[4]
    poisoned = [dataclasses.replace(g, reason=XSS[k % len(XSS)]) for k, g in enumerate(gates)]
    poisoned[0] = dataclasses.replace(poisoned[0], name=XSS[5])
    v["gates_config"]["source"] = XSS[2]
    block = next(iter(v["deltas"]["by_slice"]["task_type"].values()))
    for payload in XSS:
        v["deltas"]["by_slice"]["task_type"][payload] = block
    v["single_models"][0]["model"] = XSS[6]
    diff = "--- a/policy.yaml\n+++ b/policy.yaml\n@@ -1,2 +1,2 @@\n" + "".join(f"-old {p}\n+new {p}\n" for p in XSS)
    return v, poisoned, diff


def test_poisoned_verdict_is_escaped_in_the_markup(verdict: dict[str, Any], gates: tuple[GateResult, ...]) -> None:
    v, poisoned, diff = _poison(verdict, gates)
    html = render_html(v, gates=poisoned, policy_diff=diff)
    for tag in ("<script", "<iframe", "<img", "<svg onload"):
        assert tag not in html.lower()
    assert not re.search(r"<[^>]*\son\w+\s*=", html)  # no event attribute on any real tag
    assert "onerror=&#34;window.__xss=1&#34;" in html  # the payload is there, as text
    for char in "\x00\x07\x1b":
        assert char not in html
    assert "{{7*7}}" in html  # no template injection: printed literally
    assert "{% raw %}" in html
    assert html.count("<style>") == 1


# --------------------------------------------------------------------------- in Chromium


def test_xss_corpus_executes_nothing_in_chromium(
    verdict: dict[str, Any], gates: tuple[GateResult, ...], tmp_path: Path, open_in_chromium: Open
) -> None:
    v, poisoned, diff = _poison(verdict, gates)
    path = tmp_path / "report.html"
    path.write_text(render_html(v, gates=poisoned, policy_diff=diff), encoding="utf-8")
    r = open_in_chromium(
        path,
        queries={
            "diff_added": "[...document.querySelectorAll('pre.diff span.add')].map(s => s.textContent)",
            "diff_removed": "document.querySelectorAll('pre.diff span.del').length",
            "hidden_body": "getComputedStyle(document.body).display",
        },
    )
    _assert_clean(r)
    for payload in XSS[:-1]:
        assert payload in r.text, payload
    assert CONTROL_SHOWN in r.text
    assert "{{7*7}}" in r.text
    assert r.queries["diff_added"][: len(XSS) - 1] == [f"+new {p}" for p in XSS[:-1]]
    assert r.queries["diff_removed"] == len(XSS)
    assert r.queries["hidden_body"] != "none"


def test_real_gate_run_renders_cleanly_in_chromium(gate_out: Path, tmp_path: Path, open_in_chromium: Open) -> None:
    report = gate_out / "report.html"
    verdict = json.loads((gate_out / "verdict.json").read_text())
    shot = tmp_path / "report.png"
    r = open_in_chromium(
        report,
        screenshot=shot,
        queries={
            "sections": "[...document.querySelectorAll('main > section')].map(s => s.id)",
            "banner": "document.querySelector('.banner .badge').textContent",
            "diff_added": "[...document.querySelectorAll('pre.diff span.add')].map(s => s.textContent)",
            "svgs": "document.querySelectorAll('svg').length",
            "width": "document.documentElement.scrollWidth",
        },
    )
    _assert_clean(r)
    assert r.queries["sections"] == [
        "summary",
        "gates",
        "tiers",
        "shift",
        "frontier",
        "latency",
        "slices",
        "examples",
        "diff",
        "provenance",
    ]
    assert r.queries["banner"] == ("PASSED" if verdict["passed"] else "FAILED")
    assert any("below_confidence: 0.35" in line for line in r.queries["diff_added"])
    assert r.queries["svgs"] == 3
    assert r.queries["width"] <= 1200  # nothing overflows the page sideways
    for digest in [
        verdict["baseline"]["policy"]["sha256"],
        verdict["candidate"]["policy"]["sha256"],
        verdict["baseline"]["policy"]["catalog_sha256"],
        *(s["sha256"] for s in verdict["suites"]),
    ]:
        assert digest in r.text
    assert f"{verdict['seed']}" in r.text
    ex = verdict["examples"]["regressions"][0]
    assert ex["example_id"] in r.text
    assert ex["baseline"]["response"] in r.text
    assert shot.stat().st_size > 10_000
    if os.environ.get("ROUTEGATE_UPDATE_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)
