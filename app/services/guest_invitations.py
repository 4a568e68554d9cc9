"""Guest invitations: a host invites an e-mail address; a guest organization accepts with the token.

The token is 256 random bits, shown once (in the response that creates or resends the
invitation, and in its link), stored only as a SHA-256 hash, good for one acceptance, and dead
once the invitation expires, is archived or is accepted.

`accepted_by_system` (ours): the guest got connected to the host without this invitation's
token. That happens when the invitation is created for an e-mail that already belongs to an
organization connected to the host (the organization's e-mail or one of its members'), and when a
pending invitation's e-mail belongs to an organization that gets connected to the host another
way: by accepting another invitation of the host, or by an operator's `flask connections add`.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Select, func, update
from sqlalchemy.orm import aliased

from app import schemas
from app.errors import AppError, Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import (
    ConnectionStatus,
    GuestConnection,
    GuestInvitation,
    InvitationStatus,
    Organization,
    Role,
    User,
    utcnow,
)
from app.schemas import WebhookEventType
from app.services import (
    audit,
    guest_connections,
    host_connections,
    members,
    organizations,
    outbox,
    webhooks,
)
from app.services.audit import Actor, AuditAction, Subject
from app.services.lists import SortKey, changed_since, contains_text, one_page
from app.services.organizations import checked_email, get_organization
from app.services.tokens import hash_client_secret

MAX_LIFETIME = timedelta(days=365)
# Turns an invitation's token into the link a guest follows; the faces build it.
AcceptUrl = Callable[[str], str]

Parent = aliased(Organization, name="invitation_parent")


class InvitationNotFound(NotFound):
    code = "guest_invitation_not_found"
    message = "There is no such invitation for this organization."


class InvitationAlreadyAccepted(Conflict):
    code = "invitation_already_accepted"
    message = "This invitation has already been accepted; its token works only once."


class InvitationExpired(Conflict):
    code = "invitation_expired"
    message = "This invitation has expired; ask the host to send it again."


class InvitationArchived(Conflict):
    code = "invitation_archived"
    message = "This invitation was withdrawn (archived) by the host."


class InvitationAlreadyPending(Conflict):
    code = "invitation_already_pending"
    message = "An open invitation to this e-mail already exists; resend it instead."


def hash_token(token: str) -> str:
    # Same reasoning as API client secrets: 256 random bits need no slow hash.
    return hash_client_secret(token)


# -- reading ------------------------------------------------------------------------------------


def _expired(now: datetime) -> ColumnElement[bool]:
    return GuestInvitation.expired_at <= now


def _invitation_select(now: datetime) -> Select:
    """Select every field of the GuestInvitation object, with the parent's name."""
    return db.select(
        GuestInvitation.id,
        GuestInvitation.host_organization_id,
        GuestInvitation.email,
        GuestInvitation.owner_email,
        GuestInvitation.first_invitation_sent_at,
        GuestInvitation.last_invitation_sent_at,
        GuestInvitation.expired_at,
        _expired(now).label("expired"),
        GuestInvitation.status,
        GuestInvitation.archived,
        GuestInvitation.created_at,
        GuestInvitation.updated_at,
        GuestInvitation.accepted_at,
        GuestInvitation.archived_at,
        GuestInvitation.guest_organization_id,
        GuestInvitation.parent_organization_id,
        Parent.name.label("parent_organization_name"),
    ).outerjoin(Parent, Parent.id == GuestInvitation.parent_organization_id)


def get_invitation(host_id: uuid.UUID, invitation_id: uuid.UUID) -> schemas.GuestInvitation:
    """Return the host's invitation, or raise InvitationNotFound."""
    row = db.session.execute(
        _invitation_select(utcnow()).where(
            GuestInvitation.host_organization_id == host_id, GuestInvitation.id == invitation_id
        )
    ).one_or_none()
    if row is None:
        raise InvitationNotFound(loc=["path", "invitation_id"])
    return schemas.GuestInvitation.model_validate(row._mapping)


