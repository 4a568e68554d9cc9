"""Organizations: creating them, looking them up, and the checks on their names and e-mails."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar
from urllib.parse import urlsplit

from pydantic import EmailStr, TypeAdapter, ValidationError
from sqlalchemy import Select, func
from sqlalchemy.orm import aliased

from app import schemas
from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import (
    GuestConnection,
    GuestInvitation,
    Membership,
    Organization,
    OutboxMessage,
    Role,
    SsoLink,
    User,
)
from app.schemas import has_control_characters
from app.services import audit
from app.services.audit import Actor, AuditAction, Subject
from app.services.tokens import hash_client_secret

_email = TypeAdapter(EmailStr)
CONTROLS = "control characters (such as line breaks, tabs or NUL)"


class OrganizationNotFound(NotFound):
    code = "organization_not_found"
    message = "There is no organization with that id."


def checked_email(
    value: str, field: str = "email", max_length: int = 100, *, loc: list[str | int] | None = None
) -> str:
    """Return the e-mail address normalized (lower-case), or raise ValidationFailed at loc."""
    where = loc or [field]
    if has_control_characters(value):
        raise ValidationFailed.at(where, f"The e-mail address must not contain {CONTROLS}.")
    try:
        email = _email.validate_python(value.strip())
    except ValidationError:
        raise ValidationFailed.at(where, f"{value!r} is not a valid e-mail address.") from None
    if len(email) > max_length:
        raise ValidationFailed.at(
            where, f"The e-mail address is longer than {max_length} characters."
        )
    return email.lower()


def checked_name(
    value: str, field: str = "name", max_length: int = 300, *, loc: list[str | int] | None = None
) -> str:
    """Return the name without surrounding spaces, or raise ValidationFailed at loc."""
    where = loc or [field]
    if has_control_characters(value):
        raise ValidationFailed.at(where, f"The name must not contain {CONTROLS}.")
    name = value.strip()
    if not 1 <= len(name) <= max_length:
        raise ValidationFailed.at(where, f"The name must be 1 to {max_length} characters long.")
    return name


def get_organization(organization_id: uuid.UUID) -> Organization:
    """Return the organization, or raise OrganizationNotFound."""
    organization = db.session.get(Organization, organization_id)
    if organization is None:
        raise OrganizationNotFound(f"There is no organization with id {organization_id}.")
    return organization


_Parent = aliased(Organization, name="parent")


def organization_profile(organization_id: uuid.UUID) -> schemas.Organization:
    """Return the organization as the API shows it (with its parent's name), or raise
    OrganizationNotFound."""
    row = db.session.execute(
        db.select(
            Organization.id,
            Organization.name,
            Organization.email,
            Organization.parent_id.label("parent_organization_id"),
            _Parent.name.label("parent_organization_name"),
            Organization.created_at,
        )
        .outerjoin(_Parent, _Parent.id == Organization.parent_id)
        .where(Organization.id == organization_id)
    ).one_or_none()
    if row is None:
        raise OrganizationNotFound(loc=["path", "org_id"])
    return schemas.Organization.model_validate(row._mapping)


def create_organization(
    name: str, email: str | None = None, parent_id: uuid.UUID | None = None, *, actor: Actor
) -> Organization:
    """Create an organization (optionally within a parent group) and return it.

    Only operators (the CLI) call this: their word proves the organization's e-mail.
    """
    organization = add_organization(name, email, parent_id, actor=actor, email_proven=True)
    db.session.commit()
    return organization


def add_organization(
    name: str,
    email: str | None = None,
    parent_id: uuid.UUID | None = None,
    *,
    actor: Actor,
    email_proven: bool = False,
) -> Organization:
    """Add a new organization and its audit event to the session (the caller commits).

    A typed e-mail is not proven unless the caller says so (see proven_emails_of).
    """
    if parent_id is not None:
        get_organization(parent_id)
    organization = Organization(
        name=checked_name(name),
        email=checked_email(email) if email else None,
        email_proven=bool(email) and email_proven,
        parent_id=parent_id,
    )
    db.session.add(organization)
    db.session.flush()  # the event refers to the organization, which must exist first
    audit.record(
        organization.id,
        actor,
        AuditAction.ORGANIZATION_CREATED,
        Subject.organization(organization.id),
        {
            field: (None, getattr(organization, field))
            for field in ("name", "email", "parent_id")
            if getattr(organization, field) is not None
        },
    )
    return organization


class ConfirmationNotFound(NotFound):
    code = "email_confirmation_not_found"
    message = "This confirmation link is not valid (it may have been used already)."


# Turns a confirmation token into the link sent to the e-mail; the faces build it.
ConfirmUrl = Callable[[str], str]


def request_email_confirmation(organization: Organization, confirm_url: ConfirmUrl) -> None:
    """Queue a link to the organization's unproven e-mail that proves it (the caller commits)."""
    token = secrets.token_urlsafe(32)
    organization.email_confirmation_hash = hash_client_secret(token)
    db.session.add(
        OutboxMessage(
            kind="email_confirmation",
            recipient_email=organization.email,
            subject=f"Confirm {organization.email} as the e-mail of {organization.name}",
            body=(
                f"Someone named {organization.email} as the e-mail address of the organization "
                f"{organization.name} on Guest Connections. Hosts that invite this address will "
                f"then be connected to {organization.name} at once. If that is right, confirm "
                f"it here: {confirm_url(token)}\nIf it is not, ignore this message: nothing "
                "happens without your confirmation."
            ),
            guest_organization_id=organization.id,
        )
    )


def confirmation_target(token: str) -> Organization:
    """Return the organization a confirmation link is for, or raise ConfirmationNotFound."""
    organization = db.session.scalar(
        db.select(Organization).where(
            Organization.email_confirmation_hash == hash_client_secret(token)
        )
    )
    if organization is None:
        raise ConfirmationNotFound()
    return organization


def confirm_email(token: str) -> Organization:
    """Prove the organization's e-mail with the link sent to it; return the organization."""
    organization = confirmation_target(token)
    actor = Actor.mailbox(organization.email)
    organization.email_proven = True
    organization.email_confirmation_hash = None
    audit.record(
        organization.id,
        actor,
        AuditAction.ORGANIZATION_EMAIL_CONFIRMED,
        Subject.organization(organization.id),
        {"email_proven": (False, True)},
    )
    db.session.commit()
    return organization


def proven_emails_of(organization_id: uuid.UUID) -> set[str]:
    """Return the e-mails proven to be the organization's: its own once proven, and those of
    its members who signed in (the provider verified them when their account was linked)."""
    organization = db.session.get(Organization, organization_id)
    emails = set(
        db.session.scalars(
            db.select(User.email)
            .join(Membership)
            .where(Membership.organization_id == organization_id, User.oidc_subject.is_not(None))
        )
    )
    if organization is not None and organization.email and organization.email_proven:
        emails.add(organization.email.lower())
    return emails


def organizations_with_proven_email(email: str) -> Select:
    """Select the ids of the organizations this e-mail is proven to belong to (see above)."""
    own = db.select(Organization.id).where(
        func.lower(Organization.email) == email, Organization.email_proven.is_(True)
    )
    of_members = (
        db.select(Membership.organization_id)
        .join(User)
        .where(User.email == email, User.oidc_subject.is_not(None))
    )
    return own.union(of_members)


# -- sign-in by claim: an organization's opt-in -------------------------------------------------


class ClaimValueTaken(Conflict):
    code = "sso_claim_value_taken"
    message = "Another organization already uses this claim value at this issuer."


def normalized_issuer(value: str) -> str:
    """Return the issuer as the sign-in compares it (no trailing slash)."""
    return value.strip().rstrip("/")


def get_sso_link(organization_id: uuid.UUID) -> SsoLink | None:
    """Return the organization's sign-in link, or None when it has not opted in."""
    return db.session.get(SsoLink, organization_id)


def link_sso(organization_id: uuid.UUID, issuer: str, claim_value: str, *, actor: Actor) -> SsoLink:
    """Let people whose ID token from `issuer` names `claim_value` (in OIDC_ORG_CLAIM) in."""
    get_organization(organization_id)
    issuer = _checked_issuer(issuer)
    claim_value = _checked_claim_value(claim_value)
    taken = db.session.scalar(
        db.select(SsoLink.organization_id).where(
            SsoLink.issuer == issuer,
            SsoLink.claim_value == claim_value,
            SsoLink.organization_id != organization_id,
        )
    )
    if taken is not None:
        raise ClaimValueTaken(loc=["claim_value"])
    link = get_sso_link(organization_id)
    before = (link.issuer, link.claim_value) if link else (None, None)
    if link is None:
        link = SsoLink(organization_id=organization_id, issuer=issuer, claim_value=claim_value)
        db.session.add(link)
    link.issuer, link.claim_value = issuer, claim_value
    audit.record(
        organization_id,
        actor,
        AuditAction.SSO_LINKED,
        Subject.organization(organization_id),
        {"issuer": (before[0], issuer), "claim_value": (before[1], claim_value)},
    )
    db.session.commit()
    return link


def unlink_sso(organization_id: uuid.UUID, *, actor: Actor) -> None:
    """Stop admitting people by claim (memberships already granted stay)."""
    link = get_sso_link(organization_id)
    if link is not None:
        audit.record(
            organization_id,
            actor,
            AuditAction.SSO_UNLINKED,
            Subject.organization(organization_id),
            {"issuer": (link.issuer, None), "claim_value": (link.claim_value, None)},
        )
        db.session.delete(link)
    db.session.commit()


def organizations_linked_to(issuer: str, claim_values: set[str]) -> list[uuid.UUID]:
    """Return the organizations that opted in to these claim values at this issuer."""
    if not claim_values:
        return []
    return list(
        db.session.scalars(
            db.select(SsoLink.organization_id).where(
                SsoLink.issuer == normalized_issuer(issuer),
                SsoLink.claim_value.in_(claim_values),
            )
        )
    )


def _checked_issuer(value: str) -> str:
    issuer = normalized_issuer(value)
    parts = urlsplit(issuer)
    if (
        has_control_characters(value)
        or parts.scheme not in ("https", "http")
        or not parts.netloc
        or len(issuer) > 500
    ):
        raise ValidationFailed.at(
            ["issuer"], "The issuer must be the provider's URL, e.g. https://login.example.com."
        )
    return issuer


def _checked_claim_value(value: str) -> str:
    claim_value = value.strip()
    if has_control_characters(value) or not 1 <= len(claim_value) <= 255:
        raise ValidationFailed.at(
            ["claim_value"], "The claim value must be 1 to 255 characters, on one line."
        )
    if any(character in claim_value for character in " ,"):
        raise ValidationFailed.at(
            ["claim_value"],
            "The claim value must not contain spaces or commas (they separate values).",
        )
    try:
        uuid.UUID(claim_value)
    except ValueError:
        return claim_value
    raise ValidationFailed.at(
        ["claim_value"],
        "Choose an external id of your own (such as acme-eu), not an organization id.",
    )


@dataclass(frozen=True)
class Sides:
    """Which side of guest connections an organization is on; the pages show only its own."""

    is_host: bool  # it has guests, or invitations out
    is_guest: bool  # it has hosts

    @property
    def is_new(self) -> bool:
        return not (self.is_host or self.is_guest)


def sides_of(organization_id: uuid.UUID) -> Sides:
    """Return whether the organization has guests or invitations, and whether it has hosts."""
    has_guests = db.exists().where(GuestConnection.host_organization_id == organization_id)
    has_invitations = db.exists().where(GuestInvitation.host_organization_id == organization_id)
    has_hosts = db.exists().where(GuestConnection.guest_organization_id == organization_id)
    is_host, is_guest = db.session.execute(db.select(has_guests | has_invitations, has_hosts)).one()
    return Sides(is_host=bool(is_host), is_guest=bool(is_guest))


class _Membership(Protocol):
    organization_id: uuid.UUID
    role: Role


M = TypeVar("M", bound=_Membership)
_ROLE_RANK = {Role.OWNER: 0, Role.ADMIN: 1, Role.MEMBER: 2}


def landing_organization(memberships: Sequence[M], last_used: str | None) -> M | None:
    """Return the membership to land in: the last organization used, else the highest role
    (then the order given, by name)."""
    for membership in memberships:
        if str(membership.organization_id) == last_used:
            return membership
    ranked = sorted(memberships, key=lambda m: _ROLE_RANK.get(Role(m.role), len(_ROLE_RANK)))
    return ranked[0] if ranked else None
