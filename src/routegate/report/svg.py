"""Small hand-written SVG charts for report.html: deterministic bytes, no plotting dependency.

Every function returns a complete ``<svg>`` element as a string. Every piece of
text a chart embeds (labels, titles, legend entries) goes through :func:`esc`,
so a caller may mark the result safe (``markupsafe.Markup``) and inline it in
an autoescaped template. Coordinates are printed with one decimal, so the same
input always gives the same bytes. No chart carries a script, a link, an
external reference or an event attribute.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from routegate.units import format_ms, format_share, format_usd

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")

TIER_COLORS: tuple[str, ...] = ("#4c9f70", "#3b7dd8", "#8e5bd1", "#d08a2e", "#c45b8a", "#2aa6a6", "#7a8a3a", "#a0522d")
"""Fill colours of tiers, by position in the verdict's tier list (cycled)."""
FAILED_COLOR = "#9aa0a6"
BASELINE_COLOR = "#3b6fb6"
CANDIDATE_COLOR = "#e07b24"
FONT = "system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"


def clean_text(text: object) -> str:
    """``text`` as a string with C0 control characters shown as their visible Control Pictures (␀ … ␟, ␡)."""
    s = _SURROGATE.sub("\ufffd", str(text))
    return _CONTROL.sub(lambda m: chr(0x2421) if m.group() == "\x7f" else chr(0x2400 + ord(m.group())), s)


def esc(text: object) -> str:
    """Text for an SVG text node or attribute value: control characters made visible, then HTML-escaped."""
    return html.escape(clean_text(text), quote=True)


def num(x: float) -> str:
    """A coordinate with one decimal and no negative zero."""
    s = f"{x:.1f}"
    return "0.0" if s == "-0.0" else s


def tier_color(index: int) -> str:
    return TIER_COLORS[index % len(TIER_COLORS)]


def _open(width: int, height: int, title: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{esc(title)}" font-family="{esc(FONT)}" font-size="12">',
        f"<title>{esc(title)}</title>",
    ]


def _text(
    x: float,
    y: float,
    text: str,
    *,
    anchor: str = "start",
    size: int = 12,
    weight: str = "normal",
    fill: str = "#333",
    halo: bool = False,
) -> str:
    attrs = f' text-anchor="{anchor}"' if anchor != "start" else ""
    attrs += f' font-size="{size}"' if size != 12 else ""
    attrs += f' font-weight="{weight}"' if weight != "normal" else ""
    attrs += ' stroke="#fff" stroke-width="3" paint-order="stroke"' if halo else ""
    return f'<text x="{num(x)}" y="{num(y)}"{attrs} fill="{fill}">{esc(text)}</text>'


def stacked_bars(
    rows: Sequence[tuple[str, Sequence[float]]],
    segments: Sequence[str],
    colors: Sequence[str],
    *,
    title: str,
    width: int = 1000,
) -> str:
    """Horizontal 100% bars, one per row (e.g. baseline, candidate), split into ``segments`` (shares 0-1).

    Segments of at least 6% carry their percentage inside the bar; a legend follows the bars.
    """
    left, right, bar_h, gap, top = 90, 16, 30, 14, 8
    plot_w = width - left - right
    legend_y = top + len(rows) * (bar_h + gap) + 10
    height = legend_y + 22
    out = _open(width, height, title)
    for r, (label, shares) in enumerate(rows):
        y = top + r * (bar_h + gap)
        out.append(_text(left - 8, y + bar_h / 2 + 4, label, anchor="end", weight="600"))
        x = float(left)
        for share, seg, color in zip(shares, segments, colors, strict=True):
            w = max(0.0, min(1.0, share)) * plot_w
            if w <= 0:
                continue
            out.append(
                f'<rect x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{bar_h}" fill="{color}">'
                f"<title>{esc(f'{label}: {seg} {format_share(share)}')}</title></rect>"
            )
            if share >= 0.06:
                out.append(
                    _text(
                        x + w / 2, y + bar_h / 2 + 4, format_share(share, 0), anchor="middle", fill="#fff", weight="600"
                    )
                )
            x += w
        out.append(f'<rect x="{left}" y="{num(y)}" width="{plot_w}" height="{bar_h}" fill="none" stroke="#ccc"/>')
    x = float(left)
    for seg, color in zip(segments, colors, strict=True):
        out.append(f'<rect x="{num(x)}" y="{legend_y}" width="12" height="12" fill="{color}"/>')
        out.append(_text(x + 17, legend_y + 10, seg))
        x += 30 + 7.5 * len(seg)
    out.append("</svg>")
    return "".join(out)


