"""/v1/guest-connections: a host's guest connections."""

from __future__ import annotations

import uuid

from pydantic import Field

from app import connections, schemas
from app.access import AccessContext, Scenario
from app.api import bp
from app.api.endpoints import api_endpoint
from app.audit import Actor
from app.schemas import Schema


class GuestConnectionPath(Schema):
    guest_org_id: uuid.UUID = Field(description="The guest organization's id.")


@api_endpoint(
    bp,
    "GET",
    "/guest-connections",
    summary="List guest connections",
    tag="Guest connections",
    scenarios={Scenario.SELF},
    query=schemas.GuestConnectionQuery,
    response=schemas.GuestConnectionList,
)
def list_guest_connections(
    access: AccessContext, query: schemas.GuestConnectionQuery
) -> schemas.GuestConnectionList:
    """Return one page of the target (host) organization's guest connections, and the total.

    Self only. Filter by status (repeat `statuses`), archived, a case-insensitive substring of
    one field (`%`, `_` and `\\` match literally) and parent organization; sort by one field in
    either direction, with empty values last and ties broken by the guest's id, so pages neither
    overlap nor skip.
    """
    return connections.list_guest_connections(access.target_id, query)


@api_endpoint(
    bp,
    "GET",
    "/guest-connections/<guest_org_id>",
    summary="Get a guest connection",
    tag="Guest connections",
    scenarios={Scenario.SELF},
    path=GuestConnectionPath,
    response=schemas.GuestConnection,
    not_found=True,
)
def get_guest_connection(
    access: AccessContext, path: GuestConnectionPath
) -> schemas.GuestConnection:
    """Return one guest connection of the target (host) organization, by the guest's id.

    Self only: the requester and the target are the host. A connection of another host is
    404, exactly like one that does not exist.
    """
    return connections.get_guest_connection(access.target_id, path.guest_org_id)


@api_endpoint(
    bp,
    "PATCH",
    "/guest-connections/<guest_org_id>",
    summary="Archive or unarchive a guest connection",
    tag="Guest connections",
    scenarios={Scenario.SELF},
    path=GuestConnectionPath,
    body=schemas.GuestConnectionUpdate,
    response=schemas.GuestConnection,
    not_found=True,
)
def update_guest_connection(
    access: AccessContext, path: GuestConnectionPath, body: schemas.GuestConnectionUpdate
) -> schemas.GuestConnection:
    """Archive (`{"archived": true}`) or unarchive a guest connection; return the connection.

    Archiving sets `archived_at`, unarchiving clears it; both move `updated_at` and are recorded
    in the audit trail. Repeating a request changes nothing. Self only.
    """
    return connections.set_archived(
        access.target_id, path.guest_org_id, body.archived, actor=Actor.of(access.principal)
    )