_ORDER_COLUMNS = {
    schemas.GuestInvitationOrder.EMAIL: GuestInvitation.email,
    schemas.GuestInvitationOrder.FIRST_INVITATION_SENT_AT: GuestInvitation.first_invitation_sent_at,
    schemas.GuestInvitationOrder.LAST_INVITATION_SENT_AT: GuestInvitation.last_invitation_sent_at,
    schemas.GuestInvitationOrder.EXPIRED_AT: GuestInvitation.expired_at,
    schemas.GuestInvitationOrder.ACCEPTED_AT: GuestInvitation.accepted_at,
    schemas.GuestInvitationOrder.ARCHIVED_AT: GuestInvitation.archived_at,
    schemas.GuestInvitationOrder.CREATED_AT: GuestInvitation.created_at,
    schemas.GuestInvitationOrder.UPDATED_AT: GuestInvitation.updated_at,
}


def list_invitations(
    host_id: uuid.UUID, query: schemas.GuestInvitationQuery
) -> schemas.GuestInvitationList:
    """Return one page of the host's invitations and how many match in all."""
    now = utcnow()
    conditions = [
        GuestInvitation.host_organization_id == host_id,
        GuestInvitation.status.in_(query.statuses),
    ]
    if query.search_text:
        conditions.append(contains_text(GuestInvitation.email, query.search_text))
    if query.expired is not None:
        conditions.append(_expired(now) if query.expired else ~_expired(now))
    if query.archived is not None:
        conditions.append(GuestInvitation.archived.is_(query.archived))
    conditions.extend(changed_since(GuestInvitation.updated_at, query))
    order = SortKey(
        query.order_by.value,
        _ORDER_COLUMNS[query.order_by],
        query.order_dir,
        "id",
        GuestInvitation.id,
    )
    items, total, next_cursor = one_page(
        _invitation_select(now).where(*conditions),
        db.select(func.count()).select_from(GuestInvitation).where(*conditions),
        order,
        query,
        schemas.GuestInvitation,
    )
    return schemas.GuestInvitationList(items=items, total_items=total, next_cursor=next_cursor)


@dataclass(frozen=True)
class InvitationPreview:
    """What the acceptance page shows about an invitation before anyone accepts it."""

    host_organization_id: uuid.UUID
    host_name: str
    email: str
    expired_at: datetime
    problem: str | None  # why it cannot be accepted, or None


def preview_invitation(token: str) -> InvitationPreview:
    """Return what a token's invitation offers, or raise InvitationNotFound."""
    row = db.session.execute(
        db.select(GuestInvitation, Organization.name)
        .join(Organization, Organization.id == GuestInvitation.host_organization_id)
        .where(GuestInvitation.token_hash == hash_token(token))
    ).one_or_none()
    if row is None:
        raise InvitationNotFound("This invitation link is not valid (it may have been resent).")
    invitation, host_name = row
    try:
        _check_usable(invitation, utcnow())
        problem = None
    except Conflict as error:
        problem = error.message
    return InvitationPreview(
        host_organization_id=invitation.host_organization_id,
        host_name=host_name,
        email=invitation.email,
        expired_at=invitation.expired_at,
        problem=problem,
    )


# -- the host's changes ---------------------------------------------------------------------------


def _checked_expiry(value: datetime, now: datetime) -> datetime:
    expiry = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if expiry <= now:
        raise ValidationFailed.at(["body", "expired_at"], "The expiry must be in the future.")
    if expiry > now + MAX_LIFETIME:
        raise ValidationFailed.at(
            ["body", "expired_at"], "The expiry must be at most 365 days ahead."
        )
    return expiry.astimezone(UTC)


def _checked_body_email(value: str, field: str) -> str:
    return checked_email(value, field, loc=["body", field])


