"""An organization's analytics as a page: its financial statements, starting a run, the runs."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from app import schemas
from app.access import AccessContext
from app.errors import ValidationFailed
from app.schemas import Role
from app.services import analytics
from app.web.org_pages import actor, org_page

bp = Blueprint("analytics", __name__)

RUNS_PER_PAGE = 20


def render_analytics_page(
    org_id: uuid.UUID, *, form: dict | None = None, problems: dict | None = None, status=200
):
    """Render the analytics page; a statement form that failed comes back with its problems."""
    try:
        offset = max(0, int(request.args.get("offset", "0")))
    except ValueError:
        abort(400)
    runs = schemas.AnalyticsRunQuery(limit=RUNS_PER_PAGE, offset=offset)
    return render_template(
        "analytics/page.html",
        org_id=org_id,
        overview=analytics.overview(org_id, runs),
        runs_query=runs,
        form=form or {},
        problems=problems or {},
        currencies=sorted(schemas.CURRENCIES),
    ), status


@bp.get("/orgs/<uuid:org_id>/analytics")
@org_page()
def analytics_page(access: AccessContext, org_id: uuid.UUID):
    """Show the organization's statements and analytics runs, with the forms for admins."""
    return render_analytics_page(org_id)


@bp.post("/orgs/<uuid:org_id>/analytics")
@org_page(Role.ADMIN)
def start_run(access: AccessContext, org_id: uuid.UUID):
    """Start an analytics run on the latest statement; a typed score is refused (422)."""
    if "total_score" in request.form:
        raise ValidationFailed.at(
            ["form", "total_score"],
            "Scores are computed, not submitted: add a financial statement, then start a run.",
        )
    try:
        run = analytics.start_run(org_id, actor=actor())
    except ValidationFailed as error:
        flash(error.message, "error")
        return redirect(url_for("analytics.analytics_page", org_id=org_id))
    if run.status == schemas.AnalyticsRunStatus.SUCCESS:
        flash(
            f"The run succeeded: your score is {run.total_score:g} "
            f"({run.model} {run.model_value:.2f}, {run.zone} zone)"
            if run.model_value is not None and run.zone
            else f"The run succeeded: your score is {run.total_score:g} ({run.model})",
            "success",
        )
    else:
        flash(f"The run failed: {run.error}", "error")
    return redirect(url_for("analytics.analytics_page", org_id=org_id))
