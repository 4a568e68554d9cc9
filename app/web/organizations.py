"""The front door: which organization a signed-in person lands in, and which of its pages."""

from __future__ import annotations

import uuid

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import login_required

from app.access import AccessContext
from app.services import organizations
from app.web.org_pages import LAST_ORG_COOKIE, LAST_ORG_KEY, org_page, signed_in_user

bp = Blueprint("organizations", __name__)


@bp.get("/")
@login_required
def home():
    """Send the person to their last organization used, else the one with their highest role."""
    memberships = signed_in_user().access.memberships
    last_used = session.get(LAST_ORG_KEY) or request.cookies.get(LAST_ORG_COOKIE)
    chosen = organizations.landing_organization(memberships, last_used)
    if chosen is None:
        return render_template("auth/no_organization.html")
    return redirect(_landing_page(chosen.organization_id))


@bp.get("/orgs/<uuid:org_id>")
@org_page(read_only=True)
def org_home(access: AccessContext, org_id: uuid.UUID):
    """Open the organization's own side: its hosts when it is only a guest, else its guests."""
    return redirect(_landing_page(org_id))


def _landing_page(org_id: uuid.UUID) -> str:
    sides = organizations.sides_of(org_id)
    if sides.is_guest and not sides.is_host:
        return url_for("host_connections.hosts", org_id=org_id)
    return url_for("guest_connections.dashboard", org_id=org_id)


@bp.app_template_global()
def org_sides(org_id: uuid.UUID) -> organizations.Sides:
    """Return which sides the organization is on, for its tabs."""
    return organizations.sides_of(org_id)
