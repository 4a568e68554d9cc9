"""Settings → API clients: owners and admins create, see and revoke their organization's clients.

The secret of a new client is shown once, in the answer to the form that created it (never in
the session or a redirect), and only its hash is kept.
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
from flask_login import login_required

from app import api_clients
from app.audit import Actor
from app.errors import ValidationFailed
from app.models import Role
from app.web.pages import authorize_page

bp = Blueprint("settings", __name__)

ADMIN = Role.ADMIN  # owners and admins; members are refused


@bp.get("/orgs/<uuid:org_id>/settings/api-clients")
@login_required
def api_clients_page(org_id: uuid.UUID):
    """List the organization's API clients, with the form to create one."""
    authorize_page(org_id, minimum_role=ADMIN)
    return _render(org_id)


@bp.post("/orgs/<uuid:org_id>/settings/api-clients")
@login_required
def create_api_client(org_id: uuid.UUID):
    """Create a client and show its secret, this once."""
    access = authorize_page(org_id, minimum_role=ADMIN)
    name = request.form.get("name", "")
    try:
        client, secret = api_clients.create_api_client(
            org_id, name, actor=Actor.of(access.principal)
        )
    except ValidationFailed as error:
        return _render(org_id, name=name, error=error.message, status=422)
    return _render(org_id, created=client, secret=secret, status=201)


@bp.post("/orgs/<uuid:org_id>/settings/api-clients/<client_id>/revoke")
@login_required
def revoke_api_client(org_id: uuid.UUID, client_id: str):
    """Revoke a client of this organization: its tokens stop working at once."""
    access = authorize_page(org_id, minimum_role=ADMIN)
    client = api_clients.revoke_api_client(
        client_id, organization_id=org_id, actor=Actor.of(access.principal)
    )
    flash(f"{client.name} ({client.client_id}) is revoked; its tokens no longer work.", "success")
    return redirect(url_for("settings.api_clients_page", org_id=org_id))


def _render(org_id: uuid.UUID, *, status: int = 200, **context) -> Response:
    clients = api_clients.list_api_clients(org_id)
    response = make_response(
        render_template(
            "settings/api_clients.html",
            org_id=org_id,
            active=[c for c in clients if c.revoked_at is None],
            revoked=[c for c in clients if c.revoked_at is not None],
            **context,
        ),
        status,
    )
    response.headers["Cache-Control"] = "no-store"  # the page may hold a secret
    return response
