"""A tiny server-side SVG bar chart: no JavaScript, no CDN, readable in the PDF and the page.

Every chart is drawn with a <title> and <desc> and ``role="img"``; the page that shows it also
renders the same numbers as a table, which is what a screen reader is pointed at.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def bar_chart(
    items: Sequence[tuple[str, float]],
    *,
    title: str,
    unit: str = "",
    width: int = 560,
    bar_height: int = 22,
    label_width: int = 180,
) -> SafeString:
    """Horizontal bars, one per ``(label, value)``, scaled to the largest value."""
    gap = 6
    top = 8
    height = top + max(len(items), 1) * (bar_height + gap) + 4
    plot = width - label_width - 70
    largest = max((value for _label, value in items), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f"<desc>{escape('; '.join(f'{label}: {_fmt(value)}{unit}' for label, value in items))}"
        "</desc>",
    ]
    for index, (label, value) in enumerate(items):
        y = top + index * (bar_height + gap)
        length = round(plot * value / largest) if value > 0 else 0
        parts.append(
            f'<text x="{label_width - 6}" y="{y + bar_height * 0.7:.1f}" text-anchor="end" '
            f'font-size="12" fill="#222">{escape(label[:32])}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length}" height="{bar_height}" '
            f'fill="#2f6690"/>'
            f'<text x="{label_width + length + 4}" y="{y + bar_height * 0.7:.1f}" '
            f'font-size="12" fill="#222">{escape(_fmt(value))}{escape(unit)}</text>'
        )
    if not items:
        parts.append(f'<text x="8" y="{top + 14}" font-size="12" fill="#555">–</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated string is escaped above
