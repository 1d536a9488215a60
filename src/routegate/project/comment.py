"""The sticky pull-request comment of ``routegate check``: one Markdown text that always fits GitHub.

:func:`render_comment` is a pure function of the check (its plan, each gated policy's outcome and
each policy's ``summary.md``): the same inputs give the same text. The comment reads, top to bottom:

    <!-- routegate-verdict -->          the marker the comment workflow finds the comment by
    headline                            PASSED/FAILED, base ref and merge base, policies gated/failed
    table                               one row per gated policy, failing ones first
    failed gates                        policy: gate: reason, for every failing gate
    reported, not gated                 deleted and renamed policies
    Full reports: URL                   when the uploaded reports' address is given
    <details> per gated policy          its summary.md, failing policies first

**Size.** GitHub refuses a comment body over 65,536 characters. ``limit`` counts characters:
Unicode code points, ``len(text)``, the unit of GitHub's message ("maximum is 65536
characters"). Where GitHub was measured to count UTF-8 bytes instead (262,144 of them for an issue
comment), 65,536 code points are at most 262,144 bytes, so the default limit is safe under either
reading. When the text is longer, whole parts are left out, in this order, until it fits:

1. the ``<details>`` blocks of passing policies, from the last one back (one line says how many);
2. the rows of gates that were reported but not gated (``⏭``) inside the remaining blocks;
3. the ``<details>`` blocks of failing policies, from the last one back;
4. the reported-not-gated list;
5. the failed-gate lines beyond the first ``FAILED_GATE_LINES``, then those too;
6. the table's rows, from the last one back ("… and N more policies: see check.md in the reports").

The headline, the table's header and the ``Full reports`` line always stay (a limit too small for
them is a ``ValueError``). Only whole blocks and whole lines are removed, so no ``<details>`` block,
Markdown table or character is ever cut. Text from policies, suites and git (paths, reasons, gate
names) is escaped with :mod:`routegate.report.mdtext`; a ``|`` in code in a table cell is escaped
too (GitHub splits cells on it even in a code span); inside the ``<summary>`` tag, which GitHub
reads as raw HTML (a CommonMark HTML block), text is HTML-escaped instead.
"""

from __future__ import annotations

import dataclasses
import html
import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from routegate.project.check import CheckPlan
from routegate.project.run import Checked, verdict_cell
from routegate.report.mdtext import md_cell, md_code, md_table

MARKER = "<!-- routegate-verdict -->"
"""The comment's first line: the comment workflow updates the comment holding it instead of adding one."""
COMMENT_LIMIT = 65_536
"""GitHub's limit on a comment body, in characters."""
FAILED_GATE_LINES = 50
"""Failed-gate lines kept when the list is shortened (step 5 of the module docstring)."""
REASON_CHARS = 400
"""A failed gate's reason is cut (with ``…``) at this many characters, as in check.md."""
SKIPPED_ROW = "| ⏭ |"
"""How a row of a gate reported but not gated starts in summary.md's gate table."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_URL_SAFE = ":/?#[]@!$&'()*+,;=%~"


@dataclass(frozen=True)
class _Details:
    """One gated policy's ``<details>`` block, whole and without its not-gated rows."""

    passed: bool
    """Whether the policy passed."""
    whole: str
    """The block with the policy's whole summary.md."""
    gated_only: str
    """The block without the rows of gates reported but not gated (a line says how many)."""


@dataclass(frozen=True)
class _Parts:
    """Every part of the comment, rendered; the parts that can be left out as lists."""

    head: str
    """Marker, heading and the sentence under it."""
    table_head: tuple[str, ...]
    """The table's header and separator lines; empty when no policy was gated."""
    rows: tuple[str, ...]
    """The table's rows, failing policies first."""
    failed: tuple[str, ...]
    """One list line per failed gate."""
    notes: tuple[str, ...]
    """One list line per change reported but not gated."""
    link: str | None
    """The ``Full reports:`` line."""
    details: tuple[_Details, ...]
    """One block per gated policy, failing policies first."""


@dataclass(frozen=True)
class _Keep:
    """How much of each part that can be left out one rendering keeps."""

    passing: int
    """Passing policies' ``<details>`` blocks kept, from the first."""
    not_gated_rows: bool
    """Whether the kept blocks keep the rows of gates reported but not gated."""
    failing: int
    """Failing policies' ``<details>`` blocks kept, from the first."""
    notes: bool
    """Whether the reported-not-gated list is kept."""
    failed: int
    """Failed-gate lines kept, from the first."""
    rows: int
    """Table rows kept, from the first."""


