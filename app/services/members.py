"""Members: the people of an organization, their roles, and how a sign-in finds them.

The sign-in rule (README, "Sign-in"): a person is the user already linked to their (issuer,
subject); else the provisioned user (`flask members add`) with their e-mail, when the provider
says the e-mail is verified — the subject is then recorded. Organizations come from memberships, and
optionally from an ID-token claim listing organization ids (OIDC_ORG_CLAIM): each existing
organization named there becomes a membership with the role `member`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func

from app.database import HotSelect
from app.errors import Conflict, Forbidden, NotFound
from app.extensions import db
from app.models import ActorKind, Membership, Organization, Role, User, utcnow
from app.schemas import CONTROL_CHARACTERS
from app.services import audit
from app.services.audit import Actor, AuditAction, Subject
from app.services.organizations import (
    checked_email,
    checked_name,
    get_organization,
    organizations_linked_to,
)


class UnknownPerson(Forbidden):
    code = "unknown_person"
    message = (
        "There is no Guest Connections account for you yet. Ask an administrator of your "
        "organization to add your e-mail address, then sign in again."
    )


class SubjectMismatch(Forbidden):
    code = "subject_mismatch"
    message = (
        "Your e-mail address is already linked to another sign-in account. "
        "Ask an administrator to check your account."
    )


@dataclass(frozen=True)
class MembershipView:
    organization_id: uuid.UUID
    organization_name: str
    role: Role


@dataclass(frozen=True)
class UserAccess:
    """A signed-in user and the organizations they belong to (sorted by name)."""

    id: uuid.UUID
    email: str
    name: str | None
    memberships: tuple[MembershipView, ...]
    session_epoch: int = 0  # a browser session begun in an older epoch is over

    @property
    def roles(self) -> dict[uuid.UUID, Role]:
        return {m.organization_id: m.role for m in self.memberships}

    def membership(self, organization_id: uuid.UUID) -> MembershipView | None:
        return next((m for m in self.memberships if m.organization_id == organization_id), None)


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
        user = User(email=email, name=checked_name(name) if name else None)
        db.session.add(user)
        db.session.flush()
    elif db.session.get(Membership, (user.id, organization_id)) is not None:
        raise Conflict(f"{email} is already a member of this organization.", code="already_member")
    membership = add_membership(organization_id, user, role, actor=actor)
    db.session.commit()
    return membership


def add_membership(
    organization_id: uuid.UUID, user: User, role: Role, *, actor: Actor
) -> Membership:
    """Add a membership and its audit event to the session (the caller commits)."""
    membership = Membership(user_id=user.id, organization_id=organization_id, role=role)
    db.session.add(membership)
    audit.record(
        organization_id,
        actor,
        AuditAction.MEMBERSHIP_ADDED,
        Subject.user(user.id),
        {"email": (None, user.email), "role": (None, role)},
    )
    return membership


class MemberNotFound(NotFound):
    code = "member_not_found"
    message = "That person is not a member of this organization."


class LastOwner(Conflict):
    code = "last_owner"
    message = "An organization keeps at least one owner: make someone else owner first."


@dataclass(frozen=True)
class MemberView:
    email: str
    name: str | None
    role: Role
    last_login_at: datetime | None


def list_members(organization_id: uuid.UUID) -> list[MemberView]:
    """Return the organization's members by e-mail."""
    get_organization(organization_id)
    rows = db.session.execute(
        db.select(User.email, User.name, Membership.role, User.last_login_at)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organization_id == organization_id)
        .order_by(User.email)
    ).all()
    return [MemberView(*row) for row in rows]


def set_role(organization_id: uuid.UUID, email: str, role: Role, *, actor: Actor) -> Membership:
    """Change a member's role; it applies from their next request (roles are read per request)."""
    membership = _membership_for_update(organization_id, email)
    if membership.role != role:
        if membership.role == Role.OWNER:
            _keep_an_owner(organization_id)
        audit.record(
            organization_id,
            actor,
            AuditAction.MEMBERSHIP_ROLE_CHANGED,
            Subject.user(membership.user_id),
            {"role": (membership.role, role)},
        )
        membership.role = role
    db.session.commit()
    return membership


def remove_member(organization_id: uuid.UUID, email: str, *, actor: Actor) -> None:
    """Remove a member from the organization and end their browser sessions at once."""
    membership = _membership_for_update(organization_id, email)
    if membership.role == Role.OWNER:
        _keep_an_owner(organization_id)
    user = membership.user
    audit.record(
        organization_id,
        actor,
        AuditAction.MEMBERSHIP_REMOVED,
        Subject.user(user.id),
        {"email": (user.email, None), "role": (membership.role, None)},
    )
    db.session.delete(membership)
    end_sessions(user)
    db.session.commit()


def end_sessions(user: User) -> None:
    """End every browser session of the user (the caller commits): each carries the epoch it
    began in, and a session of an older epoch is refused on its next request."""
    user.session_epoch += 1


def _membership_for_update(organization_id: uuid.UUID, email: str) -> Membership:
    get_organization(organization_id)
    email = checked_email(email, max_length=254)
    membership = db.session.scalar(
        db.select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(Membership.organization_id == organization_id, User.email == email)
        .with_for_update()
    )
    if membership is None:
        raise MemberNotFound(f"{email} is not a member of this organization.")
    return membership


def _keep_an_owner(organization_id: uuid.UUID) -> None:
    owners = db.session.scalar(
        db.select(func.count())
        .select_from(Membership)
        .where(Membership.organization_id == organization_id, Membership.role == Role.OWNER)
    )
    if owners <= 1:
        db.session.rollback()
        raise LastOwner()


