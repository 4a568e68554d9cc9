"""The host admin's pages: the guest list (dashboard) and one guest's detail page.

Every view checks access with the same rule as the API (Scenario.SELF: the organization in the
URL is both requester and target) and reads through the connections service. All state is in
the URL, so every view can be bookmarked and shared.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask_login import current_user, login_required
from pydantic import ValidationError

from app import analytics, audit, connections, csv_export, invitations, schemas
from app.access import AccessContext, RequesterForbidden, Scenario, authorize
from app.api.endpoints import validation_problems
from app.audit import Actor, Subject
from app.errors import Forbidden, ValidationFailed
from app.models import InvitationStatus, Role, utcnow
from app.score_chart import score_chart
from app.web.auth import SignedInUser

bp = Blueprint("pages", __name__)

LAST_ORG_KEY = "last_org_id"
PAGE_SIZES = (10, 25, 50, 100)
EXPIRY_CHOICES = (7, 14, 30, 90)  # days an invitation stays open, offered on the forms
# The dashboard's invitations: those still waiting for an answer, soonest to expire first.
OPEN_INVITATIONS = schemas.GuestInvitationQuery(
    statuses=[InvitationStatus.SENT], archived=False, order_by="expired_at", limit=5
)
HISTORY_LENGTH = 50  # events shown on a detail page, newest first


class NotAMember(Forbidden):
    code = "not_a_member"
    message = "You are not a member of this organization, so you can't open its pages."


def _user() -> SignedInUser:
    return current_user  # type: ignore[return-value]


def authorize_page(org_id: uuid.UUID, minimum_role: Role = Role.MEMBER) -> AccessContext:
    """Apply the one access rule for a page of this organization (Self scenario)."""
    try:
        access = authorize(
            _user().principal, org_id, org_id, {Scenario.SELF}, minimum_role=minimum_role
        )
    except RequesterForbidden:
        raise NotAMember() from None
    session[LAST_ORG_KEY] = str(org_id)
    return access


@bp.get("/")
@login_required
def home():
    """Send the person to the dashboard of their last (or first) organization."""
    memberships = _user().access.memberships
    if not memberships:
        return render_template("auth/no_organization.html")
    last = session.get(LAST_ORG_KEY)
    chosen = next((m for m in memberships if str(m.organization_id) == last), memberships[0])
    return redirect(url_for("pages.dashboard", org_id=chosen.organization_id))


@bp.get("/orgs/<uuid:org_id>/guest-connections")
@login_required
def dashboard(org_id: uuid.UUID):
    """List the organization's guests with the filters, order and page in the URL."""
    authorize_page(org_id)
    counts = connections.count_guest_connections(org_id)
    try:
        query = schemas.GuestConnectionQuery.model_validate(_query_input())
    except ValidationError as error:
        problems = [
            f"{_field_label(problem['loc'][1])}: {problem['msg']}"
            for problem in validation_problems(error, "query")
        ]
        return render_template(
            "connections/dashboard.html",
            org_id=org_id,
            counts=counts,
            query=schemas.GuestConnectionQuery(),
            page=None,
            problems=problems,
            expiry_choices=EXPIRY_CHOICES,
        ), 400
    page = connections.list_guest_connections(org_id, query)
    return render_template(
        "connections/dashboard.html",
        org_id=org_id,
        counts=counts,
        query=query,
        page=page,
        problems=[],
        open_invitations=invitations.list_invitations(org_id, OPEN_INVITATIONS),
        expiry_choices=EXPIRY_CHOICES,
    )


