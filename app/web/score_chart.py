"""The geometry of the score-history chart: pure arithmetic, drawn as SVG by a template macro.

Time runs left to right in proportion (irregular runs stay irregular); the score axis starts at 0
and ends at 100, or higher when a score is. The newest point is the current score.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from app import schemas

WIDTH, HEIGHT = 960, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 20, 16, 34  # room for the axis labels
# The phone's drawing: about as many units as pixels at 390 px, so an 11-unit label stays
# at least 11 px; fewer ticks (0, 50, 100) so they do not crowd.
COMPACT_WIDTH, COMPACT_HEIGHT = 320, 200
COMPACT_LEFT = 34


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    score: float
    changed_at: datetime
    current: bool
    run_id: uuid.UUID | None = None  # the analytics run that computed it


@dataclass(frozen=True)
class ScoreChart:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    points: list[ChartPoint]
    line: str  # the polyline's "points" attribute
    y_ticks: list[tuple[float, str]]
    x_labels: list[tuple[float, str, str]]  # x, text, text-anchor
    compact: bool = False

    @property
    def current(self) -> ChartPoint:
        return self.points[-1]


def _axis_top(highest: float) -> float:
    if highest <= 100:
        return 100.0
    return float(math.ceil(highest / 50) * 50)


def _label(value: float) -> str:
    return f"{value:g}"


def score_chart(
    changes: Sequence[schemas.ScoreChange], *, compact: bool = False
) -> ScoreChart | None:
    """Return the chart of these score changes (any order), or None when there are none.

    compact draws it for a phone: a narrower drawing (so labels keep their size) and fewer ticks.
    """
    if not changes:
        return None
    ordered = sorted(changes, key=lambda change: change.changed_at)
    width, height = (COMPACT_WIDTH, COMPACT_HEIGHT) if compact else (WIDTH, HEIGHT)
    left, right, top, bottom = (
        (COMPACT_LEFT if compact else LEFT),
        width - RIGHT,
        TOP,
        height - BOTTOM,
    )
    axis_top = _axis_top(max(change.total_score for change in ordered))
    first, last = ordered[0].changed_at, ordered[-1].changed_at
    span = (last - first).total_seconds()

    def x_of(moment: datetime) -> float:
        if span <= 0:
            return (left + right) / 2
        return left + (right - left) * (moment - first).total_seconds() / span

    def y_of(score: float) -> float:
        return bottom - (bottom - top) * score / axis_top

    points = [
        ChartPoint(
            x=round(x_of(change.changed_at), 1),
            y=round(y_of(change.total_score), 1),
            score=change.total_score,
            changed_at=change.changed_at,
            current=index == len(ordered) - 1,
            run_id=change.run_id,
        )
        for index, change in enumerate(ordered)
    ]
    steps = 2 if compact else 4
    y_ticks = [
        (round(y_of(axis_top * step / steps), 1), _label(axis_top * step / steps))
        for step in range(steps + 1)
    ]
    # Within two days, the dates alone would repeat: show the times too.
    date_format = "%d %b %Y, %H:%M" if 0 < span < 2 * 86400 else "%d %b %Y"
    x_labels = [(float(left), first.strftime(date_format), "start")]
    if span > 0:
        x_labels.append((float(right), last.strftime(date_format), "end"))
    return ScoreChart(
        width=width,
        height=height,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        points=points,
        line=" ".join(f"{p.x},{p.y}" for p in points),
        y_ticks=y_ticks,
        x_labels=x_labels,
        compact=compact,
    )
