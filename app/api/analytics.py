"""/v1/organizations/{org_id}/analytics: a host asks a guest for analytics; the guest answers."""

from __future__ import annotations

import uuid

from pydantic import Field

from app import schemas
from app.access import AccessContext, Scenario
from app.api import bp
from app.api.endpoints import api_endpoint
from app.errors import Forbidden
from app.schemas import Role, Schema
from app.services import analytics
from app.services.audit import Actor

TAG = "Analytics"


class OrganizationPath(Schema):
    org_id: uuid.UUID = Field(description="The organization the analytics are about.")


class NotTheTarget(Forbidden):
    code = "organization_mismatch"
    message = "org_id must be the target organization: a guest submits only its own analytics."


@api_endpoint(
    bp,
    "POST",
    "/organizations/<org_id>/analytics/requests",
    summary="Ask a guest to run analytics",
    tag=TAG,
    scenarios={Scenario.SELF},
    path=OrganizationPath,
    response=schemas.ConnectionAction,
    status=201,
    not_found=True,
    conflict=True,
    minimum_role=Role.ADMIN,
)
def request_analytics(access: AccessContext, path: OrganizationPath) -> schemas.ConnectionAction:
    """Ask the guest `org_id` of the target (host) organization to run analytics.

    Opens an `analytics_request` action (status `active`) that shows as `active_action_type`
    on both sides of the connection until the guest submits its result. 404
    `guest_connection_not_found` (no connection with that guest), 409
    `guest_connection_disconnected`, `analytics_request_already_active`.
    """
    return analytics.request_analytics(
        access.target_id, path.org_id, actor=Actor.of(access.principal)
    )


@api_endpoint(
    bp,
    "POST",
    "/organizations/<org_id>/analytics",
    summary="Submit the guest's analytics result",
    tag=TAG,
    scenarios={Scenario.SELF},
    path=OrganizationPath,
    body=schemas.AnalyticsSubmission,
    response=schemas.AnalyticsResult,
    status=201,
    minimum_role=Role.ADMIN,
)
def submit_analytics(
    access: AccessContext, path: OrganizationPath, body: schemas.AnalyticsSubmission
) -> schemas.AnalyticsResult:
    """Record the guest's analytics result (ours: a total score, not uploaded financials).

    `org_id` must be the target (the guest itself; else 403 `organization_mismatch`). The score
    and `score_updated_at` change on every connected host's connection, each value is kept in
    the score history, and open analytics requests are resolved.
    """
    if path.org_id != access.target_id:
        raise NotTheTarget(loc=["path", "org_id"])
    return analytics.submit_score(
        access.target_id, body.total_score, actor=Actor.of(access.principal)
    )
