"""Browser sessions kept on the server (the embedded default; Redis through configuration)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime


class BrowserSession(db.Model):
    """One browser's session: the cookie holds only the random id; the data stays here."""

    __tablename__ = "browser_sessions"
    __table_args__ = (Index("ix_browser_sessions_expires_at", "expires_at"),)

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # prefix + random id
    data: Mapped[bytes] = mapped_column(LargeBinary)
    # Moved forward on use: a session idle for SESSION_IDLE_SECONDS is gone.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
