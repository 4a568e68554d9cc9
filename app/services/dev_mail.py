"""Development only: the e-mails that `flask dev`'s local SMTP server caught (a Maildir)."""

from __future__ import annotations

import email.policy
import mailbox
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from flask import current_app


@dataclass(frozen=True)
class CaughtMessage:
    sender: str
    recipients: str
    subject: str
    received_at: datetime | None
    body: str


def caught_messages(limit: int = 100) -> list[CaughtMessage]:
    """Return the caught e-mails, newest first (none if the catcher never ran)."""
    folder = Path(current_app.config["DEV_MAIL_DIR"])
    if not (folder / "new").is_dir():
        return []
    box = mailbox.Maildir(folder, factory=None, create=False)
    found = []
    for key in box.keys():
        with box.get_file(key) as raw:
            message = email.message_from_binary_file(raw, policy=email.policy.default)
        found.append(
            CaughtMessage(
                sender=str(message["From"] or ""),
                recipients=str(message["To"] or ""),
                subject=str(message["Subject"] or ""),
                received_at=_date(message["Date"]) or _date_of_file(box, key),
                body=_text(message),
            )
        )
    found.sort(key=lambda m: m.received_at or datetime.min.astimezone(), reverse=True)
    return found[:limit]


def _text(message) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def _date(value) -> datetime | None:
    try:
        return parsedate_to_datetime(str(value)) if value else None
    except (TypeError, ValueError):
        return None


def _date_of_file(box: mailbox.Maildir, key: str) -> datetime | None:
    return datetime.fromtimestamp(box.get_message(key).get_date()).astimezone()
