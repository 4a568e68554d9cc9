"""A guest's hosts as a page: the list, leaving one, and coming back."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from app import schemas
from app.access import AccessContext
from app.schemas import ConnectionStatus, Role
from app.services import host_connections
from app.web.org_pages import actor, org_page

bp = Blueprint("host_connections", __name__)


@bp.get("/orgs/<uuid:org_id>/hosts")
@org_page()
def hosts(access: AccessContext, org_id: uuid.UUID):
    """List the organization's hosts, with leaving, coming back, and who asks for analytics."""
    try:
        offset = max(0, int(request.args.get("offset", "0")))
    except ValueError:
        abort(400)
    query = schemas.HostConnectionQuery(limit=50, offset=offset)
    page = host_connections.list_host_connections(org_id, query)
    return render_template("host_connections/list.html", org_id=org_id, page=page, query=query)


@bp.post("/orgs/<uuid:org_id>/hosts/<uuid:host_org_id>/status")
@org_page(Role.ADMIN)
def set_host_status(access: AccessContext, org_id: uuid.UUID, host_org_id: uuid.UUID):
    """Disconnect from a host, or reconnect."""
    try:
        status = ConnectionStatus(request.form.get("status", ""))
    except ValueError:
        abort(400)
    connection = host_connections.set_status(org_id, host_org_id, status, actor=actor())
    if status == ConnectionStatus.DISCONNECTED:
        flash(f"You disconnected from {connection.host_name}.", "success")
    else:
        flash(f"You are connected to {connection.host_name} again.", "success")
    return redirect(url_for("host_connections.hosts", org_id=org_id))
