"""Extensions, created unbound; create_app() binds each to the app."""

from __future__ import annotations

import functools

from flask import g, has_app_context
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from flask_wtf import CSRFProtect
from sqlalchemy import Engine, MetaData
from sqlalchemy.orm import DeclarativeBase

from app.rate_limits import RateLimits

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
# The limits on the views that check secrets (app/rate_limits.py); decorate a view with one, below
# its route decorator. Each view counts on its own.
rate_limits = RateLimits()
token_rate_limit = rate_limits.limit("TOKEN_RATE_LIMIT")
signin_rate_limit = rate_limits.limit("SIGNIN_RATE_LIMIT")
