"""Chart geometry computed on the server; the templates draw it as inline SVG (no scripts,
no CDN, autoescaped like everything else)."""

from dataclasses import dataclass
from typing import Any

PALETTE = (
    "#1b6ca8",
    "#c8692b",
    "#3a9e5c",
    "#c23b3b",
    "#7d5ba6",
    "#8c6d46",
    "#d16ba5",
    "#5f6b73",
)
OUTCOME_COLOURS = {"allow": "#3a9e5c", "log": "#1b6ca8", "warn": "#c8692b", "block": "#c23b3b"}


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str
    title: str


def stacked_bars(
    days: list[str],
    series: list[tuple[str, list[int | None]]],
    *,
    width: int = 760,
    height: int = 220,
    colours: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Bars per day, stacked by series; a day with a suppressed value (None) gets one grey stub
    on top that names no series: which series is hidden would say it had events that day."""
    left, bottom, top = 40, 24, 8
    plot_w, plot_h = width - left - 8, height - bottom - top
    totals = [sum(v or 0 for _, values in series for v in [values[i]]) for i in range(len(days))]
    peak = max(totals, default=0) or 1
    step = plot_w / max(len(days), 1)
    bar_w = max(step * 0.8, 1.0)
    rects: list[Rect] = []
    hidden: list[Rect] = []
    legend = []
    for s, (name, _values) in enumerate(series):
        colour = (colours or {}).get(name, PALETTE[s % len(PALETTE)])
        legend.append({"name": name, "fill": colour})
    for i, day in enumerate(days):
        y: float = top + plot_h
        some_hidden = False
        for s, (name, values) in enumerate(series):
            colour = legend[s]["fill"]
            value = values[i]
            if value is None:
                some_hidden = True
                continue
            if value == 0:
                continue
            h = value / peak * plot_h
            y -= h
            rects.append(Rect(left + i * step, y, bar_w, h, colour, f"{day} {name}: {value}"))
        if some_hidden:
            hidden.append(
                Rect(left + i * step, y - 3, bar_w, 3, "#767676", f"{day}: some figures hidden")
            )
    ticks = []
    label_every = max(1, len(days) // 8)
    for i, day in enumerate(days):
        if i % label_every == 0:
            ticks.append({"x": left + i * step + bar_w / 2, "label": day[5:]})
    return {
        "width": width,
        "height": height,
        "rects": rects,
        "hidden": hidden,
        "legend": legend,
        "ticks": ticks,
        "peak": peak,
        "axis_y": top + plot_h,
        "left": left,
        "top": top,
    }


def hbars(items: list[tuple[str, int | None]], *, width: int = 520) -> dict[str, Any]:
    row_h, label_w = 22, 140
    peak = max((n for _, n in items if n is not None), default=0) or 1
    rows = []
    for i, (label, n) in enumerate(items):
        w = 0.0 if n is None else n / peak * (width - label_w - 70)
        rows.append(
            {"y": i * row_h, "label": label, "n": n, "w": w, "fill": PALETTE[i % len(PALETTE)]}
        )
    return {"width": width, "height": max(len(items), 1) * row_h, "rows": rows, "label_w": label_w}


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def heatmap(cells: dict[tuple[int, int], int | None]) -> dict[str, Any]:
    """Hour (columns) by weekday (rows); darker is more. A hidden hour looks and reads as an hour
    with no events ("nothing shown"): a grey square would say someone was active then."""
    size, left, top = 26, 40, 18
    peak = max((n for n in cells.values() if n is not None), default=0) or 1
    squares = []
    for wd in range(7):
        for hour in range(24):
            n = cells.get((wd, hour), 0)
            if not n:
                fill, title = "#f5f5f5", f"{WEEKDAYS[wd]} {hour:02d}:00: nothing shown"
            else:
                shade = int(245 - (n / peak) * 200)
                fill = f"rgb({shade},{min(255, shade + 10)},255)"
                title = f"{WEEKDAYS[wd]} {hour:02d}:00: {n}"
            squares.append(
                {"x": left + hour * size, "y": top + wd * size, "fill": fill, "title": title}
            )
    return {
        "width": left + 24 * size + 4,
        "height": top + 7 * size + 4,
        "size": size - 2,
        "squares": squares,
        "rows": [{"y": top + i * size + size * 0.65, "label": d} for i, d in enumerate(WEEKDAYS)],
        "cols": [{"x": left + h * size + size / 2, "label": f"{h:02d}"} for h in range(0, 24, 3)],
    }
