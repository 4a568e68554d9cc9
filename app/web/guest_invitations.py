"""A host's invitations as pages: the list, inviting and resending (the link shown once),
withdrawing; and the page where the invited person accepts, for one of their organizations or
a new one.

A refusal the person can fix (a conflict, a bad value) comes back as a message on the page
they were on; anything else is the app's error page.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import login_required
from pydantic import ValidationError

from app import schemas
from app.access import AccessContext, role_at_least
from app.errors import AppError
from app.http import email_confirmation_url, invitation_accept_url
from app.schemas import InvitationStatus, Role
from app.services import guest_invitations, outbox
from app.web.org_pages import (
    actor,
    authorize_page,
    fixable_refusal,
    flash_refusal,
    org_page,
    redirect_back,
    show_once,
    signed_in_user,
    take_shown_once,
)

bp = Blueprint("guest_invitations", __name__)

EXPIRY_CHOICES = (7, 14, 30, 90)  # days an invitation stays open, offered on the forms


@bp.app_context_processor
def invitation_form_context() -> dict:
    """Give the invite form (on the dashboard and the invitations page) its choices."""
    return {"expiry_choices": EXPIRY_CHOICES}


def _days(value: str | None) -> int:
    try:
        days = int(value or 14)
    except ValueError:
        abort(400)
    if days not in EXPIRY_CHOICES:
        abort(400)
    return days


def _expiry(value: str | None) -> datetime:
    return datetime.now(UTC) + timedelta(days=_days(value))


def _to_list(org_id: uuid.UUID) -> str:
    return url_for("guest_invitations.invitation_list", org_id=org_id)


@bp.get("/orgs/<uuid:org_id>/invitations")
@org_page()
def invitation_list(access: AccessContext, org_id: uuid.UUID):
    """List the organization's invitations: open ones first, by expiry."""
    show = request.args.get("show", "open")
    query = _invitation_query(show, request.args.get("offset", "0"))
    page = guest_invitations.list_invitations(org_id, query)
    return render_template(
        "guest_invitations/list.html", org_id=org_id, page=page, query=query, show=show
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
@org_page(Role.ADMIN)
def invite(access: AccessContext, org_id: uuid.UUID):
    """Invite an e-mail address; show the link once."""
    email = request.form.get("email", "").strip()
    try:
        data = schemas.GuestInvitationCreate(
            email=email,
            expired_at=_expiry(request.form.get("days")),
            owner_email=signed_in_user().access.email,
        )
        invitation = guest_invitations.create_invitation(
            org_id, data, actor=actor(), accept_url=invitation_accept_url
        )
    except ValidationError:
        flash(f"Enter the e-mail address of the person to invite, not {email!r}.", "error")
        return redirect_back(_to_list(org_id))
    except AppError as error:
        flash_refusal(error)
        return redirect_back(_to_list(org_id))
    return _to_sent(org_id, invitation)


@bp.post("/orgs/<uuid:org_id>/invitations/<uuid:invitation_id>/resend")
@org_page(Role.ADMIN)
def resend(access: AccessContext, org_id: uuid.UUID, invitation_id: uuid.UUID):
    """Send an invitation again with a fresh link (and expiry); show the new link once."""
    expiry = _expiry(request.form.get("days"))
    try:
        invitation = guest_invitations.resend_invitation(
            org_id, invitation_id, expiry, actor=actor(), accept_url=invitation_accept_url
        )
    except AppError as error:
        flash_refusal(error)
        return redirect_back(_to_list(org_id))
    return _to_sent(org_id, invitation, resent=True)


def _to_sent(
    org_id: uuid.UUID, invitation: schemas.CreatedGuestInvitation, resent: bool = False
) -> Response:
    """Redirect to the page showing the new link: a reload there never sends it again."""
    show_once(
        org_id, "invitation", {"invitation": invitation.model_dump(mode="json"), "resent": resent}
    )
    return redirect(url_for("guest_invitations.sent", org_id=org_id), 303)


@bp.get("/orgs/<uuid:org_id>/invitations/sent")
@org_page()
def sent(access: AccessContext, org_id: uuid.UUID):
    """Show the link of the invitation just created or resent, this once."""
    kept = take_shown_once(org_id, "invitation")
    if kept is None:
        flash("An invitation link is shown only once. Resend the invitation for a new one.", "info")
        return redirect(_to_list(org_id))
    invitation = schemas.CreatedGuestInvitation.model_validate(kept["invitation"])
    response = make_response(
        render_template(
            "guest_invitations/sent.html",
            org_id=org_id,
            invitation=invitation,
            resent=kept["resent"],
            email_sent=outbox.sender_on(),
        )
    )
    response.headers["Cache-Control"] = "no-store"  # the page holds the link
    return response


@bp.post("/orgs/<uuid:org_id>/invitations/<uuid:invitation_id>/archived")
@org_page(Role.ADMIN)
def archive(access: AccessContext, org_id: uuid.UUID, invitation_id: uuid.UUID):
    """Archive (withdraw) or unarchive an invitation."""
    archived = request.form.get("archived") == "true"
    invitation = guest_invitations.set_archived(org_id, invitation_id, archived, actor=actor())
    word = "withdrawn (archived)" if archived else "restored"
    flash(f"The invitation to {invitation.email} is {word}.", "success")
    return redirect_back(_to_list(org_id))


# -- accepting an invitation ------------------------------------------------------------------


@bp.get("/invitations/accept")
@login_required
def accept_page():
    """Show whom an invitation is from, and let the person accept it for an organization."""
    token = request.args.get("token", "")
    preview = guest_invitations.preview_invitation(token) if len(token) >= 10 else None
    if preview is None:
        abort(404)
    return _accept_page(token, preview)


def _accept_page(token: str, preview: guest_invitations.InvitationPreview, status: int = 200):
    choices = [  # the organizations whose hosts the person may manage (admin or owner)
        membership
        for membership in signed_in_user().access.memberships
        if membership.organization_id != preview.host_organization_id
        and role_at_least(membership.role, Role.ADMIN)
    ]
    return render_template(
        "guest_invitations/accept.html", token=token, preview=preview, choices=choices
    ), status


@bp.post("/invitations/accept")
@login_required
def accept():
    """Accept the invitation for one of the person's organizations, or for a new one."""
    token = request.form.get("token", "")
    preview = guest_invitations.preview_invitation(token)
    host_id = preview.host_organization_id
    try:
        if request.form.get("organization_id"):
            guest_id = _organization_id(request.form["organization_id"])
            authorize_page(guest_id, Role.ADMIN)  # accepting manages the organization's hosts
            connection = guest_invitations.accept_invitation(
                guest_id, host_id, token, actor=actor()
            )
        else:
            connection = guest_invitations.accept_as_new_organization(
                signed_in_user().access.id,
                request.form.get("name", ""),
                request.form.get("email") or None,
                host_id,
                token,
                actor=actor(),
                confirm_url=email_confirmation_url,
            )
    except AppError as error:
        flash(fixable_refusal(error), "error")
        return _accept_page(token, guest_invitations.preview_invitation(token), error.status)
    flash(f"You are now connected to {connection.host_name}.", "success")
    return redirect(url_for("host_connections.hosts", org_id=connection.guest_organization_id))


def _organization_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        abort(400)