@dataclass(frozen=True)
class Point:
    """One policy on the cost-vs-quality plot."""

    label: str
    cost: float
    """$ per 1k requests."""
    quality: float
    """Mean quality, 0-1."""
    kind: str
    """``single`` (a single-model policy), ``baseline`` or ``candidate``."""


def _nice_step(span: float, target: int = 5) -> float:
    raw = span / max(target, 1)
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def _linear_ticks(lo: float, hi: float) -> list[float]:
    step = _nice_step(hi - lo)
    start = math.ceil(lo / step - 1e-9) * step
    ticks, t = [], start
    while t <= hi + 1e-9 * max(1.0, abs(hi)):
        ticks.append(round(t, 10))
        t += step
    return ticks


def _log_ticks(lo: float, hi: float) -> list[float]:
    ticks = []
    for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
        for m in (1, 2, 5):
            t = m * 10.0**e
            if lo <= t <= hi:
                ticks.append(t)
    return ticks


def _usd_tick(x: float) -> str:
    if x >= 100:
        return f"${x:,.0f}"
    if x >= 1:
        return f"${x:g}"
    return f"${x:.3g}"


def cost_quality_scatter(
    points: Sequence[Point], frontier: Sequence[int], *, title: str, width: int = 1000, height: int = 460
) -> str:
    """Cost (x, log scale when the costs span more than 10x) vs quality (y) with the Pareto frontier as a step line.

    ``frontier`` holds indices into ``points`` (as ``routegate.stats.pareto.pareto_frontier`` returns them).
    """
    left, right, top, bottom = 64, 24, 14, 72
    pw, ph = width - left - right, height - top - bottom
    usable = [p for p in points if math.isfinite(p.cost) and math.isfinite(p.quality)]
    out = _open(width, height, title)
    if not usable:
        out.append(_text(width / 2, height / 2, "no finite cost and quality to plot", anchor="middle"))
        out.append("</svg>")
        return "".join(out)
    costs = [p.cost for p in usable]
    quals = [p.quality for p in usable]
    positive = min(costs) > 0
    log_x = positive and max(costs) / min(costs) > 10
    if log_x:
        x_lo, x_hi = math.log10(min(costs)) - 0.15, math.log10(max(costs)) + 0.15
    else:
        pad = (max(costs) - min(costs)) * 0.08 or max(abs(max(costs)) * 0.1, 0.01)
        x_lo, x_hi = max(0.0, min(costs) - pad) if positive else min(costs) - pad, max(costs) + pad
    q_pad = (max(quals) - min(quals)) * 0.12 or 0.02
    y_lo, y_hi = max(0.0, min(quals) - q_pad), min(1.0, max(quals) + q_pad)
    if y_hi <= y_lo:
        y_lo, y_hi = y_lo - 0.01, y_hi + 0.01

    def sx(cost: float) -> float:
        v = math.log10(cost) if log_x else cost
        return left + (v - x_lo) / (x_hi - x_lo) * pw

    def sy(q: float) -> float:
        return top + (1 - (q - y_lo) / (y_hi - y_lo)) * ph

    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fafbfc" stroke="#d0d4d9"/>')
    x_ticks = _log_ticks(10**x_lo, 10**x_hi) if log_x else _linear_ticks(x_lo, x_hi)
    for t in x_ticks:
        x = sx(t)
        out.append(f'<line x1="{num(x)}" y1="{top}" x2="{num(x)}" y2="{top + ph}" stroke="#e6e8eb"/>')
        out.append(_text(x, top + ph + 16, _usd_tick(t), anchor="middle", size=11, fill="#555"))
    for t in _linear_ticks(y_lo, y_hi):
        y = sy(t)
        out.append(f'<line x1="{left}" y1="{num(y)}" x2="{left + pw}" y2="{num(y)}" stroke="#e6e8eb"/>')
        out.append(_text(left - 6, y + 4, format_share(t, 0), anchor="end", size=11, fill="#555"))
    x_label = "$ per 1k requests" + (" (log scale)" if log_x else "")
    out.append(_text(left + pw / 2, top + ph + 34, x_label, anchor="middle", fill="#555"))
    out.append(
        f'<text x="14" y="{num(top + ph / 2)}" fill="#555" text-anchor="middle" '
        f'transform="rotate(-90 14 {num(top + ph / 2)})">mean quality</text>'
    )

    front = [points[i] for i in frontier if points[i] in usable]
    if front:
        d = [f"M{num(sx(front[0].cost))} {num(sy(front[0].quality))}"]
        for cur in front[1:]:
            d.append(f"H{num(sx(cur.cost))}V{num(sy(cur.quality))}")
        d.append(f"H{num(left + pw)}")
        out.append(f'<path d="{"".join(d)}" fill="none" stroke="#2e7d32" stroke-width="1.5" stroke-dasharray="5 4"/>')

    placed: list[tuple[float, float]] = []
    order = sorted(
        range(len(usable)), key=lambda i: ({"single": 0, "baseline": 1, "candidate": 2}.get(usable[i].kind, 0), i)
    )
    for i in order:
        p = usable[i]
        x, y = sx(p.cost), sy(p.quality)
        point = f"{p.label}: {format_share(p.quality)} quality, {format_usd(p.cost, digits=4)} per 1k"
        tip = f"<title>{esc(point)}</title>"
        if p.kind == "baseline":
            out.append(
                f'<rect x="{num(x - 6)}" y="{num(y - 6)}" width="12" height="12" fill="{BASELINE_COLOR}" '
                f'stroke="#fff">{tip}</rect>'
            )
            color, weight = BASELINE_COLOR, "700"
        elif p.kind == "candidate":
            out.append(
                f'<path d="M{num(x)} {num(y - 8)}L{num(x + 8)} {num(y)}L{num(x)} {num(y + 8)}L{num(x - 8)} {num(y)}Z" '
                f'fill="{CANDIDATE_COLOR}" stroke="#fff">{tip}</path>'
            )
            color, weight = CANDIDATE_COLOR, "700"
        else:
            out.append(f'<circle cx="{num(x)}" cy="{num(y)}" r="5" fill="#6b7280" stroke="#fff">{tip}</circle>')
            color, weight = "#444", "normal"
        ly = y + 4
        # Nudge a label down while it would overlap one already placed nearby.
        while any(abs(ly - py) < 13 and abs(x - px) < 110 for px, py in placed):
            ly += 13
        placed.append((x, ly))
        label = p.label if len(p.label) <= 28 else p.label[:27] + "…"
        if x + 10 + 6.5 * len(label) > left + pw:
            out.append(_text(x - 10, ly, label, anchor="end", size=11, weight=weight, fill=color, halo=True))
        else:
            out.append(_text(x + 10, ly, label, size=11, weight=weight, fill=color, halo=True))

    lx0, ly = left, height - 18
    legend = [
        ("circle", "#6b7280", "single model"),
        ("rect", BASELINE_COLOR, "baseline"),
        ("diamond", CANDIDATE_COLOR, "candidate"),
        ("line", "#2e7d32", "Pareto frontier"),
    ]
    for k, (shape, color, label) in enumerate(legend):
        lx, y = lx0 + k * 150, ly - 10
        if shape == "circle":
            out.append(f'<circle cx="{lx + 6}" cy="{y + 6}" r="5" fill="{color}"/>')
        elif shape == "rect":
            out.append(f'<rect x="{lx}" y="{y}" width="12" height="12" fill="{color}"/>')
        elif shape == "diamond":
            out.append(
                f'<path d="M{lx + 6} {y - 1}L{lx + 13} {y + 6}L{lx + 6} {y + 13}L{lx - 1} {y + 6}Z" fill="{color}"/>'
            )
        else:
            out.append(
                f'<line x1="{lx}" y1="{y + 6}" x2="{lx + 14}" y2="{y + 6}" stroke="{color}" stroke-width="1.5" '
                'stroke-dasharray="5 4"/>'
            )
        out.append(_text(lx + 20, y + 10, label, size=11))
    out.append("</svg>")
    return "".join(out)


