"""/v1/organizations/{org_id}/analytics: a host asks a guest for analytics; the guest's runs
score its latest financial statement; hosts read the runs."""

from __future__ import annotations

import uuid

from pydantic import Field

from app import schemas
from app.access import AccessContext, Scenario
from app.api import bp
from app.api.endpoints import api_endpoint
from app.api.organizations import OrganizationPath, the_target
from app.schemas import Role
from app.services import analytics
from app.services.audit import Actor

TAG = "Analytics"


class RunPath(OrganizationPath):
    run_id: uuid.UUID = Field(description="The analytics run.")


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
    on both sides of the connection until one of the guest's analytics runs succeeds. 404
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
    summary="Start an analytics run",
    tag=TAG,
    scenarios={Scenario.SELF},
    path=OrganizationPath,
    body=schemas.AnalyticsRunStart,
    body_required=False,
    response=schemas.AnalyticsRun,
    status=201,
    minimum_role=Role.ADMIN,
)
def start_analytics_run(
    access: AccessContext, path: OrganizationPath, body: schemas.AnalyticsRunStart
) -> schemas.AnalyticsRun:
    """Score the organization's latest financial statement (the original's shape: no body).

    `org_id` must be the target, the organization itself (else 403 `organization_mismatch`).
    The configured scorer (default Altman Z″) computes the score; the run answers with
    status `success` or `failed` (with its `error`). A successful run sets `total_score` and
    `score_updated_at` on every connection in which the organization is a connected guest,
    keeps the value with the run in the score history, and resolves open analytics requests;
    a failed one changes no score. 422 when there is no statement yet, and when the body
    carries a `total_score`: scores are computed, never submitted.
    """
    return analytics.start_run(the_target(access, path), actor=Actor.of(access.principal))


@api_endpoint(
    bp,
    "GET",
    "/organizations/<org_id>/analytics",
    summary="List the analytics runs",
    tag=TAG,
    scenarios={Scenario.SELF, Scenario.HOST},
    path=OrganizationPath,
    query=schemas.AnalyticsRunQuery,
    response=schemas.AnalyticsRunList,
)
def list_analytics_runs(
    access: AccessContext, path: OrganizationPath, query: schemas.AnalyticsRunQuery
) -> schemas.AnalyticsRunList:
    """List the organization's analytics runs, newest first (`statuses`, `limit`, `offset`).

    The organization itself (Self), or a host it is connected to (Host): score, model, zone
    and period of each run, never the statement's figures.
    """
    return analytics.list_runs(the_target(access, path), query)


@api_endpoint(
    bp,
    "GET",
    "/organizations/<org_id>/analytics/<run_id>",
    summary="Get an analytics run",
    tag=TAG,
    scenarios={Scenario.SELF, Scenario.HOST},
    path=RunPath,
    response=schemas.AnalyticsRun,
    not_found=True,
)
def get_analytics_run(access: AccessContext, path: RunPath) -> schemas.AnalyticsRun:
    """Return one analytics run of the organization (Self, or a connected host); 404
    `analytics_run_not_found`."""
    return analytics.get_run(the_target(access, path), path.run_id)
