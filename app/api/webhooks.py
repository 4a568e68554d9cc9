"""/v1/webhook-endpoints: where an organization's events go (Standard Webhooks), owners only."""

from __future__ import annotations

import uuid

from pydantic import Field

from app import schemas
from app.access import AccessContext, Scenario
from app.api import bp
from app.api.endpoints import api_endpoint
from app.schemas import Role, Schema
from app.services import webhooks
from app.services.audit import Actor

TAG = "Webhooks"


class EndpointPath(Schema):
    endpoint_id: uuid.UUID = Field(description="The webhook endpoint's id.")


@api_endpoint(
    bp,
    "POST",
    "/webhook-endpoints",
    summary="Register a webhook endpoint",
    tag=TAG,
    scenarios={Scenario.SELF},
    body=schemas.WebhookEndpointCreate,
    response=schemas.CreatedWebhookEndpoint,
    status=201,
    minimum_role=Role.OWNER,
)
def create_webhook_endpoint(
    access: AccessContext, body: schemas.WebhookEndpointCreate
) -> schemas.CreatedWebhookEndpoint:
    """Register a URL that receives the target organization's events; return it with its secret.

    The `secret` (`whsec_...`) signs every request (Standard Webhooks: `webhook-id`,
    `webhook-timestamp`, `webhook-signature`) and is shown only in this response. `events`
    defaults to all. A URL whose host resolves to a loopback, private, link-local, multicast
    or unspecified address is 422; production takes only https.
    """
    return webhooks.create_endpoint(access.target_id, body, actor=Actor.of(access.principal))


@api_endpoint(
    bp,
    "GET",
    "/webhook-endpoints",
    summary="List webhook endpoints",
    tag=TAG,
    scenarios={Scenario.SELF},
    response=schemas.WebhookEndpointList,
    minimum_role=Role.OWNER,
)
def list_webhook_endpoints(access: AccessContext) -> schemas.WebhookEndpointList:
    """Return the target organization's webhook endpoints (never their secrets)."""
    return webhooks.list_endpoints(access.target_id)


@api_endpoint(
    bp,
    "DELETE",
    "/webhook-endpoints/<endpoint_id>",
    summary="Remove a webhook endpoint",
    tag=TAG,
    scenarios={Scenario.SELF},
    path=EndpointPath,
    response=None,
    status=204,
    minimum_role=Role.OWNER,
    not_found=True,
)
def delete_webhook_endpoint(access: AccessContext, path: EndpointPath) -> None:
    """Remove the endpoint; its deliveries not yet made are dropped."""
    webhooks.delete_endpoint(access.target_id, path.endpoint_id, actor=Actor.of(access.principal))


@api_endpoint(
    bp,
    "POST",
    "/webhook-endpoints/<endpoint_id>/test",
    summary="Send a ping event",
    tag=TAG,
    scenarios={Scenario.SELF},
    path=EndpointPath,
    response=schemas.WebhookDelivery,
    status=202,
    minimum_role=Role.OWNER,
    not_found=True,
)
def ping_webhook_endpoint(access: AccessContext, path: EndpointPath) -> schemas.WebhookDelivery:
    """Queue a `ping` event for the endpoint (enabling it again if it was disabled)."""
    return webhooks.send_test(access.target_id, path.endpoint_id, actor=Actor.of(access.principal))


@api_endpoint(
    bp,
    "GET",
    "/webhook-endpoints/<endpoint_id>/deliveries",
    summary="List an endpoint's deliveries",
    tag=TAG,
    scenarios={Scenario.SELF},
    path=EndpointPath,
    query=schemas.Page,
    response=schemas.WebhookDeliveryList,
    minimum_role=Role.OWNER,
    not_found=True,
)
def list_webhook_deliveries(
    access: AccessContext, path: EndpointPath, query: schemas.Page
) -> schemas.WebhookDeliveryList:
    """Return the endpoint's deliveries, newest first: status, attempts, last answer, next try."""
    return webhooks.list_deliveries(access.target_id, path.endpoint_id, query)