@bp.get("/orgs/<uuid:org_id>/guest-connections.csv")
@login_required
def export_csv(org_id: uuid.UUID):
    """Download every guest of the dashboard's filters, in its order, as CSV (streamed)."""
    authorize_page(org_id)
    try:
        query = schemas.GuestConnectionQuery.model_validate(_query_input())
    except ValidationError as error:
        raise ValidationFailed(validation_problems(error, "query")) from None
    rows = connections.iter_guest_connections(org_id, query)
    filename = f"guest-connections-{utcnow():%Y-%m-%d}.csv"
    return Response(
        stream_with_context(csv_export.guest_connections_csv(rows)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/orgs/<uuid:org_id>/guest-connections/<uuid:guest_org_id>")
@login_required
def detail(org_id: uuid.UUID, guest_org_id: uuid.UUID):
    """Show one guest connection."""
    authorize_page(org_id)
    connection = connections.get_guest_connection(org_id, guest_org_id)
    parent = None
    if connection.parent_organization_id is not None:
        parent = connections.parent_at_host(org_id, connection.parent_organization_id, guest_org_id)
    history = audit.list_events(
        org_id, Subject.guest_connection(guest_org_id), limit=HISTORY_LENGTH
    )
    return render_template(
        "connections/detail.html",
        org_id=org_id,
        connection=connection,
        parent=parent,
        chart=score_chart(analytics.recent_scores(org_id, guest_org_id)),
        history=history,
        api_base=(current_app.config.get("PUBLIC_URL") or request.host_url).rstrip("/"),
    )


@bp.post("/orgs/<uuid:org_id>/guest-connections/<uuid:guest_org_id>/archived")
@login_required
def set_archived(org_id: uuid.UUID, guest_org_id: uuid.UUID):
    """Archive or unarchive a guest connection, then show it again."""
    access = authorize_page(org_id)
    archived = request.form.get("archived") == "true"
    connection = connections.set_archived(
        org_id, guest_org_id, archived, actor=Actor.of(access.principal)
    )
    flash(
        f"{connection.guest_name} is {'archived' if archived else 'no longer archived'}.",
        "success",
    )
    return redirect(url_for("pages.detail", org_id=org_id, guest_org_id=guest_org_id))


# -- reading the URL's query --------------------------------------------------------------------

_FIELD_LABELS = {
    "statuses": "Status",
    "archived": "Archived",
    "search_field": "Search in",
    "search_text": "Search",
    "parent_organization_id": "Parent organization",
    "order_by": "Sort by",
    "order_dir": "Order",
    "limit": "Rows per page",
    "offset": "Page",
}


def _field_label(field: Any) -> str:
    return _FIELD_LABELS.get(str(field), str(field))


def _query_input() -> dict[str, Any]:
    """Return the URL's query as GuestConnectionQuery input; empty form fields mean "not set"."""
    values: dict[str, Any] = {}
    statuses = [value for value in request.args.getlist("statuses") if value]
    if statuses:
        values["statuses"] = statuses
    for name in schemas.GuestConnectionQuery.model_fields:
        if name != "statuses" and request.args.get(name, "").strip():
            values[name] = request.args[name].strip()
    return values


def query_args(query: schemas.GuestConnectionQuery, **changes: Any) -> dict[str, Any]:
    """Return the URL arguments of a list view: the query's non-default values, then changes."""
    defaults = schemas.GuestConnectionQuery()
    args: dict[str, Any] = {}
    for name in schemas.GuestConnectionQuery.model_fields:
        value = getattr(query, name)
        if value != getattr(defaults, name):
            args[name] = value
    args.update(changes)
    return {name: _url_value(value) for name, value in args.items() if value is not None}


def _url_value(value: Any) -> Any:
    if isinstance(value, list):
        return [str(item) for item in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@bp.app_template_global()
def list_url(org_id: uuid.UUID, query: schemas.GuestConnectionQuery, **changes: Any) -> str:
    """Return the dashboard URL for this query with some values changed (None removes one)."""
    return url_for("pages.dashboard", org_id=org_id, **query_args(query, **changes))


@bp.app_template_global()
def export_url(org_id: uuid.UUID, query: schemas.GuestConnectionQuery) -> str:
    """Return the CSV download URL for this query's filters and order (all pages)."""
    args = query_args(query, limit=None, offset=None)
    return url_for("pages.export_csv", org_id=org_id, **args)


@bp.app_template_global()
def sort_url(org_id: uuid.UUID, query: schemas.GuestConnectionQuery, order_by: str) -> str:
    """Return the URL sorting by a column: ascending first, reversed when already sorted by it."""
    ascending = schemas.OrderDirection.ASC
    direction = ascending
    if query.order_by == order_by and query.order_dir == ascending:
        direction = schemas.OrderDirection.DESC
    return list_url(org_id, query, order_by=order_by, order_dir=direction, offset=None)


@bp.app_context_processor
def page_context() -> dict[str, Any]:
    """Give every template the organization of the page (from the URL), when there is one."""
    org_id = (request.view_args or {}).get("org_id")
    # Only a user already loaded for this request: an error page must not query the database
    # (it may be what failed).
    user = g.get("_login_user")
    current_org = None
    if isinstance(org_id, uuid.UUID) and isinstance(user, SignedInUser):
        current_org = user.access.membership(org_id)
    return {"PAGE_SIZES": PAGE_SIZES, "current_org": current_org}
