"""The connection lifecycle's pages: invitations, accepting one, the guest's hosts, analytics.

Each view applies the same access rule as the API (the organization in the URL acts on itself)
and calls one service function. A refusal the person can fix (a conflict, a bad value) comes
back as a message on the page they were on; anything else is the app's error page.
"""

from __future__ import annotations

import math
import uuid
from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from pydantic import ValidationError
from werkzeug.wrappers import Response

from app import analytics, host_connections, invitations, schemas
from app.audit import Actor
from app.errors import AppError
from app.models import ConnectionStatus, InvitationStatus, utcnow
from app.web.auth import safe_next
from app.web.pages import EXPIRY_CHOICES, authorize_page

bp = Blueprint("lifecycle", __name__)

FIXABLE = (409, 422)  # refusals shown as a message on the page, not as an error page


def _refusal(error: AppError) -> str:
    if error.status not in FIXABLE:
        raise error
    return error.message


def _back(default: str) -> Response:
    return redirect(safe_next(request.form.get("next")) or default)


def _days(value: str | None) -> int:
    try:
        days = int(value or 14)
    except ValueError:
        abort(400)
    if days not in EXPIRY_CHOICES:
        abort(400)
    return days


# -- the host's invitations -----------------------------------------------------------------------


@bp.get("/orgs/<uuid:org_id>/invitations")
@login_required
def invitation_list(org_id: uuid.UUID):
    """List the organization's invitations: open ones first, by expiry."""
    authorize_page(org_id)
    show = request.args.get("show", "open")
    query = _invitation_query(show, request.args.get("offset", "0"))
    page = invitations.list_invitations(org_id, query)
    return render_template(
        "lifecycle/invitations.html",
        org_id=org_id,
        page=page,
        query=query,
        show=show,
        expiry_choices=EXPIRY_CHOICES,
    )


def _invitation_query(show: str, offset: str) -> schemas.GuestInvitationQuery:
    filters: dict = {"limit": 25}
    if show == "open":
        filters |= {
            "statuses": [InvitationStatus.SENT],
            "archived": False,
            "order_by": "expired_at",
        }
    elif show == "accepted":
        filters |= {
            "statuses": [InvitationStatus.ACCEPTED_BY_GUEST, InvitationStatus.ACCEPTED_BY_SYSTEM],
            "order_by": "accepted_at",
            "order_dir": "desc",
        }
    elif show == "archived":
        filters |= {"archived": True, "order_by": "archived_at", "order_dir": "desc"}
    else:
        abort(404)
    try:
        return schemas.GuestInvitationQuery.model_validate({**filters, "offset": offset})
    except ValidationError:
        abort(400)


@bp.post("/orgs/<uuid:org_id>/invitations")
@login_required
def invite(org_id: uuid.UUID):
    """Invite an e-mail address; show the link once."""
    authorize_page(org_id)
    email = request.form.get("email", "").strip()
    try:
        data = schemas.GuestInvitationCreate(
            email=email,
            expired_at=utcnow() + timedelta(days=_days(request.form.get("days"))),
            owner_email=current_user.access.email,
        )
        invitation = invitations.create_invitation(org_id, data, actor=_actor())
    except ValidationError:
        flash(f"Enter the e-mail address of the person to invite, not {email!r}.", "error")
        return _back(url_for("lifecycle.invitation_list", org_id=org_id))
    except AppError as error:
        flash(_refusal(error), "error")
        return _back(url_for("lifecycle.invitation_list", org_id=org_id))
    return render_template("lifecycle/invitation_sent.html", org_id=org_id, invitation=invitation)


@bp.post("/orgs/<uuid:org_id>/invitations/<uuid:invitation_id>/resend")
@login_required
def resend(org_id: uuid.UUID, invitation_id: uuid.UUID):
    """Send an invitation again with a fresh link (and expiry); show the new link once."""
    authorize_page(org_id)
    expiry = utcnow() + timedelta(days=_days(request.form.get("days")))
    try:
        invitation = invitations.resend_invitation(org_id, invitation_id, expiry, actor=_actor())
    except AppError as error:
        flash(_refusal(error), "error")
        return _back(url_for("lifecycle.invitation_list", org_id=org_id))
    return render_template(
        "lifecycle/invitation_sent.html", org_id=org_id, invitation=invitation, resent=True
    )


@bp.post("/orgs/<uuid:org_id>/invitations/<uuid:invitation_id>/archived")
@login_required
def archive(org_id: uuid.UUID, invitation_id: uuid.UUID):
    """Archive (withdraw) or unarchive an invitation."""
    authorize_page(org_id)
    archived = request.form.get("archived") == "true"
    invitation = invitations.set_archived(org_id, invitation_id, archived, actor=_actor())
    word = "withdrawn (archived)" if archived else "restored"
    flash(f"The invitation to {invitation.email} is {word}.", "success")
    return _back(url_for("lifecycle.invitation_list", org_id=org_id))


# -- accepting an invitation ------------------------------------------------------------------


@bp.get("/invitations/accept")
@login_required
def accept_page():
    """Show whom an invitation is from, and let the person accept it for an organization."""
    token = request.args.get("token", "")
    preview = invitations.preview_invitation(token) if len(token) >= 10 else None
    if preview is None:
        abort(404)
    return _accept_page(token, preview)


