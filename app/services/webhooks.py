"""Webhooks, following the Standard Webhooks specification (standardwebhooks.com).

An organization's owner registers endpoints (a URL and the event types it wants). A change
that an event reports writes one delivery per subscribed endpoint, in the same transaction
(emit()); the worker (app/services/outbox.py) sends it with the headers `webhook-id`,
`webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`,
and retries it with the same webhook-id until it works or its last attempt fails.

A target must not reach into our own network (SSRF): its host is resolved, and every address
must be public - not loopback, private, link-local, multicast, reserved or unspecified. The
check runs at registration and again at every delivery, and the request goes to the address
that was checked (no second lookup a DNS rebinding could change). Production accepts only
https. WEBHOOK_ALLOW_PRIVATE_TARGETS=true lifts the address rule (development and tests).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import ipaddress
import json
import secrets
import socket
import ssl
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from pydantic import BaseModel
from sqlalchemy import func

from app import schemas
from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import WebhookDelivery, WebhookEndpoint, utcnow
from app.schemas import DeliveryStatus, WebhookEventType, format_timestamp
from app.services import audit
from app.services.audit import Actor, AuditAction, Subject
from app.services.organizations import get_organization

TIMEOUT_SECONDS = 10
RESPONSE_KEPT_BYTES = 1024
DISABLE_AFTER = timedelta(hours=24)  # of nothing but failures
# Every event type an endpoint receives by default; ping only on demand.
ALL_EVENTS = [event for event in WebhookEventType if event != WebhookEventType.PING]


class WebhookEndpointNotFound(NotFound):
    code = "webhook_endpoint_not_found"
    message = "This organization has no webhook endpoint with that id."


class TargetRefused(Exception):
    """The URL may not receive webhooks; the message says why."""


# -- the endpoints -------------------------------------------------------------------------------


def create_endpoint(
    organization_id: uuid.UUID, body: schemas.WebhookEndpointCreate, *, actor: Actor
) -> schemas.CreatedWebhookEndpoint:
    """Register an endpoint; return it with its signing secret (shown only now)."""
    get_organization(organization_id)
    try:
        check_target(body.url)
    except TargetRefused as refusal:
        raise ValidationFailed.at(["body", "url"], str(refusal)) from None
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    events = [event.value for event in body.events] if body.events else ALL_EVENTS
    endpoint = WebhookEndpoint(
        organization_id=organization_id,
        url=body.url,
        events=sorted(set(events), key=[e.value for e in WebhookEventType].index),
        secret_encrypted=_fernet().encrypt(secret.encode()).decode(),
        enabled=True,
        created_at=utcnow(),
    )
    db.session.add(endpoint)
    db.session.flush()
    audit.record(
        organization_id,
        actor,
        AuditAction.WEBHOOK_ENDPOINT_CREATED,
        Subject.webhook_endpoint(endpoint.id),
        {"url": (None, endpoint.url), "events": (None, ", ".join(endpoint.events))},
    )
    db.session.commit()
    return schemas.CreatedWebhookEndpoint(**_endpoint(endpoint).model_dump(), secret=secret)


def list_endpoints(organization_id: uuid.UUID) -> schemas.WebhookEndpointList:
    """Return the organization's endpoints, oldest first."""
    endpoints = db.session.scalars(
        db.select(WebhookEndpoint)
        .where(WebhookEndpoint.organization_id == organization_id)
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    ).all()
    return schemas.WebhookEndpointList(
        items=[_endpoint(endpoint) for endpoint in endpoints], total_items=len(endpoints)
    )


def get_endpoint(organization_id: uuid.UUID, endpoint_id: uuid.UUID) -> schemas.WebhookEndpoint:
    """Return one of the organization's endpoints, or raise WebhookEndpointNotFound."""
    return _endpoint(_own_endpoint(organization_id, endpoint_id))


