"""Charts drawn on the server as SVG: no script, no CDN, readable in any browser and printable.

Each function takes labels and numbers already computed by the selectors and returns SVG
markup that scales to its container (`viewBox`, width 100 %). Every chart is `role="img"`
with a title; the numbers themselves are in the accessible table the page puts under it.
Labels are formatted the Russian way (thin spaces between thousands, a decimal comma).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#2c6fbb", "#e07b39", "#3a9d5d", "#c0392b", "#7d5ba6", "#8c8c8c", "#d4a017")
FONT = "font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif\""
NBSP_NARROW = "\u202f"

Number = int | float | Decimal | None
Formatter = Callable[[Number], str]


def number_ru(value: Number, digits: int = 0) -> str:
    """12 345 or 12 345,5: a narrow no-break space between thousands and a decimal comma."""
    if value is None:
        return "—"
    text = f"{float(value):,.{digits}f}"
    return text.replace(",", NBSP_NARROW).replace(".", ",").replace("-", "−")


def percent_ru(value: Number, digits: int = 0) -> str:
    return "—" if value is None else f"{number_ru(value, digits)}{NBSP_NARROW}%"


def _svg(width: int, height: int, title: str, body: list[str]) -> SafeString:
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width: {round(width * 1.25)}px" role="img" '
        f'aria-label="{escape(title)}" {FONT} font-size="12" '
        f'class="analytics-chart"><title>{escape(title)}</title>' + "".join(body) + "</svg>"
    )


def _nice_max(value: float) -> float:
    """The top of an axis of four steps, each step a round number (60, 250, 1 500)."""
    if value <= 0:
        return 1.0
    raw = value / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        step = factor * magnitude
        if step >= raw and (magnitude < 1 or float(step).is_integer()):
            return step * 4
    return 40 * magnitude


def _wrapped(x: float, y: float, text: str, width_chars: int) -> str:
    """A category label on at most two lines under its bar group."""
    words, lines = text.split(), [""]
    for word in words:
        if lines[-1] and len(lines[-1]) + 1 + len(word) > width_chars:
            if len(lines) == 2:
                lines[-1] = lines[-1][: max(width_chars - 1, 1)] + "…"
                break
            lines.append(word)
        else:
            lines[-1] = f"{lines[-1]} {word}".strip()
    lines = [line if len(line) <= width_chars else line[: width_chars - 1] + "…" for line in lines]
    spans = "".join(
        f'<tspan x="{x:.1f}" dy="{0 if i == 0 else 14}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle" fill="#333">{spans}</text>'


def _text(x: float, y: float, text: str, anchor: str = "middle", extra: str = "") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="#333" {extra}>'
        f"{escape(text)}</text>"
    )


def _legend(series_names: Sequence[str], width: int) -> list[str]:
    body, x = [], 50.0
    for index, name in enumerate(series_names):
        colour = PALETTE[index % len(PALETTE)]
        body.append(f'<rect x="{x:.1f}" y="6" width="12" height="12" fill="{colour}"/>')
        body.append(_text(x + 16, 16, name, "start"))
        x += 30 + 7.5 * len(name)
        if x > width - 80:
            break
    return body


def _axis(top: float, bottom: float, left: float, right: float, peak: float, fmt: Formatter):
    body = []
    for step in range(5):
        value = peak * step / 4
        y = bottom - (bottom - top) * step / 4
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#e3e3e3"/>')
        body.append(_text(left - 6, y + 4, fmt(value), "end"))
    return body


def bars(
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[Number]]],
    fmt: Formatter = number_ru,
    height: int = 260,
) -> SafeString:
    """Grouped vertical bars, one group per category."""
    width = max(720, 40 * len(categories) * max(len(series), 1) + 90)
    left, right, top, bottom = 70, width - 10, 30, height - 48
    peak = _nice_max(max((float(v or 0) for _n, vals in series for v in vals), default=0))
    body = _legend([name for name, _v in series], width) if len(series) > 1 else []
    body += _axis(top, bottom, left, right, peak, fmt)
    group = (right - left) / max(len(categories), 1)
    bar = group * 0.8 / max(len(series), 1)
    for c, category in enumerate(categories):
        x0 = left + group * c + group * 0.1
        for s, (_name, values) in enumerate(series):
            value = float(values[c] or 0)
            h = (bottom - top) * value / peak
            x = x0 + bar * s
            colour = PALETTE[s % len(PALETTE)]
            body.append(
                f'<rect x="{x:.1f}" y="{bottom - h:.1f}" width="{max(bar - 2, 1):.1f}" '
                f'height="{h:.1f}" fill="{colour}"><title>{escape(category)}: '
                f"{escape(fmt(values[c]))}</title></rect>"
            )
        chars = max(int(group / 7), 4)
        body.append(_wrapped(left + group * (c + 0.5), bottom + 16, category, chars))
    body.append(f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#999"/>')
    return _svg(width, height, title, body)


def hbars(
    title: str,
    labels: Sequence[str],
    values: Sequence[Number],
    fmt: Formatter = number_ru,
    colour: str = PALETTE[0],
) -> SafeString:
    """Horizontal bars, one per label (reasons, suppliers): long labels stay readable."""
    width, row, left = 720, 26, 260
    height = 20 + row * max(len(labels), 1)
    peak = _nice_max(max((float(v or 0) for v in values), default=0))
    body = []
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 10 + row * index
        w = (width - left - 90) * float(value or 0) / peak
        short = label if len(label) <= 34 else label[:33] + "…"
        body.append(_text(left - 8, y + 15, short, "end"))
        body.append(
            f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" fill="{colour}"/>'
        )
        body.append(_text(left + w + 6, y + 15, fmt(value), "start"))
    return _svg(width, height, title, body)


def lines(
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[Number]]],
    fmt: Formatter = number_ru,
    height: int = 260,
) -> SafeString:
    """Lines over time; a missing value (None) breaks its line."""
    width = 720
    left, right, top, bottom = 70, width - 40, 30, height - 48
    peak = _nice_max(
        max((float(v) for _n, vals in series for v in vals if v is not None), default=0)
    )
    body = _legend([name for name, _v in series], width)
    body += _axis(top, bottom, left, right, peak, fmt)
    count = max(len(categories), 1)
    step = (right - left) / max(count - 1, 1)
    every = max(1, math.ceil(count / 8))
    for index, category in enumerate(categories):
        if index % every == 0:
            body.append(_text(left + step * index, bottom + 16, category))
    for s, (name, values) in enumerate(series):
        colour = PALETTE[s % len(PALETTE)]
        path, points = "", []
        for index, value in enumerate(values):
            if value is None:
                path += " "
                continue
            x = left + step * index
            y = bottom - (bottom - top) * float(value) / peak
            path += ("L" if path and not path.endswith(" ") else "M") + f"{x:.1f},{y:.1f}"
            points.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>'
                f"{escape(name)}, {escape(categories[index])}: {escape(fmt(value))}"
                "</title></circle>"
            )
        body.append(f'<path d="{path.strip()}" fill="none" stroke="{colour}" stroke-width="2"/>')
        body += points
    body.append(f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#999"/>')
    return _svg(width, height, title, body)


def funnel(title: str, steps: Sequence[tuple[str, int]]) -> SafeString:
    """Centred bars narrowing step by step, each with its count and the share of the
    previous step that reached it."""
    width, row = 720, 38
    height = 10 + row * len(steps)
    peak = max((value for _label, value in steps), default=0) or 1
    body, previous = [], None
    for index, (label, value) in enumerate(steps):
        w = max((width - 370) * value / peak, 2)
        x = 275 + (width - 370 - w) / 2
        y = 6 + row * index
        colour = PALETTE[0] if index < len(steps) - 1 else PALETTE[2]
        body.append(
            f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row - 8}" fill="{colour}" rx="3"/>'
        )
        body.append(_text(266, y + 20, label if len(label) <= 36 else label[:35] + "…", "end"))
        share = f" · {percent_ru(value * 100 / previous)}" if previous else ""
        body.append(_text(width - 82, y + 20, f"{number_ru(value)}{share}", "start"))
        previous = value or None
    return _svg(width, height, title, body)


def heatmap(
    title: str,
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[Number]],
    fmt: Formatter = number_ru,
) -> SafeString:
    """A grid coloured by value (darker is larger); empty cells stay grey."""
    cell_w, cell_h, left, top = 27, 24, 40, 22
    width = left + cell_w * len(columns) + 10
    height = top + cell_h * len(rows) + 6
    peak = max((float(v) for row in values for v in row if v is not None), default=0) or 1
    body = [_text(left + cell_w * (c + 0.5), 15, col) for c, col in enumerate(columns)]
    for r, label in enumerate(rows):
        y = top + cell_h * r
        body.append(_text(left - 6, y + 16, label, "end"))
        for c, value in enumerate(values[r]):
            x = left + cell_w * c
            if value is None:
                fill = "#f1f1f1"
            else:
                share = float(value) / peak
                red, green, blue = 235 - 190 * share, 243 - 140 * share, 250 - 60 * share
                fill = f"rgb({int(red)},{int(green)},{int(blue)})"
            tip = f"{label} {columns[c]}: {fmt(value)}"
            body.append(
                f'<rect x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" '
                f'fill="{fill}"><title>{escape(tip)}</title></rect>'
            )
    return _svg(width, height, title, body)


def ranges(
    title: str,
    labels: Sequence[str],
    medians: Sequence[Number],
    highs: Sequence[Number],
    fmt: Formatter = number_ru,
    low_name: str = "",
    high_name: str = "",
) -> SafeString:
    """A distribution per row: a bar up to the 90th percentile with a mark at the median."""
    width, row, left = 720, 30, 200
    height = 34 + row * max(len(labels), 1)
    peak = _nice_max(max((float(v or 0) for v in list(medians) + list(highs)), default=0))
    scale = (width - left - 110) / peak
    body = [
        f'<rect x="{left}" y="6" width="14" height="10" fill="#b9d3ee"/>',
        _text(left + 20, 15, high_name, "start"),
        f'<rect x="{left + 200}" y="4" width="4" height="14" fill="#1b3f6b"/>',
        _text(left + 210, 15, low_name, "start"),
    ]
    for index, label in enumerate(labels):
        y = 28 + row * index
        high, median = float(highs[index] or 0), float(medians[index] or 0)
        body.append(_text(left - 8, y + 15, label if len(label) <= 28 else label[:27] + "…", "end"))
        body.append(
            f'<rect x="{left}" y="{y + 4}" width="{high * scale:.1f}" height="{row - 12}" '
            f'fill="#b9d3ee"/>'
        )
        body.append(
            f'<rect x="{left + median * scale - 2:.1f}" y="{y}" width="4" height="{row - 4}" '
            f'fill="#1b3f6b"/>'
        )
        body.append(
            _text(
                left + high * scale + 8,
                y + 15,
                f"{fmt(medians[index])} / {fmt(highs[index])}",
                "start",
            )
        )
    return _svg(width, height, title, body)