def render_comment(
    plan: CheckPlan,
    checked: Sequence[Checked],
    sections: Mapping[str, str],
    *,
    artifact_url: str | None = None,
    limit: int = COMMENT_LIMIT,
) -> str:
    """The pull-request comment of a check, at most ``limit`` characters (see the module docstring).

    ``sections[policy]`` is that gated policy's summary.md (``report.gate_markdown``); a policy
    without one gets a line saying so. ``artifact_url`` is where the reports were uploaded.
    Raises ``ValueError`` when not even the headline and the table's header fit in ``limit``.
    """
    parts = _build_parts(plan, checked, sections, artifact_url)
    passing = sum(d.passed for d in parts.details)
    keep = _Keep(passing, True, len(parts.details) - passing, True, len(parts.failed), len(parts.rows))

    def fits(candidate: _Keep) -> bool:
        return _size(_blocks(parts, candidate)) <= limit

    def most(to: Callable[[int], _Keep], low: int, high: int) -> _Keep:
        """``to(n)`` for the largest ``n`` from ``low`` to ``high`` that fits."""
        return to(_largest(lambda n: fits(to(n)), low, high))

    replace = dataclasses.replace
    steps: list[Callable[[_Keep], _Keep]] = [  # the order of the module docstring
        lambda k: most(lambda n: replace(k, passing=n), 0, k.passing),
        lambda k: replace(k, not_gated_rows=False),
        lambda k: most(lambda n: replace(k, failing=n), 0, k.failing),
        lambda k: replace(k, notes=False),
        lambda k: most(lambda n: replace(k, failed=n), min(k.failed, FAILED_GATE_LINES), k.failed),
        lambda k: most(lambda n: replace(k, failed=n), 0, k.failed),
        lambda k: most(lambda n: replace(k, rows=n), 0, k.rows),
    ]
    for step in steps:
        if fits(keep):
            break
        keep = step(keep)
    blocks = _blocks(parts, keep)
    if _size(blocks) > limit:
        raise ValueError(f"a limit of {limit} characters is too small for the comment's headline ({_size(blocks)})")
    # A path git could not decode holds lone surrogates, which are not UTF-8: each becomes "?" (one character).
    return _join(blocks).encode("utf-8", "replace").decode("utf-8")


def _largest(fits: Callable[[int], bool], low: int, high: int) -> int:
    """The largest ``n`` in ``[low, high]`` with ``fits(n)``, by bisection; ``low`` when none fits."""
    if fits(high):
        return high
    if not fits(low):
        return low
    while high - low > 1:  # fits(low), not fits(high)
        middle = (low + high) // 2
        if fits(middle):
            low = middle
        else:
            high = middle
    return low


def _build_parts(
    plan: CheckPlan, checked: Sequence[Checked], sections: Mapping[str, str], artifact_url: str | None
) -> _Parts:
    """Render every part once; :func:`_blocks` only chooses among them."""
    ordered = [c for c in checked if not c.outcome.verdict.passed] + [c for c in checked if c.outcome.verdict.passed]
    failing = len(checked) - sum(c.outcome.verdict.passed for c in checked)
    base = md_code(f"{plan.changes.base_ref}@{plan.changes.merge_base[:7]}")
    unsure = sum(len(c.outcome.verdict.inconclusive) for c in checked)
    beside = f", {_count(unsure, 'gate', 'gates')} inconclusive" if unsure else ""
    heading = f"## routegate check: {'❌ FAILED' if failing else '✅ PASSED'}{beside}"
    if checked:
        files = _count(len(plan.changes.changes), "changed file", "changed files")
        gated = _count(len(checked), "policy", "policies")
        sentence = f"Against {base} ({files}): {gated} gated, {failing:,} failed."
        if unsure:
            sentence += (
                f" {_count(unsure, 'gate', 'gates')} inconclusive: the suites cannot tell at the gate's margin "
                "(see each policy's summary; docs/gates.md)."
            )
    else:
        sentence = f"Nothing routing-relevant changed since {base}: no policy was gated."
    rows = [
        [
            _code_cell(c.gating.policy),
            md_cell(c.gating.why),
            verdict_cell(c.outcome.verdict),
            f"{len(c.outcome.verdict.failed)} of {len(c.outcome.verdict.gates)}",
        ]
        for c in ordered
    ]
    table = md_table(["policy", "why gated", "verdict", "gates failed"], rows) if checked else []
    failed = [
        f"- {md_code(c.gating.policy)}: {md_code(g.name)}: {md_cell(g.reason, limit=REASON_CHARS)}"
        for c in ordered
        for g in c.outcome.verdict.failed
    ]
    return _Parts(
        head="\n".join([MARKER, heading, "", sentence]),
        table_head=tuple(table[:2]),
        rows=tuple(table[2:]),
        failed=tuple(failed),
        notes=tuple(f"- {md_code(n.path)}: {md_cell(n.what)}" for n in plan.notes),
        link=None if artifact_url is None else f"Full reports: {_link(artifact_url)}",
        details=tuple(_details(c, sections.get(c.gating.policy)) for c in ordered),
    )


def _size(blocks: Sequence[str]) -> int:
    """``len(_join(blocks))``, without joining them."""
    return sum(len(b) for b in blocks) + 2 * len(blocks) - 1


