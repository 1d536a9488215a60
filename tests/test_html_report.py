"""report.html: content, determinism, size, and safety in a real headless Chromium.

The Chromium tests drive Debian's ``/usr/bin/chromium`` through the ``playwright``
package (never a downloaded browser). Without it they skip with the reason,
except under CI (``CI`` set), where they fail: the safety checks must run there.
Set ``ROUTEGATE_UPDATE_SCREENSHOT=1`` to refresh docs/images/report.png from the
real ``routegate gate`` run.
"""

from __future__ import annotations

import copy
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

from routegate.gates.spec import GatesSpec
from routegate.importers.synthetic import write_synthetic_suite
from routegate.load.policy import load_policy
from routegate.load.suite import load_suite
from routegate.pipeline import RunOptions, gate_policies
from routegate.report.html import MAX_SLICE_ROWS, render_html
from routegate.report.verdict import verdict_json
from routegate.stats.frontier import single_model_points
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
def verdict(suite: Path) -> dict[str, Any]:
    """A real verdict (cheaper candidate: less escalation), built in-process, before any JSON round trip."""
    baseline, candidate = load_policy(str(suite / "policy.yaml")), load_policy(str(suite / "candidate.yaml"))
    suites = [load_suite(suite)]
    outcome = gate_policies(baseline, candidate, suites, GatesSpec(), options=RunOptions(seed=5))
    v = verdict_json(outcome, GatesSpec())
    v["single_models"] = single_model_points(suites, candidate, seed=5)
    return v


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


def test_same_verdict_gives_same_bytes_before_and_after_json(verdict: dict[str, Any]) -> None:
    first = render_html(verdict, policy_diff="--- a\n+++ b\n")
    assert render_html(verdict, policy_diff="--- a\n+++ b\n") == first
    assert render_html(json.loads(dumps_json(verdict)), policy_diff="--- a\n+++ b\n") == first
    assert "Generated at" not in first
    stamped = render_html(verdict, policy_diff="--- a\n+++ b\n", generated_at="2030-01-02 03:04 UTC")
    assert "Generated at 2030-01-02 03:04 UTC." in stamped
    assert re.sub(r"<div>Generated at [^<]*</div>\n?", "", stamped) == first


def test_page_is_self_contained(verdict: dict[str, Any]) -> None:
    html = render_html(verdict)
    assert "<script" not in html.lower()
    assert "default-src 'none'; style-src 'unsafe-inline'; img-src data:" in html
    # The only URL is the SVG namespace, which no browser fetches.
    assert set(re.findall(r"(?:https?:)?//[\w.-]+[^\s\"'<>]*", html)) == {"http://www.w3.org/2000/svg"}
    assert not re.search(r"""\s(?:src|srcset|action|formaction|xlink:href)=""", html)
    assert all(h.startswith("#") for h in re.findall(r'href="([^"]*)"', html))
    assert "|safe" not in (Path(__file__).resolve().parents[1] / "src/routegate/templates/report.html.j2").read_text()


def test_failed_gates_come_first_and_banner_says_failed(verdict: dict[str, Any]) -> None:
    assert not verdict["passed"], "the cheaper candidate is expected to fail a quality gate"
    html = render_html(verdict)
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


def test_passing_verdict_banner(verdict: dict[str, Any]) -> None:
    v = copy.deepcopy(verdict)
    v["passed"] = True
    for g in v["gates"]:
        g["passed"] = True
    html = render_html(v)
    assert 'class="banner passed"' in html
    assert ">PASSED<" in html
    assert "passes all" in html
    assert "fails" not in html.split('id="summary"')[0]


