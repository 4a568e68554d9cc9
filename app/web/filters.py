"""Jinja filters and globals shared by the pages: times, scores, labels."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from flask import Flask

from app.schemas import format_score, format_timestamp
from app.services.audit import AuditAction, describe_changes
from app.web.rendered_pages import filled_at_each_view

# The score picture's scale. Scores above it still show their number; the picture is full.
SCORE_SCALE = 100.0
# Bands of the scale, lowest first: (highest score in it, name shown, CSS modifier). They are
# Altman Z″'s zones (app/services/scoring.py): distress below 40, grey 40 to 70, safe above 70.
SCORE_BANDS = (
    (math.nextafter(40.0, 0.0), "Low", "low"),
    (70.0, "Medium", "medium"),
    (math.inf, "High", "high"),
)

ACTION_LABELS = {"analytics_request": "Analytics requested"}


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        relative_time=relative_time_at_view,
        exact_time=exact_time,
        short_date=short_date,
        iso_time=format_timestamp,
        score_text=score_text,
        score_basis=score_basis,
        action_label=action_label,
        audit_action=audit_action,
        audit_changes=audit_changes,
    )
    app.jinja_env.globals.update(
        score_percent=score_percent, score_band=score_band, SCORE_SCALE=SCORE_SCALE
    )


_UNITS = (
    ("year", 365 * 86400),
    ("month", 30 * 86400),
    ("week", 7 * 86400),
    ("day", 86400),
    ("hour", 3600),
    ("minute", 60),
)


def relative_time(value: datetime, now: datetime | None = None) -> str:
    """Return e.g. "3 days ago", "in 2 weeks", "just now", rounded to the nearest unit.

    The largest unit the time reaches, rounded (never cut): a link expiring in 14 days minus a
    second says "in 2 weeks", not "in 1 week".
    """
    seconds = ((now or datetime.now(UTC)) - value).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 45:
        return "just now"
    for unit, size in _UNITS:
        if seconds >= size:
            count = round(seconds / size)
            phrase = f"{count} {unit}{'' if count == 1 else 's'}"
            return f"in {phrase}" if future else f"{phrase} ago"
    return "in 1 minute" if future else "1 minute ago"


def relative_time_at_view(value: datetime) -> str:
    """The templates' relative_time: in a remembered page, computed at each view of it."""
    return filled_at_each_view(lambda: relative_time(value)) or relative_time(value)


def exact_time(value: datetime) -> str:
    """Return e.g. "12 Dec 2025, 10:30 UTC"."""
    return value.astimezone(UTC).strftime("%-d %b %Y, %H:%M UTC")


def short_date(value: datetime) -> str:
    """Return e.g. "12 Dec 2025", shown beside a relative time."""
    return value.astimezone(UTC).strftime("%-d %b %Y")


def score_text(score: float) -> str:
    """Return the score as people read it, the same on every page: 55.55, 87.5, 88."""
    return format_score(score)


def score_basis(change) -> str:
    """Return what stands behind a score, e.g. "72.4 / 100 · Altman Z″ 3.05, safe zone ·
    statements to 31 Dec 2025 · analyzed 30 Nov 2026"."""
    parts = [f"{score_text(change.total_score)} / 100"]
    run = change.run
    if run is None:
        parts.append(f"{change.model}, without an analytics run")
        return " · ".join(parts)
    model = run.model or change.model
    if run.model_value is not None:
        model += f" {run.model_value:.2f}"
    if run.zone:
        model += f", {run.zone} zone"
    parts.append(model)
    if run.statement_period_end:
        parts.append(f"statements to {run.statement_period_end:%-d %b %Y}")
    if run.analyzed_on:
        parts.append(f"analyzed {run.analyzed_on:%-d %b %Y}")
    return " · ".join(parts)


def score_percent(score: float) -> float:
    """Return how much of the picture the score fills, 0 to 100."""
    return round(max(0.0, min(score, SCORE_SCALE)) / SCORE_SCALE * 100, 1)


def score_band(score: float) -> tuple[str, str]:
    """Return the band's name and CSS modifier for a score."""
    for highest, name, modifier in SCORE_BANDS:
        if score <= highest:
            return name, modifier
    return SCORE_BANDS[-1][1], SCORE_BANDS[-1][2]


def action_label(action: str | None) -> str:
    if action is None:
        return "None"
    return ACTION_LABELS.get(str(action), str(action).replace("_", " ").capitalize())


def audit_action(action: str) -> str:
    return AuditAction.label_of(action)


def audit_changes(changes: dict) -> list[str]:
    """Return one "field: before → after" line per changed field."""
    return [describe_changes({field: values}) for field, values in changes.items()]