# What a UserAccess is read from: the user, then one row per membership (none: one row of NULLs),
# in the order it lists them. with_user_access() adds them to a statement, access_of() reads them.
_ACCESS_COLUMNS = (
    User.email,
    User.name,
    Membership.organization_id,
    Organization.name,
    Membership.role,
    User.session_epoch,
)
_ACCESS_ORDER = (Organization.name, Membership.organization_id)


def _with_memberships(statement: Select) -> Select:
    return (
        statement.outerjoin(Membership, Membership.user_id == User.id)
        .outerjoin(Organization, Organization.id == Membership.organization_id)
        .order_by(*_ACCESS_ORDER)
    )


# Built once and run on the driver's cursor: it runs on every page view whose session did not
# read it (with_user_access).
_USER_ACCESS = HotSelect(
    _with_memberships(
        db.select(*_ACCESS_COLUMNS).select_from(User).where(User.id == bindparam("user_id"))
    )
)


def load_user_access(user_id: uuid.UUID) -> UserAccess | None:
    """Return the user with their memberships (one query), or None if there is no such user."""
    return access_of(user_id, _USER_ACCESS.all(user_id=user_id))


def with_user_access(statement: Select, user_id: ColumnElement[uuid.UUID]) -> Select:
    """Return statement with the access of the user whose id is user_id after its own columns.

    Joined LEFT, so the statement's rows stay when there is no such user; a row per membership.
    access_of() reads the access back from the rows.
    """
    return _with_memberships(
        statement.add_columns(*_ACCESS_COLUMNS).outerjoin(User, User.id == user_id)
    )


def access_of(user_id: uuid.UUID, rows: Sequence[Sequence[Any]]) -> UserAccess | None:
    """Return the UserAccess the rows end with (with_user_access), or None if there is no user."""
    access = [row[-len(_ACCESS_COLUMNS) :] for row in rows]
    if not access or access[0][0] is None:  # a user always has an e-mail
        return None
    email, name, epoch = access[0][0], access[0][1], access[0][5]
    memberships = tuple(
        MembershipView(org_id, org_name, role)
        for _, _, org_id, org_name, role, _ in access
        if org_id is not None
    )
    return UserAccess(user_id, email, name, memberships, epoch)


def sign_in(issuer: str, claims: Mapping[str, Any], org_claim: str | None = None) -> uuid.UUID:
    """Return the id of the user these ID-token claims identify, recording the sign-in.

    Raises UnknownPerson when no user matches, SubjectMismatch when the verified e-mail
    belongs to a user already linked to another subject.
    """
    subject = str(claims.get("sub") or "")
    if not subject:
        raise UnknownPerson()
    email = _verified_email(claims)
    organization_ids = _claimed_organizations(claims, org_claim, issuer)
    user = db.session.scalar(
        db.select(User).where(User.oidc_issuer == issuer, User.oidc_subject == subject)
    )
    if user is None and email is not None:
        user = db.session.scalar(db.select(User).where(User.email == email))
        if user is not None and user.oidc_subject is not None:
            raise SubjectMismatch()
    if user is None and email is not None and organization_ids:
        # The provider vouches for the person and names their organizations: provision them.
        user = User(email=email)
        db.session.add(user)
    if user is None:
        raise UnknownPerson()
    user.oidc_issuer, user.oidc_subject = issuer, subject
    if not user.name and isinstance(claims.get("name"), str):
        # The provider's text, kept on one line: control characters become spaces.
        user.name = CONTROL_CHARACTERS.sub(" ", claims["name"]).strip()[:300] or None
    user.last_login_at = utcnow()
    db.session.flush()
    _add_memberships(user, organization_ids)
    db.session.commit()
    return user.id


def _verified_email(claims: Mapping[str, Any]) -> str | None:
    email = claims.get("email")
    verified = claims.get("email_verified")
    # Some providers send the flag as a string; anything but true means "not verified".
    if not isinstance(email, str) or verified not in (True, "true"):
        return None
    email = email.strip().lower()
    return email if 3 <= len(email) <= 254 and "@" in email else None


def _claimed_organizations(
    claims: Mapping[str, Any], org_claim: str | None, issuer: str
) -> list[uuid.UUID]:
    """Return the organizations that opted in (linked by their owner) to a value of the claim
    (a list or a string), at this issuer. Unlinked values, ids included, grant nothing."""
    if not org_claim or org_claim not in claims:
        return []
    value = claims[org_claim]
    values = re.split(r"[\s,]+", value) if isinstance(value, str) else value
    if not isinstance(values, list):
        return []
    wanted = {item for item in values if isinstance(item, str) and 1 <= len(item) <= 255}
    return organizations_linked_to(issuer, wanted)


def _add_memberships(user: User, organization_ids: list[uuid.UUID]) -> None:
    if not organization_ids:
        return
    existing = set(
        db.session.scalars(
            db.select(Membership.organization_id).where(
                Membership.user_id == user.id, Membership.organization_id.in_(organization_ids)
            )
        )
    )
    # The provider's claim grants these; the audit trail names the person and the claim.
    actor = Actor(ActorKind.USER, str(user.id), f"{user.email} (organization claim at sign-in)")
    for organization_id in organization_ids:
        if organization_id not in existing:
            add_membership(organization_id, user, Role.MEMBER, actor=actor)


def demo_sign_in_emails(limit: int = 12) -> list[str]:
    """Return the e-mails of users that have an organization (for the development sign-in)."""
    return list(
        db.session.scalars(
            db.select(User.email)
            .where(db.select(Membership).where(Membership.user_id == User.id).exists())
            .order_by(User.email)
            .limit(limit)
        )
    )