@dataclass(frozen=True)
class LatencyRow:
    """p50/p95/p99 of one run over one group of requests (ms)."""

    group: str
    run: str
    """``baseline`` or ``candidate``."""
    p50: float
    p95: float
    p99: float


def latency_ranges(rows: Sequence[LatencyRow], *, title: str, width: int = 1000) -> str:
    """One line per (group, run) from p50 to p99 with a dot at p50 and a bar at p95, on a shared linear ms axis."""
    left, right, top, row_h, bottom = 170, 70, 8, 20, 40
    finite = [v for r in rows for v in (r.p50, r.p95, r.p99) if math.isfinite(v)]
    height = top + row_h * len(rows) + 10 * len({r.group for r in rows}) + bottom
    out = _open(width, height, title)
    if not finite:
        out.append(_text(width / 2, height / 2, "no latency to plot", anchor="middle"))
        out.append("</svg>")
        return "".join(out)
    hi = max(finite) * 1.05 or 1.0
    pw = width - left - right

    def sx(ms: float) -> float:
        return left + ms / hi * pw

    ticks = _linear_ticks(0.0, hi)
    axis_y = height - bottom + 6
    for t in ticks:
        x = sx(t)
        out.append(f'<line x1="{num(x)}" y1="{top}" x2="{num(x)}" y2="{num(axis_y)}" stroke="#eceef1"/>')
        out.append(_text(x, axis_y + 14, f"{t / 1000:g} s", anchor="middle", size=11, fill="#555"))
    y = float(top)
    group = None
    for r in rows:
        if r.group != group:
            if group is not None:
                y += 10
            group = r.group
        cy = y + row_h / 2
        color = BASELINE_COLOR if r.run == "baseline" else CANDIDATE_COLOR
        label = r.group if len(r.group) <= 22 else r.group[:21] + "…"
        out.append(_text(left - 8, cy + 4, f"{label} · {r.run}", anchor="end", size=11))
        if all(math.isfinite(v) for v in (r.p50, r.p95, r.p99)):
            summary = f"{r.group} {r.run}: p50 {format_ms(r.p50)}, p95 {format_ms(r.p95)}, p99 {format_ms(r.p99)}"
            tip = f"<title>{esc(summary)}</title>"
            out.append(
                f'<g>{tip}<line x1="{num(sx(r.p50))}" y1="{num(cy)}" x2="{num(sx(r.p99))}" y2="{num(cy)}" '
                f'stroke="{color}" stroke-width="3" stroke-linecap="round"/>'
                f'<circle cx="{num(sx(r.p50))}" cy="{num(cy)}" r="4.5" fill="{color}"/>'
                f'<rect x="{num(sx(r.p95) - 2)}" y="{num(cy - 7)}" width="4" height="14" fill="{color}"/>'
                f'<line x1="{num(sx(r.p99))}" y1="{num(cy - 5)}" x2="{num(sx(r.p99))}" y2="{num(cy + 5)}" '
                f'stroke="{color}" stroke-width="2"/></g>'
            )
            out.append(_text(sx(r.p99) + 8, cy + 4, f"{r.p99 / 1000:.1f} s", size=10, fill="#666"))
        y += row_h
    out.append("</svg>")
    return "".join(out)