def _join(blocks: Sequence[str]) -> str:
    """The comment's text: its blocks separated by blank lines, ending in a newline."""
    return "\n\n".join(blocks) + "\n"


def _blocks(parts: _Parts, keep: _Keep) -> list[str]:
    """The comment's blocks (each one or more whole lines) keeping what ``keep`` says."""
    blocks = [parts.head]
    if parts.table_head:
        table = "\n".join([*parts.table_head, *parts.rows[: keep.rows]])
        blocks.append(table)
        if keep.rows < len(parts.rows):
            blocks.append(f"… and {len(parts.rows) - keep.rows:,} more policies: see check.md in the reports")
    if parts.failed:
        if keep.failed:
            blocks += ["Failed gates:", "\n".join(parts.failed[: keep.failed])]
        left = len(parts.failed) - keep.failed
        if left and keep.failed:
            blocks.append(f"… and {left:,} more failed gates: see check.md in the reports")
        elif left:
            blocks.append(f"{_count(left, 'failed gate', 'failed gates')} left out: see check.md in the reports")
    if parts.notes:
        if keep.notes:
            blocks += ["Reported, not gated:", "\n".join(parts.notes)]
        else:
            changes = _count(len(parts.notes), "change", "changes")
            blocks.append(f"{changes} reported, not gated, left out: see check.md in the reports")
    if parts.link is not None:
        blocks.append(parts.link)
    failing = [d for d in parts.details if not d.passed]
    passing = [d for d in parts.details if d.passed]
    for block in [*failing[: keep.failing], *passing[: keep.passing]]:
        blocks.append(block.whole if keep.not_gated_rows else block.gated_only)
    if keep.failing < len(failing):
        blocks.append(_details_left_out(len(failing) - keep.failing, "failing"))
    if keep.passing < len(passing):
        blocks.append(_details_left_out(len(passing) - keep.passing, "passing"))
    return blocks


def _details(c: Checked, section: str | None) -> _Details:
    """The ``<details>`` block of one gated policy, whole and without its not-gated rows."""
    passed = c.outcome.verdict.passed
    summary = f"<details><summary>{_html_text(c.gating.policy)} ({'passed' if passed else 'FAILED'})</summary>"
    if section is None:
        section = "No summary.md for this policy: see its reports."
    section = _balanced(section.strip("\n"))

    def block(body: str) -> str:
        return "\n".join([summary, "", body, "", "</details>"])

    return _Details(passed, block(section), block(_without_not_gated(section)))


def _balanced(section: str) -> str:
    """``section`` with a ``</details>`` for each block it opens and does not close (summary.md is cut
    at its own cap, which may fall inside one)."""
    missing = section.count("<details>") - section.count("</details>")
    return section + "\n\n</details>" * max(missing, 0)


def _without_not_gated(section: str) -> str:
    """``section`` without the table rows of gates reported but not gated; after each table that
    had some, a line says how many."""
    out: list[str] = []
    dropped = 0
    for line in section.split("\n"):
        if line.startswith(SKIPPED_ROW):
            dropped += 1
            continue
        if dropped and not line.startswith("|"):  # the table ended: a blank line, then the note
            out += ["", f"{_count(dropped, 'gate', 'gates')} reported but not gated left out: see verdict.json"]
            out += [] if line == "" else [""]
            dropped = 0
        out.append(line)
    if dropped:
        out += ["", f"{_count(dropped, 'gate', 'gates')} reported but not gated left out: see verdict.json"]
    return "\n".join(out)


def _link(url: str) -> str:
    """An http(s) address as a Markdown autolink (characters that could end it percent-encoded);
    anything else as code, never as a link."""
    clean = _CONTROL.sub("", url).strip()
    if urllib.parse.urlsplit(clean).scheme.lower() in ("http", "https"):
        return f"<{urllib.parse.quote(clean, safe=_URL_SAFE)}>"
    return md_code(clean)


def _code_cell(text: str) -> str:
    """``text`` as code in a table cell: a ``|`` splits a GitHub table cell even inside a code span,
    unless escaped (the table reads ``\\|`` as ``|`` before the code span is read)."""
    return md_code(text).replace("|", "\\|")


def _html_text(text: str) -> str:
    """Untrusted text inside an HTML tag: escaped, control characters removed, on one line."""
    return html.escape(" ".join(_CONTROL.sub(" ", text).split()), quote=True)


def _details_left_out(n: int, kind: str) -> str:
    """The line that stands for ``n`` left-out ``<details>`` blocks of ``kind`` (passing, failing) policies."""
    whose = f"1 {kind} policy's" if n == 1 else f"{n:,} {kind} policies'"
    return f"{whose} details left out: see the reports"


def _count(n: int, one: str, many: str) -> str:
    """``1 policy``, ``2 policies``: a number with its noun."""
    return f"{n:,} {one if n == 1 else many}"
