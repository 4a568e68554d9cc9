"""The outbox: messages written with the change they report, delivered later by SMTP if configured.

Writing a row instead of sending at once keeps a slow or absent mail server out of the request,
and a message never goes out for a change that was rolled back.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from flask import current_app

from app.errors import AppError
from app.extensions import db
from app.models import OutboxMessage, utcnow


class SenderOff(AppError):
    status = 409
    code = "outbox_sender_off"
    type = "conflict"
    message = "SMTP_HOST is not set: the outbox sender is off."


def waiting_count() -> int:
    """Return how many messages wait to be sent."""
    return db.session.scalar(
        db.select(db.func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
    )


def send_pending(limit: int = 100) -> int:
    """Send up to `limit` waiting messages, oldest first, over SMTP; return how many went out."""
    config = current_app.config
    if not config.get("SMTP_HOST"):
        raise SenderOff(f"SMTP_HOST is not set: {waiting_count()} message(s) wait in the outbox.")
    messages = db.session.scalars(
        db.select(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None))
        .order_by(OutboxMessage.created_at)
        .limit(limit)
    ).all()
    if not messages:
        return 0
    with smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=30) as smtp:
        if str(config.get("SMTP_STARTTLS", "")).lower() in ("1", "true", "yes"):
            smtp.starttls()
        if config.get("SMTP_USERNAME"):
            smtp.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
        for message in messages:
            smtp.send_message(_email(message, config["MAIL_FROM"]))
            # One commit per message: a failure half-way does not send the first ones twice.
            message.sent_at = utcnow()
            db.session.commit()
    return len(messages)


def _email(message: OutboxMessage, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient_email
    email["Subject"] = message.subject
    email.set_content(message.body)
    return email
