"""A host's guests as pages: the dashboard (list), the CSV export, and one guest's detail page
with everything the host can do there (archive, request analytics, notify a guest that left).

All state is in the URL, so every view can be bookmarked and shared.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from pydantic import ValidationError
from werkzeug.datastructures import MultiDict

from app import schemas
from app.access import AccessContext
from app.errors import AppError, ValidationFailed
from app.http import public_base_url
from app.schemas import InvitationStatus, Role
from app.services import (
    analytics,
    connection_page,
    guest_connections,
    guest_invitations,
    saved_filters,
)
from app.web import csv_export, rendered_pages
from app.web.org_pages import (
    actor,
    flash_refusal,
    org_page,
    show_once,
    signed_in_user,
    take_shown_once,
)
from app.web.score_chart import score_chart

bp = Blueprint("guest_connections", __name__)

# The dashboard's invitations: those still waiting for an answer, soonest to expire first.
OPEN_INVITATIONS = schemas.GuestInvitationQuery(
    statuses=[InvitationStatus.SENT], archived=False, order_by="expired_at", limit=5
)
HISTORY_LENGTH = 50  # events shown on a detail page, newest first
SCORES_SHOWN = 100  # scores in a detail page's chart and table, newest first
# The list's defaults, built once: every page's render (the context processor below) and every
# list URL compare against it, and validating a new model each time was a page's second-largest
# pydantic cost. Read only: never change its fields.
DEFAULT_QUERY = schemas.GuestConnectionQuery()


@bp.get("/orgs/<uuid:org_id>/guest-connections")
@org_page(read_only=True)
def dashboard(access: AccessContext, org_id: uuid.UUID):
    """List the organization's guests with the filters, order and page in the URL."""
    counts = guest_connections.count_guest_connections(org_id)
    saved = saved_filters.list_saved_filters(signed_in_user().access.id, org_id)
    try:
        query = schemas.GuestConnectionQuery.model_validate(_query_input())
    except ValidationError as error:
        problems = [
            f"{_field_label(problem['loc'][1])}: {problem['msg']}"
            for problem in ValidationFailed.from_pydantic(error, "query").errors
        ]
        return render_template(
            "guest_connections/dashboard.html",
            org_id=org_id,
            counts=counts,
            query=schemas.GuestConnectionQuery(),
            page=None,
            problems=problems,
            saved_filters=saved,
        ), 400
    page = guest_connections.list_guest_connections(org_id, query)
    return render_template(
        "guest_connections/dashboard.html",
        org_id=org_id,
        counts=counts,
        query=query,
        page=page,
        problems=[],
        open_invitations=guest_invitations.list_invitations(org_id, OPEN_INVITATIONS),
        saved_filters=saved,
    )


