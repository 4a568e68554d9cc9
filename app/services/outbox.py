"""The outbox: everything that leaves the building, written with the change it reports.

Two kinds wait here: e-mails (outbox_messages) and webhook deliveries (webhook_deliveries).
`flask worker` delivers both. Each message is tried on its own: the worker claims one due
message (FOR UPDATE SKIP LOCKED, so several workers on one PostgreSQL never take the same
one), moves its next attempt a lease ahead and commits, sends it outside any transaction,
then records the outcome. A failure is retried with backoff (RETRY_DELAYS, with jitter);
after the last attempt the message is set aside as failed, and it never holds up the others.
A worker that dies mid-send leaves its message to be retried once the lease has passed.

Writing a row instead of sending at once keeps a slow or absent server out of the request,
and nothing goes out for a change that was rolled back.
"""

from __future__ import annotations

import base64
import logging
import random
import smtplib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import func

from app.errors import AppError, Conflict, NotFound
from app.extensions import db
from app.models import (
    DeliveryStatus,
    OutboxMessage,
    OutboxStatus,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)
from app.services import audit, webhooks
from app.services.audit import Actor, AuditAction, Subject

log = logging.getLogger(__name__)

# The waits after the 1st, 2nd, ... failed attempt: 7 attempts over about 18 hours.
RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
JITTER = 0.1  # each wait is stretched or shrunk by up to 10 %, so retries do not come in herds
# How long a claimed message is left alone: longer than any send may take (SMTP 30 s).
LEASE = timedelta(minutes=2)
SMTP_TIMEOUT_SECONDS = 30


class SenderOff(AppError):
    status = 409
    code = "outbox_sender_off"
    type = "conflict"
    message = "SMTP_HOST is not set: the outbox sender is off."


class MessageNotFound(NotFound):
    code = "outbox_message_not_found"
    message = "There is no such outbox message."


class MessageNotFailed(Conflict):
    code = "outbox_message_not_failed"
    message = "Only a failed message can be retried."


def retry_delay(attempts: int) -> timedelta:
    """Return the wait after the given number of failed attempts, with jitter."""
    delay = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
    return delay * random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311 - not for secrets


def sender_on() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def waiting_count() -> int:
    """Return how many e-mails wait to be sent."""
    return db.session.scalar(
        db.select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING)
    )


@dataclass
class Delivered:
    """What one pass of the worker did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0

    def total(self) -> int:
        return self.sent + self.retried + self.failed

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


def deliver_due(
    *,
    now: Callable[[], datetime] = utcnow,
    should_stop: Callable[[], bool] = lambda: False,
    emails: bool = True,
    webhook_deliveries: bool = True,
    limit: int | None = None,
) -> Delivered:
    """Deliver every message due now, one at a time, until none is due; return the counts.

    E-mails wait while SMTP_HOST is not set. A message that fails is rescheduled or set
    aside; no failure of one message stops the others.
    """
    done = Delivered()
    kinds: list[Callable[[datetime], str | None]] = []
    if emails and sender_on():
        kinds.append(_deliver_one_email)
    if webhook_deliveries:
        kinds.append(_deliver_one_webhook)
    while kinds and not should_stop():
        progressed = False
        for deliver in kinds:
            if limit is not None and done.total() >= limit:
                return done
            outcome = deliver(now())
            if outcome is not None:
                done.count(outcome)
                progressed = True
        if not progressed:
            break
    return done


def send_pending(limit: int = 100) -> Delivered:
    """Try up to `limit` e-mails due now (`flask outbox send`); raise SenderOff if no SMTP_HOST."""
    if not sender_on():
        raise SenderOff(f"SMTP_HOST is not set: {waiting_count()} message(s) wait in the outbox.")
    return deliver_due(webhook_deliveries=False, limit=limit)


def _claim(model: type, pending: str, now: datetime):
    """Take one due message for this worker (committed), or return None."""
    row = db.session.scalar(
        db.select(model)
        .where(model.status == pending, model.next_attempt_at <= now)
        .order_by(model.next_attempt_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if row is None:
        db.session.commit()
        return None
    row.attempts += 1
    row.next_attempt_at = now + LEASE
    db.session.commit()
    return row


def _outcome(row, error: str | None, now: datetime, failed_status, done_status) -> str:
    """Record the attempt's outcome on the row (no commit); return sent, retried or failed."""
    if error is None:
        row.status = done_status
        row.last_error = None
        return "sent"
    row.last_error = error[:1000]
    if row.attempts >= MAX_ATTEMPTS:
        row.status = failed_status
        return "failed"
    row.next_attempt_at = now + retry_delay(row.attempts)
    return "retried"


def _deliver_one_email(now: datetime) -> str | None:
    message = _claim(OutboxMessage, OutboxStatus.PENDING, now)
    if message is None:
        return None
    try:
        _send_email(message)
        error = None
    except Exception as problem:  # noqa: BLE001 - any failure is this message's alone
        error = f"{type(problem).__name__}: {problem}"
        log.warning(
            "outbox message %s not sent (attempt %s): %s", message.id, message.attempts, error
        )
    outcome = _outcome(message, error, now, OutboxStatus.FAILED, OutboxStatus.SENT)
    if error is None:
        message.sent_at = utcnow()
        message.secret_encrypted = None  # delivered: nothing here opens anything any more
    db.session.commit()
    return outcome


