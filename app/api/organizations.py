"""/v1/organizations/{org_id}: an organization as its connected organizations see it."""

from __future__ import annotations

import uuid

from pydantic import Field

from app import schemas
from app.access import AccessContext, Scenario
from app.api import bp
from app.api.endpoints import api_endpoint
from app.errors import Forbidden
from app.schemas import Schema
from app.services import organizations

TAG = "Organizations"


class OrganizationPath(Schema):
    org_id: uuid.UUID = Field(description="The organization: the target of the call.")


class NotTheTarget(Forbidden):
    code = "organization_mismatch"
    message = "org_id must be the target organization (the Target-Organization-ID header)."


def the_target(access: AccessContext, path: OrganizationPath) -> uuid.UUID:
    """Return org_id when it is the call's target; raise NotTheTarget otherwise."""
    if path.org_id != access.target_id:
        raise NotTheTarget(loc=["path", "org_id"])
    return path.org_id


@api_endpoint(
    bp,
    "GET",
    "/organizations/<org_id>",
    summary="Get an organization",
    tag=TAG,
    scenarios={Scenario.SELF, Scenario.HOST, Scenario.GUEST},
    path=OrganizationPath,
    response=schemas.Organization,
    not_found=True,
)
def get_organization(access: AccessContext, path: OrganizationPath) -> schemas.Organization:
    """Return the organization: id, name, e-mail, parent (id and name) and created_at.

    Itself (Self), or an organization it is connected to as host or guest. `org_id` must be
    the target (else 403 `organization_mismatch`).
    """
    return organizations.organization_profile(the_target(access, path))