def create_invitation(
    host_id: uuid.UUID,
    data: schemas.GuestInvitationCreate,
    *,
    actor: Actor,
    accept_url: AcceptUrl,
) -> schemas.CreatedGuestInvitation:
    """Invite an e-mail address; return the invitation with its one-time token and link."""
    now = utcnow()
    host = get_organization(host_id)
    email = _checked_body_email(data.email, "email")
    expiry = _checked_expiry(data.expired_at, now)
    # The original's body has no owner: a host with no e-mail of its own records none.
    owner_email = data.owner_email or host.email
    if owner_email is not None:
        owner_email = _checked_body_email(owner_email, "owner_email")
    parent_id = data.parent_organization_id
    if parent_id is not None and not guest_connections.knows_organization(host_id, parent_id):
        # The same answer whether the organization exists or not: no oracle for names.
        raise ValidationFailed.at(
            ["body", "parent_organization_id"],
            "Name as parent your own organization, one of your guests, or a parent shown on "
            "one of your guests.",
        )
    if _pending_invitation_exists(host_id, email, now):
        raise InvitationAlreadyPending(loc=["body", "email"])
    token = secrets.token_urlsafe(32)
    invitation = GuestInvitation(
        host_organization_id=host_id,
        email=email,
        owner_email=owner_email,
        token_hash=hash_token(token),
        expired_at=expiry,
        first_invitation_sent_at=now,
        last_invitation_sent_at=now,
        parent_organization_id=data.parent_organization_id,
        created_at=now,
        updated_at=now,
    )
    connected_guest = _connected_guest_with_email(host_id, email)
    if connected_guest is not None:
        invitation.status = InvitationStatus.ACCEPTED_BY_SYSTEM
        invitation.accepted_at = now
        invitation.guest_organization_id = connected_guest
    db.session.add(invitation)
    db.session.flush()
    audit.record(
        host_id,
        actor,
        AuditAction.INVITATION_CREATED,
        Subject.invitation(invitation.id),
        {
            field: (None, getattr(invitation, field))
            for field in ("email", "owner_email", "status", "expired_at", "parent_organization_id")
            if getattr(invitation, field) is not None
        },
    )
    if connected_guest is None:
        _queue_email(host, invitation, accept_url(token))
    db.session.commit()
    shown = token if connected_guest is None else None
    return _with_token(host_id, invitation.id, shown, accept_url)


def _queue_email(host: Organization, invitation: GuestInvitation, link: str) -> None:
    """Put the invitation's e-mail in the outbox (no commit): the worker sends it."""
    expiry = invitation.expired_at.astimezone(UTC).strftime("%d %B %Y, %H:%M UTC")
    # The link carries the token, a credential: it rests encrypted until sent, then is erased.
    db.session.add(
        outbox.sealed_email(
            "guest_invitation",
            invitation.email,
            f"{host.name} invites you to connect on Guest Connections",
            f"Hello,\n\n{host.name} invites your organization to connect with it on "
            f"Guest Connections, so that it can follow your credit assessment.\n\n"
            f"Accept the invitation here (the link works once, until {expiry}):\n"
            f"{outbox.SEALED_PLACEHOLDER}\n\n"
            f"Questions? Write to {invitation.owner_email}.\n",
            link,
            host_organization_id=host.id,
            created_at=invitation.updated_at,
        )
    )


def _with_token(
    host_id: uuid.UUID, invitation_id: uuid.UUID, token: str | None, accept_url: AcceptUrl
) -> schemas.CreatedGuestInvitation:
    fields = get_invitation(host_id, invitation_id).model_dump()
    return schemas.CreatedGuestInvitation(
        **fields,
        invitation_token=token,
        invitation_url=accept_url(token) if token else None,
    )


def _pending_invitation_exists(host_id: uuid.UUID, email: str, now: datetime) -> bool:
    return (
        db.session.scalar(
            db.select(GuestInvitation.id)
            .where(
                GuestInvitation.host_organization_id == host_id,
                GuestInvitation.email == email,
                GuestInvitation.status == InvitationStatus.SENT,
                GuestInvitation.archived.is_(False),
                ~_expired(now),
            )
            .limit(1)
        )
        is not None
    )


