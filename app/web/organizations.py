"""The front door (which organization a signed-in person lands in, and which of its pages),
and an organization's settings: its owner's opt-in to sign-in by claim."""

from __future__ import annotations

import uuid

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import login_required

from app.access import AccessContext
from app.errors import AppError
from app.schemas import Role
from app.services import organizations
from app.web import oidc
from app.web.org_pages import (
    LAST_ORG_COOKIE,
    LAST_ORG_KEY,
    actor,
    fixable_refusal,
    org_page,
    signed_in_user,
)

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


@bp.get("/orgs/<uuid:org_id>/settings")
@org_page(Role.OWNER)
def settings(access: AccessContext, org_id: uuid.UUID):
    """Show the organization's sign-in link, with the form to set it."""
    link = organizations.get_sso_link(org_id)
    issuer = link.issuer if link else oidc.issuer()
    return _settings(org_id, issuer=issuer, claim_value=link.claim_value if link else "")


@bp.post("/orgs/<uuid:org_id>/settings/sso")
@org_page(Role.OWNER)
def link_sso(access: AccessContext, org_id: uuid.UUID):
    """Link the organization to a claim value at an issuer."""
    issuer = request.form.get("issuer", "")
    claim_value = request.form.get("claim_value", "")
    try:
        link = organizations.link_sso(org_id, issuer, claim_value, actor=actor())
    except AppError as error:
        message = fixable_refusal(error)
        return _settings(org_id, issuer=issuer, claim_value=claim_value, error=message, status=422)
    flash(f"People whose claim names {link.claim_value} now join as members.", "success")
    return redirect(url_for("organizations.settings", org_id=org_id))


@bp.post("/orgs/<uuid:org_id>/settings/sso/unlink")
@org_page(Role.OWNER)
def unlink_sso(access: AccessContext, org_id: uuid.UUID):
    """Stop admitting people by claim."""
    organizations.unlink_sso(org_id, actor=actor())
    flash("No claim admits anyone any more; the members stay.", "success")
    return redirect(url_for("organizations.settings", org_id=org_id))


def _settings(org_id: uuid.UUID, *, status: int = 200, **context):
    return make_response(
        render_template(
            "organizations/settings.html",
            org_id=org_id,
            link=organizations.get_sso_link(org_id),
            org_claim=current_app.config.get("OIDC_ORG_CLAIM"),
            **context,
        ),
        status,
    )


# -- proving an organization's e-mail: the link sent to it ----------------------------------------


@bp.get("/organizations/confirm-email")
def confirm_email_page():
    """Show what the link confirms; confirming is a button (mail scanners open links, not forms)."""
    token = request.args.get("token", "")
    organization = organizations.confirmation_target(token)
    return render_template(
        "organizations/confirm_email.html", organization=organization, token=token
    )


@bp.post("/organizations/confirm-email")
def confirm_email():
    """Prove the organization's e-mail: invitations to it now reach the organization."""
    organization = organizations.confirm_email(request.form.get("token", ""))
    return render_template("organizations/confirm_email.html", organization=organization, done=True)
