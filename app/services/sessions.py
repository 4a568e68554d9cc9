"""Browser sessions on the server, through Flask-Session: the cookie holds a random id only.

The store is the database (table `browser_sessions`, made by the migrations) unless
SESSION_TYPE is `redis` (SESSION_REDIS_URL), which several app servers can share as well.
A session lives SESSION_IDLE_SECONDS after its last use (the store forgets it then), and never
longer than SESSION_MAX_AGE_SECONDS after sign-in (app/web/auth.py checks that, and the user's
session epoch, on every request). Signing out deletes it from the store: a copied cookie then
opens nothing. In the database, the session's row also names its user, so that one statement
reads the session and who is signed in (user_access()).
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta

from flask import Flask, Request, Response, has_request_context, request, session
from flask_session.base import ServerSideSession, ServerSideSessionInterface
from flask_session.redis import RedisSessionInterface
from redis import Redis
from sqlalchemy import bindparam, delete, select

from app.database import HotSelect
from app.errors import ServiceUnavailable
from app.extensions import db
from app.models import BrowserSession, utcnow
from app.services import members

log = logging.getLogger(__name__)

KEY_PREFIX = "session:"
# A session in use is written back at most this often just to move its expiry (each page
# view would otherwise write), so the idle timeout is exact to within this many seconds.
REFRESH_SECONDS = 60
SEEN_KEY = "_seen"
USER_ID_KEY = "_user_id"  # where Flask-Login keeps who is signed in
# Where a request keeps what its session's read found of the user: (user id, UserAccess | None).
_ACCESS_READ_KEY = "app.session_user_access"


# The session and who is signed in (the user its row names, with their memberships) in one
# statement: every signed-in page needs both, and each was a round trip of its own. Built once:
# building the statement cost as much as running it.
_LIVE_SESSION = HotSelect(
    members.with_user_access(
        select(BrowserSession.data, BrowserSession.user_id).where(
            BrowserSession.id == bindparam("id"), BrowserSession.expires_at > bindparam("now")
        ),
        BrowserSession.user_id,
    )
)


class SessionStoreUnavailable(ServiceUnavailable):
    code = "session_store_unavailable"
    message = "Sign-in sessions are unavailable right now. Please try again in a moment."


class GuardedSessions(ServerSideSessionInterface):
    """What both stores share: a store that is down makes the request a clean 503 (never a
    500 from inside Flask), and an unchanged session is written back only to stay alive."""

    def open_session(self, app: Flask, request: Request) -> ServerSideSession:
        try:
            return super().open_session(app, request)
        except Exception:  # whatever the store's driver raises
            log.warning("session store unavailable", exc_info=False)
            session = self.session_class(sid=self._generate_sid(self.sid_length))
            session.unavailable = True  # refused in before_request, where errors are handled
            return session

    def save_session(self, app: Flask, session: ServerSideSession, response: Response) -> None:
        if getattr(session, "unavailable", False):
            return
        try:
            super().save_session(app, session, response)
        except Exception:
            log.warning("session not saved: store unavailable", exc_info=False)

    def should_set_storage(self, app: Flask, session: ServerSideSession) -> bool:
        now = int(time.time())
        if session.modified or now - int(dict.get(session, SEEN_KEY, 0)) >= REFRESH_SECONDS:
            dict.__setitem__(session, SEEN_KEY, now)  # no callback: not a change of its own
            return True
        return False

    def should_set_cookie(self, app: Flask, session: ServerSideSession) -> bool:
        return True  # called only after the store was written: the cookie's expiry follows


class DatabaseSessions(GuardedSessions):
    """Sessions in the `browser_sessions` table, each read and write on its own connection."""

    ttl = False  # the table has no expiry of its own: read skips, and cleanup deletes, old rows

    def __init__(self, app: Flask, **options) -> None:
        super().__init__(app, cleanup_n_requests=1000, **options)

    def _retrieve_session_data(self, store_id: str) -> dict | None:
        # On every page: a HotSelect, in autocommit on PostgreSQL (no BEGIN and ROLLBACK round
        # trips; it sees the same rows either way). A row per membership of its user.
        rows = _LIVE_SESSION.all(id=store_id, now=utcnow())
        if not rows:
            return None
        data, user_id = rows[0][0], rows[0][1]
        if user_id is not None and has_request_context():
            request.environ[_ACCESS_READ_KEY] = (user_id, members.access_of(user_id, rows))
        return self.serializer.decode(data)

    def _delete_session(self, store_id: str) -> None:
        with db.engine.begin() as connection:
            connection.execute(delete(BrowserSession).where(BrowserSession.id == store_id))

    def _upsert_session(
        self, session_lifetime: timedelta, session: ServerSideSession, store_id: str
    ) -> None:
        values = {
            "data": self.serializer.encode(session),
            "user_id": _signed_in_user_id(session),
            "expires_at": utcnow() + session_lifetime,
        }
        with db.engine.begin() as connection:
            updated = connection.execute(
                BrowserSession.__table__.update()
                .where(BrowserSession.id == store_id)
                .values(**values)
            )
            if updated.rowcount == 0:
                connection.execute(BrowserSession.__table__.insert().values(id=store_id, **values))

    def _delete_expired_sessions(self) -> None:
        with db.engine.begin() as connection:
            connection.execute(delete(BrowserSession).where(BrowserSession.expires_at <= utcnow()))


def _signed_in_user_id(session: ServerSideSession) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(session[USER_ID_KEY]))
    except (KeyError, ValueError):
        return None


class RedisSessions(GuardedSessions, RedisSessionInterface):
    """Sessions in Redis (SESSION_REDIS_URL), which expires them by itself."""


def init_app(app: Flask) -> None:
    """Keep this app's sessions on the server, in the configured store."""
    config = app.config
    config["SESSION_PERMANENT"] = True
    config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=config["SESSION_IDLE_SECONDS"])
    options = {"key_prefix": KEY_PREFIX, "permanent": True, "sid_length": 32}
    if config["SESSION_TYPE"] == "redis":
        client = Redis.from_url(config["SESSION_REDIS_URL"], socket_timeout=5)
        app.session_interface = RedisSessions(app, client=client, **options)
    else:
        app.session_interface = DatabaseSessions(app, **options)
    app.before_request(refuse_without_sessions)


def user_access(user_id: uuid.UUID) -> members.UserAccess | None:
    """Return the signed-in user with their memberships as they are now, or None if there is
    no such user: as this request's session read them (DatabaseSessions), else read now."""
    read = request.environ.get(_ACCESS_READ_KEY) if has_request_context() else None
    if read is not None and read[0] == user_id:
        return read[1]
    return members.load_user_access(user_id)


def refuse_without_sessions() -> None:
    """Answer 503 (JSON or page, by URL) when the session store could not be read."""
    if getattr(session, "unavailable", False):
        raise SessionStoreUnavailable()
