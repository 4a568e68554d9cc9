"""/v1/guest-connections: a host's guests — list, read, archive, notify, score history."""

from __future__ import annotations

import uuid

from pydantic import Field

from app import schemas
from app.access import AccessContext, Scenario
from app.api import bp
from app.api.endpoints import api_endpoint
from app.schemas import Role, Schema
from app.services import analytics, guest_connections
from app.services.audit import Actor

TAG = "Guest connections"


class GuestConnectionPath(Schema):
    guest_org_id: uuid.UUID = Field(description="The guest organization's id.")


@api_endpoint(
    bp,
    "GET",
    "/guest-connections",
    summary="List guest connections",
    tag=TAG,
    scenarios={Scenario.SELF},
    query=schemas.GuestConnectionQuery,
    response=schemas.GuestConnectionList,
)
def list_guest_connections(access: AccessContext, query: schemas.GuestConnectionQuery) -> bytes:
    """Return one page of the target (host) organization's guest connections, and the total.

    Self only. Filter by status (repeat `statuses`), archived, a case-insensitive substring of
    one field (`%`, `_` and `\\` match literally) and parent organization; sort by one field in
    either direction, with empty values last and ties broken by the guest's id, so pages neither
    overlap nor skip.
    """
    # schemas.GuestConnectionList's JSON, rendered straight from the rows.
    return guest_connections.list_guest_connections_json(access.target_id, query)


@api_endpoint(
    bp,
    "GET",
    "/guest-connections/<guest_org_id>",
    summary="Get a guest connection",
    tag=TAG,
    scenarios={Scenario.SELF},
    path=GuestConnectionPath,
    response=schemas.GuestConnection,
    not_found=True,
)
def get_guest_connection(access: AccessContext, path: GuestConnectionPath) -> bytes:
    """Return one guest connection of the target (host) organization, by the guest's id.

    Self only: the requester and the target are the host. A connection of another host is
    404, exactly like one that does not exist.
    """
    # schemas.GuestConnection's JSON, rendered once per version of the row.
    return guest_connections.get_guest_connection_json(access.target_id, path.guest_org_id)


@api_endpoint(
    bp,
    "PATCH",
    "/guest-connections/<guest_org_id>",
    summary="Archive or unarchive a guest connection",
    tag=TAG,
    scenarios={Scenario.SELF},
    path=GuestConnectionPath,
    body=schemas.GuestConnectionUpdate,
    response=schemas.GuestConnection,
    not_found=True,
    minimum_role=Role.ADMIN,
)
def update_guest_connection(
    access: AccessContext, path: GuestConnectionPath, body: schemas.GuestConnectionUpdate
) -> schemas.GuestConnection:
    """Archive (`{"archived": true}`) or unarchive a guest connection; return the connection.

    Archiving sets `archived_at`, unarchiving clears it; both move `updated_at` and are recorded
    in the audit trail. Repeating a request changes nothing. Self only.
    """
    return guest_connections.set_archived(
        access.target_id, path.guest_org_id, body.archived, actor=Actor.of(access.principal)
    )


@api_endpoint(
    bp,
    "POST",
    "/guest-connections/<guest_org_id>/disconnection-notification",
    summary="Notify a disconnected guest",
    tag=TAG,
    scenarios={Scenario.SELF},
    path=GuestConnectionPath,
    response=schemas.DisconnectionNotification,
    status=202,
    not_found=True,
    conflict=True,
    minimum_role=Role.ADMIN,
)
def notify_disconnected_guest(
    access: AccessContext, path: GuestConnectionPath
) -> schemas.DisconnectionNotification:
    """Tell a guest that disconnected that the target (host) organization noticed.

    No body. Queues an e-mail to the guest (its organization's e-mail, else its owner's) in
    the outbox and answers 202 with it (ours); `sent_at` stays null until a sender delivers
    it. Each call queues one message. 409 `guest_connection_not_disconnected` (the guest is
    connected), `guest_email_unknown` (nowhere to write).
    """
    return guest_connections.notify_disconnection(
        access.target_id, path.guest_org_id, actor=Actor.of(access.principal)
    )


@api_endpoint(
    bp,
    "GET",
    "/guest-connections/<guest_org_id>/score-history",
    summary="Score history of a guest connection (ours)",
    tag=TAG,
    scenarios={Scenario.SELF},
    path=GuestConnectionPath,
    query=schemas.Page,
    response=schemas.ScoreHistory,
    not_found=True,
)
def get_score_history(
    access: AccessContext, path: GuestConnectionPath, query: schemas.Page
) -> schemas.ScoreHistory:
    """(ours) Return the values the guest's total score took on this connection, newest first."""
    return analytics.score_history(access.target_id, path.guest_org_id, query)


@api_endpoint(
    bp,
    "POST",
    "/guest-connections/bulk",
    summary="Archive, unarchive or ask analytics of many guests (ours)",
    tag=TAG,
    scenarios={Scenario.SELF},
    body=schemas.GuestConnectionBulk,
    response=schemas.GuestConnectionBulkResult,
    minimum_role=Role.ADMIN,
)
def bulk_change_guest_connections(
    access: AccessContext, body: schemas.GuestConnectionBulk
) -> schemas.GuestConnectionBulkResult:
    """(ours) Do one action to up to 1000 guests at once, in one transaction; answer per id.

    `action` is `archive`, `unarchive` or `request_analytics`. Each guest changed gets its own
    audit event, as if done one by one; a guest left as it was is `skipped` with a `code`:
    `guest_connection_not_found` (not a guest of the target), `already_archived`,
    `not_archived`, `guest_connection_disconnected`, `analytics_request_already_active`.
    A repeated id counts once. Self only.
    """
    return guest_connections.bulk_change(
        access.target_id,
        body.action,
        body.guest_organization_ids,
        actor=Actor.of(access.principal),
    )
