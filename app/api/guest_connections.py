"""/v1/guest-connections: a host's guest connections."""

from __future__ import annotations

import uuid

from pydantic import Field

from app import connections, schemas
from app.access import AccessContext, Scenario
from app.api import bp
from app.api.endpoints import api_endpoint
from app.schemas import Schema


class GuestConnectionPath(Schema):
    guest_org_id: uuid.UUID = Field(description="The guest organization's id.")


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