def _deliver_one_webhook(now: datetime) -> str | None:
    delivery = _claim(WebhookDelivery, DeliveryStatus.PENDING, now)
    if delivery is None:
        return None
    try:
        error = webhooks.send(delivery)  # the attempt's problem, or None
    except Exception as problem:  # noqa: BLE001 - e.g. a secret SECRET_KEY no longer opens
        db.session.rollback()
        error = f"{type(problem).__name__}: {problem}"
    if error is not None:
        log.warning(
            "webhook delivery %s failed (attempt %s): %s", delivery.id, delivery.attempts, error
        )
    # Times count from the attempt's start (`now`, which tests may move ahead).
    outcome = _outcome(delivery, error, now, DeliveryStatus.FAILED, DeliveryStatus.SUCCEEDED)
    delivery.updated_at = utcnow()
    webhooks.record_endpoint_health(delivery, error is None, now)
    db.session.commit()
    return outcome


def _send_email(message: OutboxMessage) -> None:
    config = current_app.config
    email = _email(message, config["MAIL_FROM"])  # a bad header fails here, for this one only
    db.session.commit()  # no transaction stays open while we talk to the mail server
    with smtplib.SMTP(
        config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=SMTP_TIMEOUT_SECONDS
    ) as smtp:
        if str(config.get("SMTP_STARTTLS", "")).lower() in ("1", "true", "yes"):
            smtp.starttls()
        if config.get("SMTP_USERNAME"):
            smtp.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
        smtp.send_message(email)


def _email(message: OutboxMessage, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient_email
    email["Subject"] = message.subject
    body = message.body
    if message.secret_encrypted is not None:
        body = body.replace(
            SEALED_PLACEHOLDER, _fernet().decrypt(message.secret_encrypted).decode()
        )
    email.set_content(body)
    return email


SEALED_PLACEHOLDER = "{sealed}"


def sealed_email(
    kind: str, recipient: str, subject: str, body: str, secret: str, **fields
) -> OutboxMessage:
    """Return an e-mail whose body holds {sealed}: the secret put there, encrypted until sent."""
    return OutboxMessage(
        kind=kind,
        recipient_email=recipient,
        subject=subject,
        body=body,
        secret_encrypted=_fernet().encrypt(secret.encode()).decode(),
        **fields,
    )


def _fernet() -> Fernet:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"guest-connections outbox secrets"
    ).derive(current_app.config["SECRET_KEY"].encode())
    return Fernet(base64.urlsafe_b64encode(derived))


@dataclass(frozen=True)
class Listed:
    """An outbox message of either kind, as `flask outbox list` prints it."""

    id: uuid.UUID
    kind: str
    recipient: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime


def list_messages(*, failed_only: bool = False, limit: int = 100) -> list[Listed]:
    """Return e-mails and webhook deliveries, newest first; only the failed ones if asked."""
    emails = db.select(OutboxMessage).order_by(OutboxMessage.created_at.desc()).limit(limit)
    hooks = (
        db.select(WebhookDelivery, WebhookEndpoint.url)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .order_by(WebhookDelivery.created_at.desc())
        .limit(limit)
    )
    if failed_only:
        emails = emails.where(OutboxMessage.status == OutboxStatus.FAILED)
        hooks = hooks.where(WebhookDelivery.status == DeliveryStatus.FAILED)
    listed = [
        Listed(m.id, m.kind, m.recipient_email, m.status, m.attempts, m.last_error, m.created_at)
        for m in db.session.scalars(emails)
    ] + [
        Listed(
            d.id, f"webhook {d.event_type}", url, d.status, d.attempts, d.last_error, d.created_at
        )
        for d, url in db.session.execute(hooks)
    ]
    return sorted(listed, key=lambda item: item.created_at, reverse=True)[:limit]


def retry_message(message_id: uuid.UUID, *, actor: Actor) -> None:
    """Give a failed e-mail or webhook delivery a fresh set of attempts, starting now."""
    row = db.session.get(OutboxMessage, message_id) or db.session.get(WebhookDelivery, message_id)
    if row is None:
        raise MessageNotFound()
    if row.status not in (OutboxStatus.FAILED, DeliveryStatus.FAILED):
        raise MessageNotFailed()
    if isinstance(row, OutboxMessage):
        row.status, organization_id = OutboxStatus.PENDING, row.host_organization_id
    else:
        row.status = DeliveryStatus.PENDING
        organization_id = db.session.get(WebhookEndpoint, row.endpoint_id).organization_id
    before = row.attempts
    row.attempts = 0
    row.next_attempt_at = utcnow()
    if organization_id is not None:
        audit.record(
            organization_id,
            actor,
            AuditAction.OUTBOX_MESSAGE_RETRIED,
            Subject.outbox_message(row.id),
            {"status": ("failed", "pending"), "attempts": (before, 0)},
        )
    db.session.commit()
