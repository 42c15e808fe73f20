"""Bar charts laid out on the server, drawn by templates/charts/bars.html as inline SVG.

No chart library and no script: the geometry is computed here, the template only places
rectangles and text, and every chart comes with a title, a description and a data table as its
text alternative (WCAG 1.1.1). Charts show counts only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Series:
    key: str  # CSS class suffix: chart-bar-<key>
    label: str  # translated legend text
    values: Sequence[int]


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    key: str
    tooltip: str


@dataclass(frozen=True, slots=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass(frozen=True, slots=True)
class Chart:
    id: str
    title: str
    description: str
    width: int
    height: int
    bars: list[Bar]
    labels: list[Label]
    grid: list[tuple[float, float, float, float]]  # x1, y1, x2, y2
    ticks: list[Label]
    series: list[Series]
    categories: list[str]

    def rows(self) -> list[tuple[str, list[int]]]:
        """The data table: one row per category, one value per series."""
        return [
            (category, [int(s.values[i]) for s in self.series])
            for i, category in enumerate(self.categories)
        ]


def nice_step(value: float) -> int:
    """The smallest whole 1, 2 or 5 × 10^k at or above value."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return int(step * magnitude)
    return int(10 * magnitude)  # pragma: no cover - the loop always returns


def axis(peak: int, most_ticks: int = 5) -> list[int]:
    """Whole, evenly spaced axis values from 0 to at least `peak` (at most `most_ticks` steps)."""
    step = nice_step(max(peak, 1) / most_ticks)
    top = step * max(1, math.ceil(peak / step))
    return list(range(0, top + 1, step))


def columns(
    *,
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    width: int = 640,
    height: int = 240,
) -> Chart:
    """Grouped vertical bars: one group per category (e.g. a day), one bar per series."""
    left, right, top, bottom = 44, 8, 12, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    ticks_at = axis(max((v for s in series for v in s.values), default=0))
    peak = ticks_at[-1]
    group_w = plot_w / max(len(categories), 1)
    bar_w = group_w * 0.8 / max(len(series), 1)
    bars, labels = [], []
    every = max(1, math.ceil(len(categories) / 7))  # at most ~7 axis labels
    for i, category in enumerate(categories):
        x0 = left + i * group_w + group_w * 0.1
        for j, s in enumerate(series):
            value = int(s.values[i])
            h = plot_h * value / peak
            bars.append(
                Bar(
                    x=round(x0 + j * bar_w, 2),
                    y=round(top + plot_h - h, 2),
                    width=round(bar_w - 1, 2),
                    height=round(h, 2),
                    value=value,
                    key=s.key,
                    tooltip=f"{category} · {s.label}: {value}",
                )
            )
        if (len(categories) - 1 - i) % every == 0:  # the last category (today) always
            labels.append(Label(x=round(x0 + group_w * 0.4, 2), y=height - 14, text=category))
    grid: list[tuple[float, float, float, float]] = []
    ticks: list[Label] = []
    for value in ticks_at:
        y = round(top + plot_h - plot_h * value / peak, 2)
        grid.append((left, y, width - right, y))
        ticks.append(Label(x=left - 6, y=y + 4, text=str(value), anchor="end"))
    return Chart(
        id=chart_id,
        title=title,
        description=description,
        width=width,
        height=height,
        bars=bars,
        labels=labels,
        grid=grid,
        ticks=ticks,
        series=list(series),
        categories=list(categories),
    )


def rows(
    *,
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    width: int = 640,
    row_height: int = 36,
) -> Chart:
    """Grouped horizontal bars: one row per category (e.g. a person), one bar per series."""
    left, right, top, bottom = 110, 24, 8, 26
    height = top + bottom + row_height * max(len(categories), 1)
    plot_w = width - left - right
    ticks_at = axis(max((v for s in series for v in s.values), default=0))
    peak = ticks_at[-1]
    bar_h = (row_height - 8) / max(len(series), 1)
    bars, labels = [], []
    for i, category in enumerate(categories):
        y0 = top + i * row_height + 4
        labels.append(
            Label(x=left - 8, y=round(y0 + row_height / 2, 2), text=category, anchor="end")
        )
        for j, s in enumerate(series):
            value = int(s.values[i])
            bars.append(
                Bar(
                    x=left,
                    y=round(y0 + j * bar_h, 2),
                    width=round(plot_w * value / peak, 2),
                    height=round(bar_h - 1, 2),
                    value=value,
                    key=s.key,
                    tooltip=f"{category} · {s.label}: {value}",
                )
            )
    grid: list[tuple[float, float, float, float]] = []
    ticks: list[Label] = []
    for value in ticks_at:
        x = round(left + plot_w * value / peak, 2)
        grid.append((x, top, x, height - bottom))
        ticks.append(Label(x=x, y=height - 8, text=str(value)))
    return Chart(
        id=chart_id,
        title=title,
        description=description,
        width=width,
        height=height,
        bars=bars,
        labels=labels,
        grid=grid,
        ticks=ticks,
        series=list(series),
        categories=list(categories),
    )
