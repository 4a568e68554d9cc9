"""Organizations and their members: creating them and looking them up."""

from __future__ import annotations

import uuid

from pydantic import EmailStr, TypeAdapter, ValidationError

from app import audit
from app.audit import Actor, Subject
from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import Membership, Organization, Role, User

_email = TypeAdapter(EmailStr)


class OrganizationNotFound(NotFound):
    code = "organization_not_found"
    message = "There is no organization with that id."


def invalid(field: str, message: str) -> ValidationFailed:
    """Return a ValidationFailed for one field."""
    return ValidationFailed(
        [{"loc": [field], "msg": message, "type": "validation", "code": "validation_error"}]
    )


def checked_email(value: str, field: str = "email", max_length: int = 100) -> str:
    """Return the e-mail address normalized (lower-case), or raise ValidationFailed."""
    try:
        email = _email.validate_python(value.strip())
    except ValidationError:
        raise invalid(field, f"{value!r} is not a valid e-mail address.") from None
    if len(email) > max_length:
        raise invalid(field, f"The e-mail address is longer than {max_length} characters.")
    return email.lower()


def checked_name(value: str, field: str = "name") -> str:
    name = value.strip()
    if not 1 <= len(name) <= 300:
        raise invalid(field, "The name must be 1 to 300 characters long.")
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
        "organization.created",
        Subject.organization(organization.id),
        {
            field: (None, getattr(organization, field))
            for field in ("name", "email", "parent_id")
            if getattr(organization, field) is not None
        },
    )
    db.session.commit()
    return organization


def add_member(
    organization_id: uuid.UUID,
    email: str,
    name: str | None = None,
    role: Role = Role.MEMBER,
    *,
    actor: Actor,
) -> Membership:
    """Give the person with this e-mail a role in the organization, creating the user if new."""
    get_organization(organization_id)
    email = checked_email(email, max_length=254)
    user = db.session.scalar(db.select(User).where(User.email == email))
    if user is None:
        user = User(email=email, name=name.strip() if name else None)
        db.session.add(user)
        db.session.flush()
    elif db.session.get(Membership, (user.id, organization_id)) is not None:
        raise Conflict(f"{email} is already a member of this organization.", code="already_member")
    membership = Membership(user_id=user.id, organization_id=organization_id, role=role)
    db.session.add(membership)
    record_membership_added(organization_id, user.id, email, role, actor)
    db.session.commit()
    return membership


def record_membership_added(
    organization_id: uuid.UUID, user_id: uuid.UUID, email: str, role: Role, actor: Actor
) -> None:
    """Add the audit event of a new membership to the session (the caller commits)."""
    audit.record(
        organization_id,
        actor,
        "membership.added",
        Subject.user(user_id),
        {"email": (None, email), "role": (None, role)},
    )