def _connected_guest_with_email(host_id: uuid.UUID, email: str) -> uuid.UUID | None:
    """Return the guest connected to the host that this e-mail is proven to belong to, if any."""
    return db.session.scalar(
        db.select(GuestConnection.guest_organization_id)
        .where(
            GuestConnection.host_organization_id == host_id,
            GuestConnection.status == ConnectionStatus.CONNECTED,
            GuestConnection.guest_organization_id.in_(
                organizations.organizations_with_proven_email(email)
            ),
        )
        .limit(1)
    )


def _invitation_for_update(host_id: uuid.UUID, invitation_id: uuid.UUID) -> GuestInvitation:
    invitation = db.session.scalar(
        db.select(GuestInvitation)
        .where(GuestInvitation.host_organization_id == host_id, GuestInvitation.id == invitation_id)
        .with_for_update()
    )
    if invitation is None:
        raise InvitationNotFound(loc=["path", "invitation_id"])
    return invitation


def resend_invitation(
    host_id: uuid.UUID,
    invitation_id: uuid.UUID,
    expired_at: datetime | None,
    *,
    actor: Actor,
    accept_url: AcceptUrl,
) -> schemas.CreatedGuestInvitation:
    """Send an open invitation again with a new token (the old one dies); return it."""
    now = utcnow()
    invitation = _invitation_for_update(host_id, invitation_id)
    if invitation.status != InvitationStatus.SENT:
        db.session.rollback()
        raise InvitationAlreadyAccepted(loc=["path", "invitation_id"])
    if invitation.archived:
        db.session.rollback()
        raise InvitationArchived(loc=["path", "invitation_id"])
    previous_expiry = invitation.expired_at
    if expired_at is not None:
        invitation.expired_at = _checked_expiry(expired_at, now)
    elif invitation.expired_at <= now:
        db.session.rollback()
        raise InvitationExpired(
            "This invitation has expired: give a new expired_at to send it again.",
            loc=["body", "expired_at"],
        )
    changes = {"last_invitation_sent_at": (invitation.last_invitation_sent_at, now)}
    if expired_at is not None:
        changes["expired_at"] = (previous_expiry, invitation.expired_at)
    token = secrets.token_urlsafe(32)
    invitation.token_hash = hash_token(token)
    invitation.last_invitation_sent_at = now
    invitation.updated_at = now
    audit.record(
        host_id, actor, AuditAction.INVITATION_RESENT, Subject.invitation(invitation.id), changes
    )
    _queue_email(get_organization(host_id), invitation, accept_url(token))
    db.session.commit()
    return _with_token(host_id, invitation_id, token, accept_url)


def set_archived(
    host_id: uuid.UUID, invitation_id: uuid.UUID, archived: bool, *, actor: Actor
) -> schemas.GuestInvitation:
    """Archive (withdraw) or unarchive an invitation; repeating it changes nothing."""
    invitation = _invitation_for_update(host_id, invitation_id)
    if invitation.archived != archived:
        now = utcnow()
        changes = {
            "archived": (invitation.archived, archived),
            "archived_at": (invitation.archived_at, now if archived else None),
        }
        invitation.archived = archived
        invitation.archived_at = now if archived else None
        invitation.updated_at = now
        audit.record(
            host_id,
            actor,
            AuditAction.INVITATION_ARCHIVED if archived else AuditAction.INVITATION_UNARCHIVED,
            Subject.invitation(invitation.id),
            changes,
        )
    db.session.commit()
    return get_invitation(host_id, invitation_id)


# -- the guest's acceptance -----------------------------------------------------------------------


