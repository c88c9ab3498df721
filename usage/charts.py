"""Bar charts drawn on the server as inline SVG: no script, no CDN, the CSP stays strict.

Colours come from the admin's CSS variables through classes (usage/static/usage/
dashboard.css), so a chart follows the admin's light and dark themes."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 600, 160
LEFT, BOTTOM, TOP = 56, 22, 10


def _n(value: float) -> str:
    return f"{value:.1f}"


def bar_chart(
    points: Sequence[tuple[str, float | None]],
    *,
    title: str,
    fmt: Callable[[float], str] = lambda value: f"{value:,.0f}",
) -> SafeString:
    """One bar per (label, value); a None value is a gap. Each bar's <title> tells its
    exact value (a tooltip, and what a screen reader reads)."""
    values = [value or 0 for _, value in points]
    peak = max(values, default=0) or 1
    plot_w, plot_h = WIDTH - LEFT - 4, HEIGHT - BOTTOM - TOP
    slot = plot_w / max(1, len(points))
    bars = []
    for index, (label, value) in enumerate(points):
        if value is None:
            continue
        height = plot_h * (value / peak)
        x = LEFT + index * slot + slot * 0.15
        bars.append(
            format_html(
                '<rect class="usage-bar" x="{}" y="{}" width="{}" height="{}">'
                "<title>{}: {}</title></rect>",
                _n(x),
                _n(TOP + plot_h - height),
                _n(slot * 0.7),
                _n(max(height, 0.5 if value else 0)),
                label,
                fmt(value),
            )
        )
    ticks = []
    for fraction in (0, 0.5, 1):
        y = TOP + plot_h * (1 - fraction)
        ticks.append(
            format_html(
                '<line class="usage-grid" x1="{}" x2="{}" y1="{}" y2="{}"></line>'
                '<text class="usage-axis" x="{}" y="{}" text-anchor="end">{}</text>',
                LEFT,
                WIDTH - 4,
                _n(y),
                _n(y),
                LEFT - 6,
                _n(y + 4),
                fmt(peak * fraction),
            )
        )
    labels = []
    if points:
        for index in sorted({0, len(points) // 2, len(points) - 1}):
            x = LEFT + index * slot + slot / 2
            labels.append(
                format_html(
                    '<text class="usage-axis" x="{}" y="{}" text-anchor="middle">{}</text>',
                    _n(x),
                    HEIGHT - 6,
                    points[index][0],
                )
            )
    return format_html(
        '<svg class="usage-chart" viewBox="0 0 {} {}" role="img" aria-label="{}">'
        "<title>{}</title>{}{}{}</svg>",
        WIDTH,
        HEIGHT,
        title,
        title,
        mark_safe("".join(ticks)),
        mark_safe("".join(bars)),
        mark_safe("".join(labels)),
    )
