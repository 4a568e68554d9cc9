"""Extensions, created unbound; create_app() binds each to the app."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
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


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
# Counted per client IP (behind a proxy, set TRUSTED_PROXIES so the IP is the client's). The
# limits themselves are in app/rate_limits.py. If the shared storage (Redis) fails, each process
# counts in memory rather than refusing every request or answering 500.
limiter = Limiter(
    get_remote_address,
    # A sliding window: no double burst across a window's edge, as fixed windows allow.
    strategy="moving-window",
    headers_enabled=False,  # Retry-After is set by the 429 handler, never 0
    swallow_errors=True,
    in_memory_fallback_enabled=True,
)
