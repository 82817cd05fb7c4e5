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


#: A generous average advance of a 12 px sans-serif character, in SVG units.
CHAR_WIDTH = 7


def _cut(label: str, characters: int) -> str:
    return label if len(label) <= characters else label[: max(characters - 1, 1)] + "…"


def bar_chart(
    items: Sequence[tuple[str, float]],
    *,
    title: str,
    unit: str = "",
    width: int = 560,
    bar_height: int = 22,
    label_width: int | None = None,
) -> SafeString:
    """Horizontal bars, one per ``(label, value)``, scaled to the largest value. The label
    column is as wide as the longest label needs (up to half the chart; longer labels are cut
    with "…" and kept whole in the bar's tooltip), so no label is clipped at the left edge."""
    longest = max((len(str(label)) for label, _value in items), default=0)
    fits = (width // 2 - 12) // CHAR_WIDTH
    if label_width is None:
        label_width = max(60, min(longest, fits) * CHAR_WIDTH + 12)
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
            f'font-size="12" fill="#222">{escape(_cut(str(label), fits))}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length}" height="{bar_height}" '
            f'fill="#2f6690"><title>{escape(label)}: {escape(_fmt(value))}{escape(unit)}</title>'
            "</rect>"
            f'<text x="{label_width + length + 4}" y="{y + bar_height * 0.7:.1f}" '
            f'font-size="12" fill="#222">{escape(_fmt(value))}{escape(unit)}</text>'
        )
    if not items:
        parts.append(f'<text x="8" y="{top + 14}" font-size="12" fill="#555">–</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated string is escaped above
