"""Settings → API clients: owners create, see and revoke their organization's clients.

The form that creates a client answers with a redirect (a reload never makes a second one); its
secret waits in the session for the page the redirect leads to, is shown there once, and is then
forgotten. Only its hash is kept.
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

from app.access import AccessContext
from app.errors import ValidationFailed
from app.schemas import Role
from app.services import api_clients
from app.web.org_pages import actor, org_page, show_once, take_shown_once

bp = Blueprint("api_clients", __name__)


@bp.get("/orgs/<uuid:org_id>/settings/api-clients")
@org_page(Role.OWNER)
def api_clients_page(access: AccessContext, org_id: uuid.UUID):
    """List the organization's API clients, with the form to create one (and a new secret, once)."""
    created = take_shown_once(org_id, "api_client")
    if created is None:
        return _render(org_id)
    return _render(org_id, created=created, secret=created["secret"])


@bp.post("/orgs/<uuid:org_id>/settings/api-clients")
@org_page(Role.OWNER)
def create_api_client(access: AccessContext, org_id: uuid.UUID):
    """Create a client, then show its secret once on the page the redirect leads to."""
    name = request.form.get("name", "")
    try:
        client, secret = api_clients.create_api_client(org_id, name, actor=actor())
    except ValidationFailed as error:
        return _render(org_id, name=name, error=error.message, status=422)
    show_once(
        org_id, "api_client", {"name": client.name, "client_id": client.client_id, "secret": secret}
    )
    return redirect(url_for("api_clients.api_clients_page", org_id=org_id), 303)


@bp.post("/orgs/<uuid:org_id>/settings/api-clients/<client_id>/revoke")
@org_page(Role.OWNER)
def revoke_api_client(access: AccessContext, org_id: uuid.UUID, client_id: str):
    """Revoke a client of this organization: its tokens stop working at once."""
    client = api_clients.revoke_api_client(client_id, organization_id=org_id, actor=actor())
    flash(f"{client.name} ({client.client_id}) is revoked; its tokens no longer work.", "success")
    return redirect(url_for("api_clients.api_clients_page", org_id=org_id))


def _render(org_id: uuid.UUID, *, status: int = 200, **context) -> Response:
    clients = api_clients.list_api_clients(org_id)
    response = make_response(
        render_template(
            "api_clients/list.html",
            org_id=org_id,
            active=[c for c in clients if c.revoked_at is None],
            revoked=[c for c in clients if c.revoked_at is not None],
            **context,
        ),
        status,
    )
    response.headers["Cache-Control"] = "no-store"  # the page may hold a secret
    return response
