"""The score chart's geometry: time left to right, score bottom to top, the current one marked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app import schemas
from app.web.score_chart import score_chart

START = datetime(2026, 1, 1, tzinfo=UTC)


def change(score: float, days: float) -> schemas.ScoreChange:
    return schemas.ScoreChange(
        total_score=score,
        source="analytics",
        model="Altman Z″",
        run_id=None,
        changed_at=START + timedelta(days=days),
    )


def test_no_history_no_chart():
    assert score_chart([]) is None


def test_points_follow_time_and_score_and_the_newest_is_current():
    """Is the newest point the current one, whatever order the history came in?"""
    chart = score_chart([change(80, 10), change(20, 0), change(50, 5)])

    xs = [point.x for point in chart.points]
    assert xs == sorted(xs) and xs[0] == chart.left and xs[-1] == chart.right
    assert xs[1] == (chart.left + chart.right) / 2  # day 5 of 10: halfway
    assert [point.score for point in chart.points] == [20, 50, 80]
    assert chart.points[0].y > chart.points[1].y > chart.points[2].y  # higher score, higher up
    assert chart.current.score == 80 and chart.current.current
    assert [point.current for point in chart.points] == [False, False, True]
    assert chart.line.count(",") == 3


def test_the_axis_runs_from_0_to_100():
    assert [label for _, label in score_chart([change(40, 0)]).y_ticks] == [
        "0", "25", "50", "75", "100",
    ]  # fmt: skip
    zero = score_chart([change(0, 0)])
    assert zero.current.y == zero.bottom


def test_one_point_sits_in_the_middle_with_one_date():
    chart = score_chart([change(70, 0)])
    assert chart.current.x == (chart.left + chart.right) / 2
    assert [text for _, text, _ in chart.x_labels] == ["01 Jan 2026"]


def test_a_short_span_labels_its_ends_with_times():
    chart = score_chart([change(10, 0), change(20, 0.5)])
    assert [text for _, text, _ in chart.x_labels] == ["01 Jan 2026, 00:00", "01 Jan 2026, 12:00"]


def test_the_phone_drawing_is_narrow_with_fewer_ticks():
    """Is the compact chart drawn near a phone's width in units, so labels keep their size?"""
    chart = score_chart([change(10, 0), change(60, 30)], compact=True)
    assert chart.compact and chart.width <= 390
    assert [label for _, label in chart.y_ticks] == ["0", "50", "100"]
    assert chart.current.x == chart.right
