"""/v1/guest-invitations: a host invites guests by e-mail."""

from __future__ import annotations

import uuid

from pydantic import Field

from app import schemas
from app.access import AccessContext, Scenario
from app.api import bp
from app.api.endpoints import api_endpoint
from app.http import invitation_accept_url
from app.schemas import Role, Schema
from app.services import guest_invitations
from app.services.audit import Actor

TAG = "Guest invitations"


class InvitationPath(Schema):
    invitation_id: uuid.UUID = Field(description="The invitation's id.")


@api_endpoint(
    bp,
    "POST",
    "/guest-invitations",
    summary="Invite a guest",
    tag=TAG,
    scenarios={Scenario.SELF},
    body=schemas.GuestInvitationCreate,
    response=schemas.CreatedGuestInvitation,
    status=201,
    conflict=True,
    minimum_role=Role.ADMIN,
)
def create_guest_invitation(
    access: AccessContext, body: schemas.GuestInvitationCreate
) -> schemas.CreatedGuestInvitation:
    """Invite an e-mail address to connect to the target (host) organization.

    The answer carries the one-time `invitation_token` and the `invitation_url` to send to the
    guest; neither is shown again (the token is stored hashed). If the e-mail already belongs to
    an organization connected to the host, the invitation is `accepted_by_system` at once and
    has no token. 409 `invitation_already_pending`: an open invitation to this e-mail exists
    (resend it instead).
    """
    return guest_invitations.create_invitation(
        access.target_id,
        body,
        actor=Actor.of(access.principal),
        accept_url=invitation_accept_url,
    )


@api_endpoint(
    bp,
    "GET",
    "/guest-invitations",
    summary="List guest invitations",
    tag=TAG,
    scenarios={Scenario.SELF},
    query=schemas.GuestInvitationQuery,
    response=schemas.GuestInvitationList,
)
def list_guest_invitations(
    access: AccessContext, query: schemas.GuestInvitationQuery
) -> schemas.GuestInvitationList:
    """Return a page of the target (host) organization's invitations, filtered and sorted."""
    return guest_invitations.list_invitations(access.target_id, query)


@api_endpoint(
    bp,
    "GET",
    "/guest-invitations/<invitation_id>",
    summary="Get a guest invitation",
    tag=TAG,
    scenarios={Scenario.SELF},
    path=InvitationPath,
    response=schemas.GuestInvitation,
    not_found=True,
)
def get_guest_invitation(access: AccessContext, path: InvitationPath) -> schemas.GuestInvitation:
    """Return one invitation of the target (host) organization; another host's is 404."""
    return guest_invitations.get_invitation(access.target_id, path.invitation_id)


@api_endpoint(
    bp,
    "POST",
    "/guest-invitations/<invitation_id>/resend",
    summary="Resend a guest invitation (ours)",
    tag=TAG,
    scenarios={Scenario.SELF},
    path=InvitationPath,
    body=schemas.GuestInvitationResend,
    response=schemas.CreatedGuestInvitation,
    not_found=True,
    conflict=True,
    minimum_role=Role.ADMIN,
)
def resend_guest_invitation(
    access: AccessContext, path: InvitationPath, body: schemas.GuestInvitationResend
) -> schemas.CreatedGuestInvitation:
    """(ours) Send an open invitation again: a new token and link, the old token stops working.

    Updates `last_invitation_sent_at`; give `expired_at` to move the expiry (needed when it
    has passed). Send `{}` to keep it. 409 `invitation_already_accepted`, `invitation_archived`,
    or `invitation_expired` (expired and no new `expired_at`).
    """
    return guest_invitations.resend_invitation(
        access.target_id,
        path.invitation_id,
        body.expired_at,
        actor=Actor.of(access.principal),
        accept_url=invitation_accept_url,
    )


@api_endpoint(
    bp,
    "PATCH",
    "/guest-invitations/<invitation_id>",
    summary="Archive or unarchive a guest invitation (ours)",
    tag=TAG,
    scenarios={Scenario.SELF},
    path=InvitationPath,
    body=schemas.GuestInvitationArchive,
    response=schemas.GuestInvitation,
    not_found=True,
    minimum_role=Role.ADMIN,
)
def update_guest_invitation(
    access: AccessContext, path: InvitationPath, body: schemas.GuestInvitationArchive
) -> schemas.GuestInvitation:
    """(ours) Archive an invitation (withdrawing it: its token stops working) or unarchive it."""
    return guest_invitations.set_archived(
        access.target_id, path.invitation_id, body.archived, actor=Actor.of(access.principal)
    )
