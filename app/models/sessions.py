"""Browser sessions kept on the server (the embedded default; Redis through configuration)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime


class BrowserSession(db.Model):
    """One browser's session: the cookie holds only the random id; the data stays here."""

    __tablename__ = "browser_sessions"
    __table_args__ = (Index("ix_browser_sessions_expires_at", "expires_at"),)

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # prefix + random id
    data: Mapped[bytes] = mapped_column(LargeBinary)
    # Who is signed in (Flask-Login's "_user_id" in data), written with data: the read of the
    # session joins their user and memberships on it, so a page reads both in one statement.
    # A copy for that join only, not a reference: what signs a person in stays in data.
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # Moved forward on use: a session idle for SESSION_IDLE_SECONDS is gone.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
