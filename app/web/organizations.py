"""The front door: which organization a signed-in person lands in."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, session, url_for
from flask_login import login_required

from app.web.org_pages import LAST_ORG_KEY, signed_in_user

bp = Blueprint("organizations", __name__)


@bp.get("/")
@login_required
def home():
    """Send the person to the dashboard of their last (or first) organization."""
    memberships = signed_in_user().access.memberships
    if not memberships:
        return render_template("auth/no_organization.html")
    last = session.get(LAST_ORG_KEY)
    chosen = next((m for m in memberships if str(m.organization_id) == last), memberships[0])
    return redirect(url_for("guest_connections.dashboard", org_id=chosen.organization_id))
