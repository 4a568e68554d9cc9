"""/v1/host-connections: the guest's side - its hosts, accepting invitations, leaving."""

from __future__ import annotations

import uuid

from pydantic import Field

from app import schemas
from app.access import AccessContext, Scenario
from app.api import bp
from app.api.endpoints import api_endpoint
from app.schemas import Role, Schema
from app.services import guest_invitations, host_connections
from app.services.audit import Actor

TAG = "Host connections"


class HostConnectionPath(Schema):
    host_org_id: uuid.UUID = Field(description="The host organization's id.")


@api_endpoint(
    bp,
    "POST",
    "/host-connections",
    summary="Accept an invitation",
    tag=TAG,
    scenarios={Scenario.SELF},
    body=schemas.HostConnectionAccept,
    response=schemas.HostConnection,
    status=201,
    not_found=True,
    conflict=True,
    minimum_role=Role.ADMIN,
)
def accept_invitation(
    access: AccessContext, body: schemas.HostConnectionAccept
) -> schemas.HostConnection:
    """Connect the target (guest) organization to a host with the token of its invitation.

    The connection is created `connected` (a guest that had disconnected is reconnected), with
    the parent organization recorded on the invitation. The token works once: 404
    `guest_invitation_not_found` (no invitation of that host has it), 409
    `invitation_already_accepted`, `invitation_expired`, `invitation_archived`,
    `already_connected`.
    """
    return guest_invitations.accept_invitation(
        access.target_id,
        body.host_organization_id,
        body.invitation_token,
        actor=Actor.of(access.principal),
    )


@api_endpoint(
    bp,
    "GET",
    "/host-connections",
    summary="List host connections",
    tag=TAG,
    scenarios={Scenario.SELF},
    query=schemas.HostConnectionQuery,
    response=schemas.HostConnectionList,
)
def list_host_connections(
    access: AccessContext, query: schemas.HostConnectionQuery
) -> schemas.HostConnectionList:
    """Return a page of the target (guest) organization's hosts, filtered and sorted."""
    return host_connections.list_host_connections(access.target_id, query)


@api_endpoint(
    bp,
    "GET",
    "/host-connections/<host_org_id>",
    summary="Get a host connection",
    tag=TAG,
    scenarios={Scenario.SELF},
    path=HostConnectionPath,
    response=schemas.HostConnection,
    not_found=True,
)
def get_host_connection(access: AccessContext, path: HostConnectionPath) -> schemas.HostConnection:
    """Return the target (guest) organization's connection with one host."""
    return host_connections.get_host_connection(access.target_id, path.host_org_id)


@api_endpoint(
    bp,
    "PATCH",
    "/host-connections/<host_org_id>",
    summary="Disconnect from or reconnect to a host",
    tag=TAG,
    scenarios={Scenario.SELF},
    path=HostConnectionPath,
    body=schemas.HostConnectionStatusChange,
    response=schemas.HostConnection,
    not_found=True,
    minimum_role=Role.ADMIN,
)
def update_host_connection(
    access: AccessContext, path: HostConnectionPath, body: schemas.HostConnectionStatusChange
) -> schemas.HostConnection:
    """Set the status of the guest's connection with a host: leave it, or come back.

    Disconnecting resolves the host's open analytics request; the host sees the connection
    as disconnected and stops receiving score updates until the guest reconnects.
    """
    return host_connections.set_status(
        access.target_id, path.host_org_id, body.status, actor=Actor.of(access.principal)
    )
