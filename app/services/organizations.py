"""Organizations: creating them, looking them up, and the checks on their names and e-mails."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from pydantic import EmailStr, TypeAdapter, ValidationError

from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import GuestConnection, GuestInvitation, Organization, Role
from app.services import audit
from app.services.audit import Actor, AuditAction, Subject

_email = TypeAdapter(EmailStr)


class OrganizationNotFound(NotFound):
    code = "organization_not_found"
    message = "There is no organization with that id."


def checked_email(
    value: str, field: str = "email", max_length: int = 100, *, loc: list[str | int] | None = None
) -> str:
    """Return the e-mail address normalized (lower-case), or raise ValidationFailed at loc."""
    where = loc or [field]
    try:
        email = _email.validate_python(value.strip())
    except ValidationError:
        raise ValidationFailed.at(where, f"{value!r} is not a valid e-mail address.") from None
    if len(email) > max_length:
        raise ValidationFailed.at(
            where, f"The e-mail address is longer than {max_length} characters."
        )
    return email.lower()


def checked_name(value: str, field: str = "name") -> str:
    name = value.strip()
    if not 1 <= len(name) <= 300:
        raise ValidationFailed.at([field], "The name must be 1 to 300 characters long.")
    return name


def get_organization(organization_id: uuid.UUID) -> Organization:
    """Return the organization, or raise OrganizationNotFound."""
    organization = db.session.get(Organization, organization_id)
    if organization is None:
        raise OrganizationNotFound(f"There is no organization with id {organization_id}.")
    return organization


def create_organization(
    name: str, email: str | None = None, parent_id: uuid.UUID | None = None, *, actor: Actor
) -> Organization:
    """Create an organization (optionally within a parent group) and return it."""
    organization = add_organization(name, email, parent_id, actor=actor)
    db.session.commit()
    return organization


def add_organization(
    name: str, email: str | None = None, parent_id: uuid.UUID | None = None, *, actor: Actor
) -> Organization:
    """Add a new organization and its audit event to the session (the caller commits)."""
    if parent_id is not None:
        get_organization(parent_id)
    organization = Organization(
        name=checked_name(name),
        email=checked_email(email) if email else None,
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