def _accept_page(token: str, preview: invitations.InvitationPreview, status: int = 200):
    choices = [
        membership
        for membership in current_user.access.memberships
        if membership.organization_id != preview.host_organization_id
    ]
    return render_template(
        "lifecycle/accept.html", token=token, preview=preview, choices=choices
    ), status


@bp.post("/invitations/accept")
@login_required
def accept():
    """Accept the invitation for one of the person's organizations, or for a new one."""
    token = request.form.get("token", "")
    preview = invitations.preview_invitation(token)
    host_id = preview.host_organization_id
    try:
        if request.form.get("organization_id"):
            guest_id = _organization_id(request.form["organization_id"])
            authorize_page(guest_id)
            connection = invitations.accept_invitation(guest_id, host_id, token, actor=_actor())
        else:
            connection = invitations.accept_as_new_organization(
                current_user.access.id,
                request.form.get("name", ""),
                request.form.get("email") or None,
                host_id,
                token,
                actor=_actor(),
            )
    except AppError as error:
        flash(_refusal(error), "error")
        return _accept_page(token, invitations.preview_invitation(token), error.status)
    flash(f"You are now connected to {connection.host_name}.", "success")
    return redirect(url_for("lifecycle.hosts", org_id=connection.guest_organization_id))


def _actor() -> Actor:
    """Return the signed-in person as the actor of a write (after authorize_page)."""
    return Actor.of(current_user.principal)


def _organization_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        abort(400)


# -- the guest's side ---------------------------------------------------------------------------


@bp.get("/orgs/<uuid:org_id>/hosts")
@login_required
def hosts(org_id: uuid.UUID):
    """List the organization's hosts, with leaving, coming back, and the analytics form."""
    authorize_page(org_id)
    try:
        offset = max(0, int(request.args.get("offset", "0")))
    except ValueError:
        abort(400)
    query = schemas.HostConnectionQuery(limit=50, offset=offset)
    page = host_connections.list_host_connections(org_id, query)
    return render_template("lifecycle/hosts.html", org_id=org_id, page=page, query=query)


@bp.post("/orgs/<uuid:org_id>/hosts/<uuid:host_org_id>/status")
@login_required
def set_host_status(org_id: uuid.UUID, host_org_id: uuid.UUID):
    """Disconnect from a host, or reconnect."""
    authorize_page(org_id)
    try:
        status = ConnectionStatus(request.form.get("status", ""))
    except ValueError:
        abort(400)
    connection = host_connections.set_status(org_id, host_org_id, status, actor=_actor())
    if status == ConnectionStatus.DISCONNECTED:
        flash(f"You disconnected from {connection.host_name}.", "success")
    else:
        flash(f"You are connected to {connection.host_name} again.", "success")
    return redirect(url_for("lifecycle.hosts", org_id=org_id))


@bp.post("/orgs/<uuid:org_id>/analytics")
@login_required
def submit_analytics(org_id: uuid.UUID):
    """Record the organization's analytics result: its total score, for all its hosts."""
    authorize_page(org_id)
    try:
        score = float(request.form.get("total_score", "").strip().replace(",", "."))
    except ValueError:
        score = math.nan
    if not math.isfinite(score) or score < 0:
        flash("The total score must be a number of 0 or more.", "error")
        return redirect(url_for("lifecycle.hosts", org_id=org_id))
    result = analytics.submit_score(org_id, score, actor=_actor())
    hosts_word = "host" if result.connections_updated == 1 else "hosts"
    flash(
        f"Your total score {score:g} is recorded and shown to "
        f"{result.connections_updated} connected {hosts_word}.",
        "success",
    )
    return redirect(url_for("lifecycle.hosts", org_id=org_id))


# -- the host's actions on a guest ---------------------------------------------------------------


@bp.post("/orgs/<uuid:org_id>/guest-connections/<uuid:guest_org_id>/analytics-request")
@login_required
def request_analytics(org_id: uuid.UUID, guest_org_id: uuid.UUID):
    """Ask a connected guest to run analytics."""
    authorize_page(org_id)
    try:
        analytics.request_analytics(org_id, guest_org_id, actor=_actor())
        flash("Analytics requested: the guest sees the request on its list of hosts.", "success")
    except AppError as error:
        flash(_refusal(error), "error")
    return redirect(url_for("pages.detail", org_id=org_id, guest_org_id=guest_org_id))


@bp.post("/orgs/<uuid:org_id>/guest-connections/<uuid:guest_org_id>/disconnection-notification")
@login_required
def notify_disconnection(org_id: uuid.UUID, guest_org_id: uuid.UUID):
    """Tell a guest that disconnected that the host noticed (queued as an e-mail)."""
    authorize_page(org_id)
    try:
        message = host_connections.notify_disconnection(org_id, guest_org_id, actor=_actor())
        flash(f"A message to {message.recipient_email} is on its way.", "success")
    except AppError as error:
        flash(_refusal(error), "error")
    return redirect(url_for("pages.detail", org_id=org_id, guest_org_id=guest_org_id))