def test_saving_against_the_reasoning_tier(verdict: dict[str, Any]) -> None:
    ref = next(p for p in verdict["single_models"] if p["model"] == "synth-reasoning")["cost_per_1k_usd"]
    base = verdict["deltas"]["overall"]["cost_per_1k_usd"]["baseline"]
    cand = verdict["deltas"]["overall"]["cost_per_1k_usd"]["candidate"]
    html = render_html(verdict)
    assert f"<b>${ref:,.4f}</b> per 1k" in html
    assert f"Baseline saves<br><b>{100 * (1 - base / ref):.1f}%</b>" in html
    assert f"Candidate saves<br><b>{100 * (1 - cand / ref):.1f}%</b>" in html
    # With the tier's chain declared in the policy description, its first model is the reference.
    v = copy.deepcopy(verdict)
    v["candidate"]["policy"]["tiers"] = {"reasoning": ["synth-balanced", "synth-reasoning"]}
    other = next(p for p in v["single_models"] if p["model"] == "synth-balanced")["cost_per_1k_usd"]
    assert f"<b>${other:,.4f}</b> per 1k" in render_html(v)
    # No single-model replay of the reasoning tier's models: said, not guessed.
    v = copy.deepcopy(verdict)
    v["single_models"] = [p for p in v["single_models"] if p["model"] != "synth-reasoning"]
    html = render_html(v)
    assert "No single-model replay exists for the reasoning tier" in html
    assert "Baseline saves" not in html


def test_tier_shift_matrix_and_tier_mix(verdict: dict[str, Any]) -> None:
    html = render_html(verdict)
    counts = verdict["tier_shift"]["counts"]
    diag = re.findall(r'<td class="diag">([\d,]+)</td>', html)
    assert diag == [f"{counts[i][i]:,}" for i in range(len(counts))]
    moved = sum(map(sum, counts)) - sum(counts[i][i] for i in range(len(counts)))
    assert moved > 0
    assert f"{moved:,} of {sum(map(sum, counts)):,} requests" in html
    for tier, mix in verdict["deltas"]["overall"]["tier_mix"].items():
        assert f"{100 * mix['baseline']:.1f}% → {100 * mix['candidate']:.1f}%" in html, tier


def test_frontier_plot_has_every_single_model(verdict: dict[str, Any]) -> None:
    html = render_html(verdict)
    plot = html[html.index('id="frontier"') : html.index('id="latency"')]
    for p in verdict["single_models"]:
        assert f">{p['model']}</text>" in plot
    assert plot.count("<circle") >= len(verdict["single_models"])
    assert 'stroke-dasharray="5 4"' in plot  # the frontier
    assert ">baseline: bench</text>" in plot
    assert ">candidate: bench-cheaper</text>" in plot


def test_latency_and_slices_are_summarised(verdict: dict[str, Any]) -> None:
    html = render_html(verdict)
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


def test_size_stays_small_with_many_slice_values(verdict: dict[str, Any]) -> None:
    v = copy.deepcopy(verdict)
    block = next(iter(v["deltas"]["by_slice"]["task_type"].values()))
    many = 20_000
    v["deltas"]["by_slice"]["customer"] = {f"customer-{i:05d}": block for i in range(many)}
    v["gates"] = v["gates"] + [
        {
            "name": f"quality[customer=customer-{i:05d}]",
            "passed": True,
            "skipped": False,
            "observed": 0.0,
            "threshold": -0.03,
            "reason": "ok " * 30,
        }
        for i in range(5000)
    ]
    html = render_html(v)
    assert len(html.encode()) < 5_000_000
    assert len(html.encode()) < 300_000  # only capped, aggregated rows go in
    assert f"… and {many - MAX_SLICE_ROWS} more values" in html
    assert "more gates (all listed in verdict.json)" in html


def _poison(verdict: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The verdict with the XSS corpus in every untrusted field, and a policy diff carrying it too."""
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
    for k, g in enumerate(v["gates"]):
        g["reason"] = XSS[k % len(XSS)]
    v["gates"][0]["name"] = XSS[5]
    v["gates_config"]["source"] = XSS[2]
    block = next(iter(v["deltas"]["by_slice"]["task_type"].values()))
    for payload in XSS:
        v["deltas"]["by_slice"]["task_type"][payload] = block
    v["single_models"][0]["model"] = XSS[6]
    diff = "--- a/policy.yaml\n+++ b/policy.yaml\n@@ -1,2 +1,2 @@\n" + "".join(f"-old {p}\n+new {p}\n" for p in XSS)
    return v, diff


def test_poisoned_verdict_is_escaped_in_the_markup(verdict: dict[str, Any]) -> None:
    v, diff = _poison(verdict)
    html = render_html(v, policy_diff=diff)
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
    verdict: dict[str, Any], tmp_path: Path, open_in_chromium: Open
) -> None:
    v, diff = _poison(verdict)
    path = tmp_path / "report.html"
    path.write_text(render_html(v, policy_diff=diff), encoding="utf-8")
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