def delete_endpoint(organization_id: uuid.UUID, endpoint_id: uuid.UUID, *, actor: Actor) -> None:
    """Remove an endpoint and its deliveries (those not yet sent are dropped)."""
    endpoint = _own_endpoint(organization_id, endpoint_id)
    audit.record(
        organization_id,
        actor,
        AuditAction.WEBHOOK_ENDPOINT_DELETED,
        Subject.webhook_endpoint(endpoint.id),
        {"url": (endpoint.url, None)},
    )
    db.session.execute(db.delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    db.session.delete(endpoint)
    db.session.commit()


def send_test(
    organization_id: uuid.UUID, endpoint_id: uuid.UUID, *, actor: Actor
) -> schemas.WebhookDelivery:
    """Queue a `ping` event for one endpoint (enabling it again); return the delivery."""
    endpoint = _own_endpoint(organization_id, endpoint_id)
    now = utcnow()
    changes = {}
    if not endpoint.enabled:
        changes["enabled"] = (False, True)
        endpoint.enabled, endpoint.disabled_reason, endpoint.failing_since = True, None, None
    ping = {"organization_id": str(organization_id), "endpoint_id": str(endpoint.id)}
    delivery = _queue(endpoint, WebhookEventType.PING, _body(WebhookEventType.PING, now, ping), now)
    audit.record(
        organization_id,
        actor,
        AuditAction.WEBHOOK_ENDPOINT_TESTED,
        Subject.webhook_endpoint(endpoint.id),
        changes,
    )
    db.session.commit()
    return _delivery(delivery)


def list_deliveries(
    organization_id: uuid.UUID, endpoint_id: uuid.UUID, query: schemas.Page
) -> schemas.WebhookDeliveryList:
    """Return one page of an endpoint's deliveries, newest first, and how many there are."""
    endpoint = _own_endpoint(organization_id, endpoint_id)
    total = db.session.scalar(
        db.select(func.count())
        .select_from(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id)
    )
    deliveries = db.session.scalars(
        db.select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        .limit(query.limit)
        .offset(query.offset)
    ).all()
    return schemas.WebhookDeliveryList(
        items=[_delivery(delivery) for delivery in deliveries], total_items=total or 0
    )


def _own_endpoint(organization_id: uuid.UUID, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.organization_id != organization_id:
        raise WebhookEndpointNotFound(loc=["path", "endpoint_id"])
    return endpoint


def _endpoint(endpoint: WebhookEndpoint) -> schemas.WebhookEndpoint:
    return schemas.WebhookEndpoint(
        id=endpoint.id,
        url=endpoint.url,
        events=endpoint.events,
        enabled=endpoint.enabled,
        disabled_reason=endpoint.disabled_reason,
        failing_since=endpoint.failing_since,
        created_at=endpoint.created_at,
    )


def _delivery(delivery: WebhookDelivery) -> schemas.WebhookDelivery:
    return schemas.WebhookDelivery(
        id=delivery.id,
        message_id=delivery.message_id,
        event_type=delivery.event_type,
        status=delivery.status,
        attempts=delivery.attempts,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        next_attempt_at=(
            delivery.next_attempt_at if delivery.status == DeliveryStatus.PENDING else None
        ),
        created_at=delivery.created_at,
    )


# -- events ----------------------------------------------------------------------------------------


def emit(organization_id: uuid.UUID, event: WebhookEventType, data: Callable[[], BaseModel]) -> int:
    """Queue the event for the organization's endpoints that want it (no commit); return how many.

    data builds the resource as the API shows it; it is called only if an endpoint wants the
    event. The caller's commit saves the deliveries with the change they report.
    """
    endpoints = [
        endpoint
        for endpoint in db.session.scalars(
            db.select(WebhookEndpoint).where(
                WebhookEndpoint.organization_id == organization_id,
                WebhookEndpoint.enabled.is_(True),
            )
        )
        if event.value in endpoint.events
    ]
    if not endpoints:
        return 0
    now = utcnow()
    body = _body(event, now, data().model_dump(mode="json"))
    for endpoint in endpoints:
        _queue(endpoint, event, body, now)
    return len(endpoints)


def _body(event: WebhookEventType, now: datetime, data: dict) -> str:
    return json.dumps(
        {"type": event.value, "timestamp": format_timestamp(now), "data": data},
        separators=(",", ":"),
    )


def _queue(
    endpoint: WebhookEndpoint, event: WebhookEventType, body: str, now: datetime
) -> WebhookDelivery:
    delivery = WebhookDelivery(
        endpoint_id=endpoint.id,
        message_id=f"msg_{uuid.uuid4().hex}",
        event_type=event.value,
        payload=body,
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    db.session.add(delivery)
    return delivery


# -- delivery (called by the worker) ---------------------------------------------------------------


def send(delivery: WebhookDelivery) -> str | None:
    """Make one attempt to deliver; record the answer on it; return the problem, or None."""
    endpoint = db.session.get(WebhookEndpoint, delivery.endpoint_id)
    if endpoint is None or not endpoint.enabled:
        return "The endpoint is disabled."
    url, body, message_id = endpoint.url, delivery.payload, delivery.message_id
    secret = _fernet().decrypt(endpoint.secret_encrypted.encode()).decode()
    db.session.commit()  # no transaction stays open while we wait for the receiver
    try:
        target = check_target(url)
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "guest-connections-webhooks",
            "webhook-id": message_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": sign(secret, message_id, timestamp, body),
        }
        status, answer = _post(target, headers, body.encode())
    except TargetRefused as refusal:
        return str(refusal)
    except TimeoutError:
        return f"No answer within {TIMEOUT_SECONDS} s."
    except (OSError, http.client.HTTPException) as error:
        return f"Connection failed: {type(error).__name__}: {error}"
    delivery.last_status_code = status
    delivery.last_response = answer.decode("utf-8", "replace")
    return None if 200 <= status < 300 else f"The receiver answered HTTP {status}."


def record_endpoint_health(delivery: WebhookDelivery, worked: bool, now: datetime) -> None:
    """Note whether the endpoint works; disable it after 24 hours of failures (no commit)."""
    endpoint = db.session.get(WebhookEndpoint, delivery.endpoint_id)
    if endpoint is None or not endpoint.enabled:
        return
    if worked:
        endpoint.failing_since = None
    elif endpoint.failing_since is None:
        endpoint.failing_since = now
    elif now - endpoint.failing_since >= DISABLE_AFTER:
        endpoint.enabled = False
        endpoint.disabled_reason = (
            f"Disabled on {format_timestamp(now)}: every delivery failed for 24 hours "
            f"(last: {delivery.last_error or 'no answer'}). Send a test event to enable it again."
        )[:300]


def sign(secret: str, message_id: str, timestamp: str, body: str) -> str:
    """Return the Standard Webhooks signature header value for one attempt."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{message_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def _fernet() -> Fernet:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"guest-connections webhook secrets"
    ).derive(current_app.config["SECRET_KEY"].encode())
    return Fernet(base64.urlsafe_b64encode(derived))


# -- the SSRF guard --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked address the request goes to


def check_target(url: str) -> Target:
    """Return where to send, after resolving the host; raise TargetRefused if not allowed."""
    parts = urlsplit(url)
    production = current_app.config["APP_ENV"] == "production"
    allowed_schemes = ("https",) if production else ("https", "http")
    if parts.scheme not in allowed_schemes:
        raise TargetRefused(f"The URL must start with {' or '.join(allowed_schemes)}://.")
    if not parts.hostname:
        raise TargetRefused("The URL has no host.")
    if parts.username or parts.password:
        raise TargetRefused("The URL must not carry a user name or password.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetRefused("The URL's port is not a number from 1 to 65535.") from None
    try:
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise TargetRefused(f"The host {parts.hostname} cannot be resolved.") from None
    addresses = [info[4][0] for info in found]
    if not _allow_private():
        for address in addresses:
            if not _public(address):
                raise TargetRefused(
                    f"The host {parts.hostname} resolves to {address}, which is not a public "
                    "address (loopback, private, link-local, multicast or unspecified)."
                )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port, path, addresses[0])


def _allow_private() -> bool:
    value = str(current_app.config.get("WEBHOOK_ALLOW_PRIVATE_TARGETS", "false"))
    return value.lower() in ("1", "true", "yes")


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_unspecified
        or ip.is_reserved
    )


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address, whatever the host name resolves to by now."""

    def __init__(self, target: Target) -> None:
        super().__init__(target.host, target.port, timeout=TIMEOUT_SECONDS)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target) -> None:
        super().__init__(
            target.host,
            target.port,
            timeout=TIMEOUT_SECONDS,
            context=ssl.create_default_context(),
        )
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _post(target: Target, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
    """POST the body; return the status and at most 1 KB of the answer (no redirects)."""
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = kind(target)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read(RESPONSE_KEPT_BYTES)
    finally:
        connection.close()