def accept_invitation(
    guest_id: uuid.UUID, host_id: uuid.UUID, token: str, *, actor: Actor
) -> schemas.HostConnection:
    """Connect the guest to the host with the invitation's token, exactly once; return it.

    One transaction: first a conditional update of the invitation (status still `sent`) that
    only one of two racing acceptances of the token can make, then the connection, whose
    unique pair lets only one of two acceptances by the same guest through.
    """
    now = utcnow()
    if guest_id == host_id:
        raise ValidationFailed.at(
            ["body", "host_organization_id"], "An organization cannot accept its own invitation."
        )
    invitation = _invitation_by_token(host_id, token)
    _check_usable(invitation, now)
    claimed = db.session.execute(
        update(GuestInvitation)
        .where(
            GuestInvitation.id == invitation.id,
            GuestInvitation.status == InvitationStatus.SENT,
            GuestInvitation.archived.is_(False),
            GuestInvitation.expired_at > now,
        )
        .values(
            status=InvitationStatus.ACCEPTED_BY_GUEST,
            accepted_at=now,
            guest_organization_id=guest_id,
            updated_at=now,
        ),
        execution_options={"synchronize_session": False},
    )
    if claimed.rowcount != 1:
        db.session.rollback()
        raise InvitationAlreadyAccepted(loc=["body", "invitation_token"])
    # In the host's trail, both: its invitation was used, and its connection made (or renewed).
    audit.record(
        host_id,
        actor,
        AuditAction.INVITATION_ACCEPTED,
        Subject.invitation(invitation.id),
        {"status": (InvitationStatus.SENT, InvitationStatus.ACCEPTED_BY_GUEST)},
    )
    guest_connections.connect(
        host_id,
        guest_id,
        invitation.owner_email,
        parent_id=invitation.parent_organization_id,
        actor=actor,
        reconnect=True,
        commit=False,
    )
    webhooks.emit(
        host_id,
        WebhookEventType.GUEST_INVITATION_ACCEPTED,
        lambda: get_invitation(host_id, invitation.id),
    )
    db.session.commit()
    return host_connections.get_host_connection(guest_id, host_id)


def accept_as_new_organization(
    user_id: uuid.UUID,
    name: str,
    email: str | None,
    host_id: uuid.UUID,
    token: str,
    *,
    actor: Actor,
    confirm_url: organizations.ConfirmUrl,
) -> schemas.HostConnection:
    """Create an organization owned by this user and accept the invitation for it, or neither.

    The organization's e-mail is proven when it is the person's own, which their sign-in
    provider verified; another address gets a confirmation link and counts once it is followed.
    A typed address alone never makes invitations to it `accepted_by_system`.
    """
    user = db.session.get(User, user_id)
    typed = organizations.checked_email(email) if email else None
    proven = typed is not None and user.oidc_subject is not None and typed == user.email
    organization = organizations.add_organization(name, email, actor=actor, email_proven=proven)
    if typed is not None and not proven:
        # Another address: it counts once someone who reads it follows the link sent there.
        organizations.request_email_confirmation(organization, confirm_url)
    members.add_membership(organization.id, user, Role.OWNER, actor=actor)
    try:
        return accept_invitation(organization.id, host_id, token, actor=actor)
    except AppError:
        db.session.rollback()  # the new organization goes too
        raise


def _invitation_by_token(host_id: uuid.UUID, token: str) -> GuestInvitation:
    invitation = db.session.scalar(
        db.select(GuestInvitation)
        .where(
            GuestInvitation.token_hash == hash_token(token),
            GuestInvitation.host_organization_id == host_id,
        )
        .execution_options(populate_existing=True)
    )
    if invitation is None:
        raise InvitationNotFound(
            "No invitation of this host has that token.", loc=["body", "invitation_token"]
        )
    return invitation


def _check_usable(invitation: GuestInvitation, now: datetime) -> None:
    if invitation.status != InvitationStatus.SENT:
        raise InvitationAlreadyAccepted(loc=["body", "invitation_token"])
    if invitation.archived:
        raise InvitationArchived(loc=["body", "invitation_token"])
    if invitation.expired_at <= now:
        raise InvitationExpired(loc=["body", "invitation_token"])
