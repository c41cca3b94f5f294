"""Charts as SVG, drawn here: the same markup in the dashboard (inline, CSP-safe: no script,
no style attribute, only presentation attributes) and in the PDF (WeasyPrint draws inline
SVG itself). No chart library: a few bars and two lines do not need one.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from reports.selectors import Line
from reports.tables import display

FONT = "Noto Sans CJK SC, Noto Sans CJK, sans-serif"
INK, MUTED, GRID = "#1f2933", "#52606d", "#d9dee5"
BAR, SECOND = "#0b4fa3", "#8fb3e0"
WIDTH = 680


def _text(x, y, content, *, size=12, anchor="start", fill=INK, weight="normal") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-family="{FONT}" font-size="{size}" '
        f'text-anchor="{anchor}" fill="{fill}" font-weight="{weight}">{escape(content)}</text>'
    )


def _svg(height: float, title: str, body: list[str], *, css_class: str) -> SafeString:
    return mark_safe(  # noqa: S308 - every text in `body` went through escape()
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css_class}" role="img" '
        f'viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" height="{height:.0f}">'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def bar_chart(items: list[tuple[str, int | Decimal]], *, title: str) -> SafeString:
    """Horizontal bars, one per item, with the value written after the bar."""
    label_width, value_width, row, top = 170, 110, 24, 8
    span = WIDTH - label_width - value_width
    largest = max((value for _, value in items), default=0) or 1
    body = [
        f'<line x1="{label_width}" y1="{top - 4}" x2="{label_width}" '
        f'y2="{top + row * len(items)}" stroke="{GRID}" stroke-width="1"/>'
    ]
    for index, (label, value) in enumerate(items):
        y = top + index * row
        length = float(value) / float(largest) * span
        body.append(_text(label_width - 8, y + 16, label[:14], anchor="end"))
        body.append(
            f'<rect x="{label_width}" y="{y + 4}" width="{length:.1f}" height="{row - 8}" '
            f'fill="{BAR}"/>'
        )
        body.append(_text(label_width + length + 6, y + 16, display(value), fill=MUTED))
    return _svg(top * 2 + row * len(items), title, body, css_class="bars")


def count_ticks(largest: int, *, most: int = 5) -> list[int]:
    """The y-axis of a chart of counts: whole numbers from 0, evenly spaced by 1, 2 or 5
    times a power of ten, the last at or above `largest`, at most `most` steps. Halving the
    largest value gave "1, 0, 0" for a month with one application (issue 16)."""
    largest = max(int(largest), 1)
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            steps = -(-largest // step)  # ceiling
            if steps <= most:
                return [step * n for n in range(steps + 1)]
        magnitude *= 10


def trend_chart(lines: list[Line], *, title: str, received: str, funded: str) -> SafeString:
    """Received and funded applications per month: two bars a month, a legend on top."""
    left, right, top, bottom, height = 44, 10, 34, 26, 240
    plot_height = height - top - bottom
    step = (WIDTH - left - right) / max(len(lines), 1)
    ticks = count_ticks(max((line.received or 0 for line in lines), default=0))
    largest = ticks[-1]  # the axis ends on a tick, so every bar reads against the grid
    body = []
    for tick in ticks:
        y = top + plot_height * (1 - tick / largest)
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{WIDTH - right}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        body.append(_text(left - 6, y + 4, display(tick), size=10, anchor="end", fill=MUTED))
    for index, line in enumerate(lines):
        x = left + index * step
        for offset, value, colour in ((0.15, line.received, SECOND), (0.5, line.funded, BAR)):
            bar = plot_height * (value or 0) / largest
            body.append(
                f'<rect x="{x + step * offset:.1f}" y="{top + plot_height - bar:.1f}" '
                f'width="{step * 0.35:.1f}" height="{bar:.1f}" fill="{colour}"/>'
            )
        body.append(_text(x + step / 2, height - 8, line.label[2:], size=10, anchor="middle"))
    for index, (name, colour) in enumerate(((received, SECOND), (funded, BAR))):
        x = left + index * 160
        body.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{colour}"/>')
        body.append(_text(x + 18, 17, name, size=12))
    return _svg(height, title, body, css_class="trend")


def report_charts(figures) -> list[tuple[str, SafeString]]:
    """The report's three charts, (title, svg), for the dashboard and the PDF."""
    from django.utils.translation import gettext as _

    members = _("Pledged by member organisation (yuan)")
    categories = _("Applications received by disease category")
    trend = _("Applications per month: received and funded")
    return [
        (members, bar_chart([(m.label, m.pledged) for m in figures.by_member], title=members)),
        (
            categories,
            bar_chart([(c.label, c.received) for c in figures.by_category], title=categories),
        ),
        (
            trend,
            trend_chart(figures.trend, title=trend, received=_("Received"), funded=_("Funded")),
        ),
    ]
