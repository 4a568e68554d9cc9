"""Settings → Webhooks: owners register endpoints, send a test event and read the delivery log.

The signing secret of a new endpoint is shown once, in the answer to the form that created it.
"""

from __future__ import annotations

import uuid

from flask import (
    Blueprint,
    Response,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from pydantic import ValidationError

from app import schemas
from app.access import AccessContext
from app.errors import ValidationFailed
from app.schemas import Role, WebhookEventType
from app.services import webhooks
from app.web.org_pages import actor, org_page

bp = Blueprint("webhooks", __name__)

EVENT_CHOICES = [event for event in WebhookEventType if event != WebhookEventType.PING]
DELIVERY_LOG = schemas.Page(limit=50)


@bp.get("/orgs/<uuid:org_id>/settings/webhooks")
@org_page(Role.OWNER)
def webhooks_page(access: AccessContext, org_id: uuid.UUID):
    """List the organization's webhook endpoints, with the form to add one."""
    return _render(org_id)


@bp.post("/orgs/<uuid:org_id>/settings/webhooks")
@org_page(Role.OWNER)
def create_webhook_endpoint(access: AccessContext, org_id: uuid.UUID):
    """Register an endpoint and show its signing secret, this once."""
    url = request.form.get("url", "").strip()
    events = request.form.getlist("events")
    try:
        body = schemas.WebhookEndpointCreate(url=url, events=events or None)
        created = webhooks.create_endpoint(org_id, body, actor=actor())
    except ValidationError as error:
        problem = ValidationFailed.from_pydantic(error, "form")
        return _render(org_id, url=url, chosen=events, error=problem.message, status=422)
    except ValidationFailed as error:
        return _render(org_id, url=url, chosen=events, error=error.message, status=422)
    return _render(org_id, created=created, status=201)


@bp.get("/orgs/<uuid:org_id>/settings/webhooks/<uuid:endpoint_id>")
@org_page(Role.OWNER)
def webhook_deliveries(access: AccessContext, org_id: uuid.UUID, endpoint_id: uuid.UUID):
    """Show one endpoint and its latest deliveries."""
    return render_template(
        "webhooks/deliveries.html",
        org_id=org_id,
        endpoint=webhooks.get_endpoint(org_id, endpoint_id),
        deliveries=webhooks.list_deliveries(org_id, endpoint_id, DELIVERY_LOG),
    )


@bp.post("/orgs/<uuid:org_id>/settings/webhooks/<uuid:endpoint_id>/test")
@org_page(Role.OWNER)
def test_webhook_endpoint(access: AccessContext, org_id: uuid.UUID, endpoint_id: uuid.UUID):
    """Queue a ping event for the endpoint."""
    webhooks.send_test(org_id, endpoint_id, actor=actor())
    flash("A ping event is on its way; its delivery shows below.", "success")
    return redirect(url_for("webhooks.webhook_deliveries", org_id=org_id, endpoint_id=endpoint_id))


@bp.post("/orgs/<uuid:org_id>/settings/webhooks/<uuid:endpoint_id>/delete")
@org_page(Role.OWNER)
def delete_webhook_endpoint(access: AccessContext, org_id: uuid.UUID, endpoint_id: uuid.UUID):
    """Remove the endpoint; deliveries not yet made are dropped."""
    endpoint = webhooks.get_endpoint(org_id, endpoint_id)
    webhooks.delete_endpoint(org_id, endpoint_id, actor=actor())
    flash(f"{endpoint.url} no longer receives events.", "success")
    return redirect(url_for("webhooks.webhooks_page", org_id=org_id))


def _render(org_id: uuid.UUID, *, status: int = 200, **context) -> Response:
    response = make_response(
        render_template(
            "webhooks/list.html",
            org_id=org_id,
            endpoints=webhooks.list_endpoints(org_id).items,
            event_choices=EVENT_CHOICES,
            **context,
        ),
        status,
    )
    response.headers["Cache-Control"] = "no-store"  # the page may hold a secret
    return response
