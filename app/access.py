"""Who is calling, and may they act for the requester on the target: the one access rule.

Every organization-scoped read or write, in the API and in the pages, goes through authorize().
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Collection
from dataclasses import dataclass

from app.errors import Forbidden
from app.extensions import db
from app.models import ConnectionStatus, GuestConnection, Role


class Scenario(enum.StrEnum):
    SELF = "self"  # the requester acts on itself
    HOST = "host"  # the requester acts on a guest connected to it
    GUEST = "guest"  # the requester acts on a host it is connected to


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API client (one organization) or a signed-in user (their memberships)."""

    kind: str  # "api_client" or "user"
    id: str  # client_id, or the user's id
    roles: dict[uuid.UUID, Role]  # organization id -> role in it

    @classmethod
    def api_client(cls, client_id: str, organization_id: uuid.UUID) -> Principal:
        # A client has full access to its own organization.
        return cls("api_client", client_id, {organization_id: Role.OWNER})

    @classmethod
    def user(cls, user_id: uuid.UUID, roles: dict[uuid.UUID, Role]) -> Principal:
        return cls("user", str(user_id), dict(roles))

    def role_in(self, organization_id: uuid.UUID) -> Role | None:
        return self.roles.get(organization_id)


@dataclass(frozen=True)
class AccessContext:
    principal: Principal
    requester_id: uuid.UUID
    target_id: uuid.UUID
    scenario: Scenario
    role: Role


class RequesterForbidden(Forbidden):
    code = "requester_forbidden"
    message = "You do not act for the requester organization."


class ScenarioNotAllowed(Forbidden):
    code = "scenario_not_allowed"
    message = "This operation is not allowed for this requester and target organization."


class NoConnection(Forbidden):
    code = "no_connection"
    message = "The requester organization has no connection with the target organization."


class RoleTooLow(Forbidden):
    code = "role_forbidden"
    message = "Your role in this organization does not allow this."


def authorize(
    principal: Principal,
    requester_id: uuid.UUID,
    target_id: uuid.UUID,
    allowed: Collection[Scenario],
    *,
    minimum_role: Role = Role.MEMBER,
) -> AccessContext:
    """Return the access context for this call, or raise a Forbidden saying why not."""
    role = principal.role_in(requester_id)
    if role is None:
        raise RequesterForbidden(loc=["header", "Requester-Organization-ID"])
    if not role_at_least(role, minimum_role):
        raise RoleTooLow()
    if requester_id == target_id:
        scenario = Scenario.SELF
    elif set(allowed) <= {Scenario.SELF}:
        # Decided without a query: a Self-only endpoint never reveals whether a connection exists.
        raise ScenarioNotAllowed(loc=["header", "Target-Organization-ID"])
    else:
        scenario = _connection_scenario(requester_id, target_id)
    if scenario not in allowed:
        raise ScenarioNotAllowed(loc=["header", "Target-Organization-ID"])
    return AccessContext(principal, requester_id, target_id, scenario, role)


_ROLE_RANK = {Role.MEMBER: 0, Role.ADMIN: 1, Role.OWNER: 2}


def role_at_least(role: Role, minimum: Role) -> bool:
    """Tell whether the role is the minimum or above it (member < admin < owner)."""
    return _ROLE_RANK[role] >= _ROLE_RANK[minimum]


def _connection_scenario(requester_id: uuid.UUID, target_id: uuid.UUID) -> Scenario:
    """Return HOST or GUEST by the connected connection between the two, or raise NoConnection."""
    host_id = db.session.scalar(
        db.select(GuestConnection.host_organization_id)
        .where(
            GuestConnection.status == ConnectionStatus.CONNECTED,
            (
                (GuestConnection.host_organization_id == requester_id)
                & (GuestConnection.guest_organization_id == target_id)
            )
            | (
                (GuestConnection.host_organization_id == target_id)
                & (GuestConnection.guest_organization_id == requester_id)
            ),
        )
        .limit(1)
    )
    if host_id is None:
        raise NoConnection(loc=["header", "Target-Organization-ID"])
    return Scenario.HOST if host_id == requester_id else Scenario.GUEST
