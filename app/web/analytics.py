"""A guest's analytics as a page: the form that records its total score for all its hosts."""

from __future__ import annotations

import math
import uuid

from flask import Blueprint, flash, redirect, request, url_for

from app.access import AccessContext
from app.errors import AppError
from app.schemas import Role
from app.services import analytics
from app.web.org_pages import actor, flash_refusal, org_page

bp = Blueprint("analytics", __name__)


@bp.post("/orgs/<uuid:org_id>/analytics")
@org_page(Role.ADMIN)
def submit_analytics(access: AccessContext, org_id: uuid.UUID):
    """Record the organization's analytics result: its total score, for all its hosts."""
    hosts_page = url_for("host_connections.hosts", org_id=org_id)
    try:
        score = float(request.form.get("total_score", "").strip().replace(",", "."))
    except ValueError:
        score = math.nan
    try:
        result = analytics.submit_score(org_id, score, actor=actor())
    except AppError as error:
        flash_refusal(error)
        return redirect(hosts_page)
    hosts_word = "host" if result.connections_updated == 1 else "hosts"
    flash(
        f"Your total score {score:g} is recorded and shown to "
        f"{result.connections_updated} connected {hosts_word}.",
        "success",
    )
    return redirect(hosts_page)