@bp.get("/orgs/<uuid:org_id>/guest-connections.csv")
@org_page()
def export_csv(access: AccessContext, org_id: uuid.UUID):
    """Download every guest of the dashboard's filters, in its order, as CSV (streamed)."""
    try:
        query = schemas.GuestConnectionQuery.model_validate(_query_input())
    except ValidationError as error:
        raise ValidationFailed.from_pydantic(error, "query") from None
    rows = guest_connections.iter_guest_connections(org_id, query)
    filename = f"guest-connections-{datetime.now(UTC):%Y-%m-%d}.csv"
    return Response(
        stream_with_context(csv_export.guest_connections_csv(rows)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/orgs/<uuid:org_id>/guest-connections/<uuid:guest_org_id>")
@org_page(read_only=True)
def detail(access: AccessContext, org_id: uuid.UUID, guest_org_id: uuid.UUID):
    """Show one guest connection."""
    # The connection, its history and its scores in one statement.
    page = connection_page.read_connection_page(
        org_id, guest_org_id, events_limit=HISTORY_LENGTH, scores_limit=SCORES_SHOWN
    )
    connection, history, scores = page.connection, page.history, page.scores
    parent = None
    if connection.parent_organization_id is not None:
        parent = guest_connections.parent_at_host(
            org_id, connection.parent_organization_id, guest_org_id
        )

    def context() -> dict[str, Any]:
        return {
            "org_id": org_id,
            "connection": connection,
            "parent": parent,
            "chart": score_chart(scores),
            "scores": scores,
            "compact_chart": score_chart(scores, compact=True),
            "history": history,
            "api_base": public_base_url(),
        }

    # Everything the page shows comes from these two reads (and the signed-in person).
    return rendered_pages.render_remembered(
        "guest_connections/detail.html", (org_id, page.rows, parent), context
    )


@bp.post("/orgs/<uuid:org_id>/guest-connections/<uuid:guest_org_id>/archived")
@org_page(Role.ADMIN)
def set_archived(access: AccessContext, org_id: uuid.UUID, guest_org_id: uuid.UUID):
    """Archive or unarchive a guest connection, then show it again."""
    archived = request.form.get("archived") == "true"
    connection = guest_connections.set_archived(org_id, guest_org_id, archived, actor=actor())
    flash(
        f"{connection.guest_name} is {'archived' if archived else 'no longer archived'}.",
        "success",
    )
    return _to_detail(org_id, guest_org_id)


@bp.post("/orgs/<uuid:org_id>/guest-connections/<uuid:guest_org_id>/analytics-request")
@org_page(Role.ADMIN)
def request_analytics(access: AccessContext, org_id: uuid.UUID, guest_org_id: uuid.UUID):
    """Ask a connected guest to run analytics."""
    try:
        analytics.request_analytics(org_id, guest_org_id, actor=actor())
        flash("Analytics requested: the guest sees the request on its list of hosts.", "success")
    except AppError as error:
        flash_refusal(error)
    return _to_detail(org_id, guest_org_id)


@bp.post("/orgs/<uuid:org_id>/guest-connections/<uuid:guest_org_id>/disconnection-notification")
@org_page(Role.ADMIN)
def notify_disconnection(access: AccessContext, org_id: uuid.UUID, guest_org_id: uuid.UUID):
    """Tell a guest that disconnected that the host noticed (queued as an e-mail)."""
    try:
        message = guest_connections.notify_disconnection(org_id, guest_org_id, actor=actor())
        flash(f"A message to {message.recipient_email} is on its way.", "success")
    except AppError as error:
        flash_refusal(error)
    return _to_detail(org_id, guest_org_id)


@bp.post("/orgs/<uuid:org_id>/guest-connections/saved-filters")
@org_page()
def save_filter(access: AccessContext, org_id: uuid.UUID):
    """Save the dashboard's current filters under a name, as a tab of the person's own."""
    try:
        query = schemas.GuestConnectionQuery.model_validate(
            _query_input(
                MultiDict(parse_qsl(request.form.get("query", ""), keep_blank_values=True))
            )
        )
        saved = saved_filters.save_filter(
            signed_in_user().access.id, org_id, request.form.get("name", ""), query, actor=actor()
        )
    except ValidationError:
        abort(400)  # the dashboard only offers to save filters it could show
    except AppError as error:
        flash_refusal(error)
        return redirect(url_for("guest_connections.dashboard", org_id=org_id))
    flash(f"Saved as “{saved.name}”: it is a tab above your guests.", "success")
    return redirect(list_url(org_id, saved.query), 303)


@bp.post("/orgs/<uuid:org_id>/guest-connections/saved-filters/<uuid:filter_id>/delete")
@org_page()
def delete_saved_filter(access: AccessContext, org_id: uuid.UUID, filter_id: uuid.UUID):
    """Delete one of the person's saved filters."""
    name = saved_filters.delete_saved_filter(
        signed_in_user().access.id, org_id, filter_id, actor=actor()
    )
    flash(f"The saved filter “{name}” is deleted.", "success")
    return redirect(url_for("guest_connections.dashboard", org_id=org_id), 303)


# -- many guests at once: the dashboard's selection, a confirmation, the result -----------------

BULK_LABELS = {
    schemas.GuestConnectionBulkAction.ARCHIVE: "Archive",
    schemas.GuestConnectionBulkAction.UNARCHIVE: "Unarchive",
    schemas.GuestConnectionBulkAction.REQUEST_ANALYTICS: "Request analytics from",
}
SKIPPED_NAMES_SHOWN = 5  # per reason, on the result page (the rest are counted)


@bp.get("/orgs/<uuid:org_id>/guest-connections/bulk")
@org_page(Role.ADMIN)
def bulk_confirm(access: AccessContext, org_id: uuid.UUID):
    """Ask for confirmation of an action on the selected guests (or all matching the filter)."""
    back = url_for("guest_connections.dashboard", org_id=org_id) + _query_suffix(
        request.args.get("query", "")
    )
    try:
        action = schemas.GuestConnectionBulkAction(request.args.get("action", ""))
    except ValueError:
        flash("Choose what to do with the selected guests.", "error")
        return redirect(back)
    all_matching = request.args.get("all_matching") == "true"
    try:
        preview = guest_connections.preview_bulk(
            org_id,
            guest_ids=None
            if all_matching
            else _guest_ids(request.args.getlist("guest_organization_ids")),
            query=_saved_query(request.args.get("query", "")) if all_matching else None,
        )
    except AppError as error:
        flash(error.message, "error")
        return redirect(back)
    if preview.count == 0:
        flash("Select at least one guest (tick its box), or all that match the filters.", "error")
        return redirect(back)
    return render_template(
        "guest_connections/bulk_confirm.html",
        org_id=org_id,
        action=action,
        label=BULK_LABELS[action],
        preview=preview,
        all_matching=all_matching,
        query=request.args.get("query", ""),
        back=back,
    )


@bp.post("/orgs/<uuid:org_id>/guest-connections/bulk")
@org_page(Role.ADMIN)
def bulk_change(access: AccessContext, org_id: uuid.UUID):
    """Do the confirmed action on every guest at once, then show what was done and skipped."""
    back = url_for("guest_connections.dashboard", org_id=org_id) + _query_suffix(
        request.form.get("query", "")
    )
    try:
        action = schemas.GuestConnectionBulkAction(request.form.get("action", ""))
    except ValueError:
        abort(400)
    all_matching = request.form.get("all_matching") == "true"
    try:
        result = guest_connections.bulk_change(
            org_id,
            action,
            None if all_matching else _guest_ids(request.form.getlist("guest_organization_ids")),
            query=_saved_query(request.form.get("query", "")) if all_matching else None,
            actor=actor(),
        )
    except AppError as error:
        flash_refusal(error)
        return redirect(back)
    show_once(org_id, "bulk", {**_bulk_summary(result), "back": back})
    return redirect(url_for("guest_connections.bulk_result", org_id=org_id), 303)


@bp.get("/orgs/<uuid:org_id>/guest-connections/bulk/result")
@org_page(Role.ADMIN)
def bulk_result(access: AccessContext, org_id: uuid.UUID):
    """Show what the last bulk action did: how many changed, which were skipped and why."""
    summary = take_shown_once(org_id, "bulk")
    if summary is None:
        return redirect(url_for("guest_connections.dashboard", org_id=org_id))
    return render_template("guest_connections/bulk_result.html", org_id=org_id, summary=summary)


def _bulk_summary(result: schemas.GuestConnectionBulkResult) -> dict[str, Any]:
    """Return the result as the page shows it, small enough for the session: the skipped ones
    grouped by reason, a few names each."""
    groups: dict[str, dict[str, Any]] = {}
    for item in result.items:
        if item.outcome == schemas.GuestConnectionBulkOutcome.SKIPPED:
            group = groups.setdefault(
                item.code or "", {"message": item.message, "count": 0, "names": []}
            )
            group["count"] += 1
            if len(group["names"]) < SKIPPED_NAMES_SHOWN:
                group["names"].append(item.guest_name or str(item.guest_organization_id))
    return {
        "label": BULK_LABELS[result.action],
        "action": result.action.value,
        "done": result.done,
        "skipped": result.skipped,
        "groups": list(groups.values()),
    }


def _guest_ids(values: list[str]) -> list[uuid.UUID]:
    try:
        return [uuid.UUID(value) for value in values if value]
    except ValueError:
        abort(400)


def _saved_query(query_string: str) -> schemas.GuestConnectionQuery:
    """Return the dashboard query a form carries (its URL's query string)."""
    try:
        return schemas.GuestConnectionQuery.model_validate(
            _query_input(MultiDict(parse_qsl(query_string, keep_blank_values=True)))
        )
    except ValidationError:
        abort(400)  # the dashboard only offers what it could show


def _query_suffix(query_string: str) -> str:
    return f"?{query_string}" if query_string else ""


def _to_detail(org_id: uuid.UUID, guest_org_id: uuid.UUID):
    return redirect(url_for("guest_connections.detail", org_id=org_id, guest_org_id=guest_org_id))


# -- reading and writing the URL's query --------------------------------------------------------

_FIELD_LABELS = {
    "statuses": "Status",
    "archived": "Archived",
    "search_field": "Search in",
    "search_text": "Search",
    "parent_organization_id": "Parent organization",
    "min_score": "Lowest score",
    "max_score": "Highest score",
    "has_open_action": "Open action",
    "score_older_than_days": "Score older than (days)",
    "order_by": "Sort by",
    "order_dir": "Order",
    "limit": "Rows per page",
    "offset": "Page",
}


def _field_label(field: Any) -> str:
    return _FIELD_LABELS.get(str(field), str(field))


def _query_input(args: MultiDict[str, str] | None = None) -> dict[str, Any]:
    """Return the URL query (or args) as GuestConnectionQuery input; empty fields are "not set"."""
    args = request.args if args is None else args
    values: dict[str, Any] = {}
    statuses = [value for value in args.getlist("statuses") if value]
    if statuses:
        values["statuses"] = statuses
    for name in schemas.GuestConnectionQuery.model_fields:
        if name != "statuses" and args.get(name, "").strip():
            values[name] = args[name].strip()
    return values


def query_args(query: schemas.GuestConnectionQuery, **changes: Any) -> dict[str, Any]:
    """Return the URL arguments of a list view: the query's non-default values, then changes."""
    defaults = DEFAULT_QUERY
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
    return url_for("guest_connections.dashboard", org_id=org_id, **query_args(query, **changes))


@bp.app_context_processor
def counter_filters() -> dict[str, Any]:
    """Give the dashboard's counters the values of their filters."""
    return {
        "STALE_SCORE_DAYS": guest_connections.STALE_SCORE_DAYS,
        "LOW_SCORE_MAX": guest_connections.LOW_SCORE_MAX,
        "default_query": DEFAULT_QUERY,
    }


@bp.app_template_global()
def same_filters(query: schemas.GuestConnectionQuery, other: schemas.GuestConnectionQuery) -> bool:
    """Tell whether two queries show the same guests in the same order (pages aside)."""
    return query_args(query, offset=None) == query_args(other, offset=None)


@bp.app_template_global()
def active_filter_count(query: schemas.GuestConnectionQuery) -> int:
    """Return how many filters the query sets (its order and page aside)."""
    return len(query_args(query, order_by=None, order_dir=None, limit=None, offset=None))


@bp.app_template_global()
def export_url(org_id: uuid.UUID, query: schemas.GuestConnectionQuery) -> str:
    """Return the CSV download URL for this query's filters and order (all pages)."""
    args = query_args(query, limit=None, offset=None)
    return url_for("guest_connections.export_csv", org_id=org_id, **args)


@bp.app_template_global()
def sort_url(org_id: uuid.UUID, query: schemas.GuestConnectionQuery, order_by: str) -> str:
    """Return the URL sorting by a column: ascending first, reversed when already sorted by it."""
    ascending = schemas.OrderDirection.ASC
    direction = ascending
    if query.order_by == order_by and query.order_dir == ascending:
        direction = schemas.OrderDirection.DESC
    return list_url(org_id, query, order_by=order_by, order_dir=direction, offset=None)
