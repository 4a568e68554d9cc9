"""Extensions, created unbound; create_app() binds each to the app."""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable

from flask import Flask, current_app, g, has_app_context
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from flask_wtf import CSRFProtect
from sqlalchemy import Engine, MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints, so that migrations can alter them on every database (SQLite included).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


READS_ONLY_KEY = "reads_only"  # in flask.g: set by app.database.read_without_transaction()


@functools.lru_cache(maxsize=8)
def autocommit_engine(engine: Engine) -> Engine:
    """Return engine's twin (same pool) whose connections run each statement on its own."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")


class Session(FlaskSession):
    """Flask-SQLAlchemy's session, connecting in autocommit once a request said it only reads.

    Deciding when the session first connects, rather than connecting at once to say so, lets a
    request that never needs the session never create one.
    """

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        engine = super().get_bind(mapper, clause, bind, **kwargs)
        if isinstance(engine, Engine) and has_app_context() and g.get(READS_ONLY_KEY):
            return autocommit_engine(engine)
        return engine


db = SQLAlchemy(model_class=Base, session_options={"class_": Session})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
# Counted per client IP (behind a proxy, set TRUSTED_PROXIES so the IP is the client's). If the
# shared storage (Redis) fails, each process counts in memory rather than refusing every request
# or answering 500.
limiter = Limiter(
    get_remote_address,
    # A sliding window: no double burst across a window's edge, as fixed windows allow.
    strategy="moving-window",
    headers_enabled=False,  # Retry-After is set by the 429 handler, never 0
    swallow_errors=True,
    in_memory_fallback_enabled=True,
)


# -- rate limits on the endpoints that check secrets: token issuance and sign-in ------------------
# Each limit is a setting (TOKEN_RATE_LIMIT, SIGNIN_RATE_LIMIT, in Flask-Limiter's notation such
# as "30 per minute"), counted per client IP in RATELIMIT_STORAGE_URI: memory by default, Redis
# (redis://host:6379/0) when several app servers must share the counts. Apply one to a view by
# decorating it, below its route decorator.


def limit_in_decorated_views_only(app: Flask) -> None:
    """Remove the hooks the limiter adds to every request; the decorated views keep theirs.

    Every limit of ours is on a view, whose decorator checks it. The app-wide hooks look for
    default limits (we have none), add headers (disabled: Retry-After comes from our 429
    handler) and reset per-request state (which dies with the request): about a sixth of a
    simple API read, for nothing.
    """

    def is_limiters(hook: Callable) -> bool:
        if isinstance(hook, functools.partial):
            return hook.args[:1] == (limiter,)
        return getattr(hook, "__self__", None) is limiter

    for hooks in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs):
        hooks[None] = [hook for hook in hooks.get(None, []) if not is_limiters(hook)]


def _setting(name: str) -> Callable[[], str]:
    # Read at request time, so each app (and each test) uses its own configured limit.
    return lambda: current_app.config[name]


token_rate_limit = limiter.limit(_setting("TOKEN_RATE_LIMIT"))
# Each view it decorates counts on its own: starting sign-in, and coming back from the provider.
signin_rate_limit = limiter.limit(_setting("SIGNIN_RATE_LIMIT"))


def retry_after_seconds() -> int:
    """Return how many seconds until the limit this request broke lets requests through again."""
    breached = limiter.current_limit
    if breached is None:
        return 60
    reset_at, _remaining = breached.window
    return max(1, math.ceil(reset_at - time.time()))
