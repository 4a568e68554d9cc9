"""/v1/guest-connections/{guest_org_id}/disconnection-notification: the host tells a guest."""

from __future__ import annotations

from app import host_connections, schemas
from app.access import AccessContext, Scenario
from app.api import bp
from app.api.endpoints import api_endpoint
from app.api.guest_connections import GuestConnectionPath
from app.audit import Actor


@api_endpoint(
    bp,
    "POST",
    "/guest-connections/<guest_org_id>/disconnection-notification",
    summary="Notify a disconnected guest",
    tag="Guest connections",
    scenarios={Scenario.SELF},
    path=GuestConnectionPath,
    response=schemas.DisconnectionNotification,
    status=202,
    not_found=True,
    conflict=True,
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
    return host_connections.notify_disconnection(
        access.target_id, path.guest_org_id, actor=Actor.of(access.principal)
    )
