"""Settings: defaults here, then instance/config.py, then the environment, then the caller's."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent

# Environment variables read as they are (strings) and those parsed as integers.
STRING_SETTINGS = (
    "APP_ENV",
    "DATABASE_URL",
    "SECRET_KEY",
    "OIDC_ISSUER",
    "OIDC_CLIENT_ID",
    "OIDC_CLIENT_SECRET",
    "OIDC_ORG_CLAIM",
    "TOKEN_ISSUER",
    "TOKEN_AUDIENCE",
    "PUBLIC_URL",
    "RATELIMIT_STORAGE_URI",
    "RATELIMIT_KEY_PREFIX",
    "TOKEN_RATE_LIMIT",
    "SIGNIN_RATE_LIMIT",
    "SMTP_HOST",
    "SMTP_USERNAME",
    "SMTP_PASSWORD",
    "SMTP_STARTTLS",
    "MAIL_FROM",
    "SCORER",
    "POSTGRES_SETTINGS",
    "WEBHOOK_ALLOW_PRIVATE_TARGETS",
    "SESSION_TYPE",
    "SESSION_REDIS_URL",
)
INTEGER_SETTINGS = (
    "TOKEN_TTL_SECONDS",
    "MAX_CONTENT_LENGTH",
    "SIGNING_KEY_CACHE_SECONDS",
    "CLIENT_REVOCATION_CACHE_SECONDS",
    "TRUSTED_PROXIES",
    "SMTP_PORT",
    "DATABASE_PING_IDLE_SECONDS",
    "SESSION_IDLE_SECONDS",
    "SESSION_MAX_AGE_SECONDS",
)

DEFAULTS: dict[str, Any] = {
    # "development" (the default, for a laptop), "production" or "testing".
    "APP_ENV": "development",
    "DATABASE_URL": None,  # None: SQLite file in the instance folder
    "SECRET_KEY": None,  # None: development generates one into the instance folder
    "OIDC_ISSUER": None,
    "OIDC_CLIENT_ID": "guest-connections",
    "OIDC_CLIENT_SECRET": None,
    "OIDC_ORG_CLAIM": None,
    "TOKEN_TTL_SECONDS": 3600,
    "TOKEN_ISSUER": "guest-connections",
    "TOKEN_AUDIENCE": "guest-connections-api",
    "PUBLIC_URL": None,
    "MAX_CONTENT_LENGTH": 64 * 1024,
    # A pooled connection idle this long is checked before use (see app/database.py).
    "DATABASE_PING_IDLE_SECONDS": 10,
    # How long a process trusts its cached signing keys before reading them again: after
    # `flask keys rotate`, every app server signs with the new key within this time.
    "SIGNING_KEY_CACHE_SECONDS": 60,
    # How long a process trusts that an API client it saw active still is: a revocation
    # stops the client's tokens, and its new ones, at once on the server that made it, on
    # every other within this.
    "CLIENT_REVOCATION_CACHE_SECONDS": 5,
    # Rate limits per client IP, in the `limits` library's notation (app/rate_limits.py); counted
    # in RATELIMIT_STORAGE_URI (memory:// counts per process; redis://host:6379/0 shares the
    # counts between servers).
    "TOKEN_RATE_LIMIT": "30 per minute",
    "SIGNIN_RATE_LIMIT": "10 per minute",
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_KEY_PREFIX": "guest-connections",
    # How many reverse proxies in front of the app set X-Forwarded-For/-Proto (0: trust none).
    "TRUSTED_PROXIES": 0,
    # The outbox sender (`flask outbox send`) is off until SMTP_HOST is set.
    "SMTP_HOST": None,
    "SMTP_PORT": 25,
    "SMTP_USERNAME": None,
    "SMTP_PASSWORD": None,
    "SMTP_STARTTLS": "false",
    "MAIL_FROM": "guest-connections@localhost",
    # The function that scores a financial statement (module:function); see app/services/scoring.py.
    "SCORER": "app.services.scoring:altman_z_double_prime",
    # Planner settings for each PostgreSQL connection (libpq's `options`): short OLTP queries on
    # SSDs, on a few cores. Empty keeps the server's own settings (e.g. behind PgBouncer).
    "POSTGRES_SETTINGS": "random_page_cost=1.1 max_parallel_workers_per_gather=0",
    # Webhook targets on loopback, private, link-local... addresses: development and tests only.
    "WEBHOOK_ALLOW_PRIVATE_TARGETS": "false",
    # Browser sessions live on the server (app/services/sessions.py): in the database, or in
    # Redis (SESSION_TYPE=redis, SESSION_REDIS_URL=redis://host:6379/1). A session ends after
    # SESSION_IDLE_SECONDS without a request, and SESSION_MAX_AGE_SECONDS after sign-in.
    "SESSION_TYPE": "sqlalchemy",
    "SESSION_REDIS_URL": None,
    "SESSION_IDLE_SECONDS": 2 * 3600,
    "SESSION_MAX_AGE_SECONDS": 12 * 3600,
}


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says what to set."""


def load_config(app: Flask, overrides: Mapping[str, Any] | None) -> None:
    """Fill app.config from the layers, then derive what the extensions need."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile(str(Path(app.instance_path) / "config.py"), silent=True)
    app.config.from_mapping(_from_environment())
    if overrides:
        app.config.from_mapping(overrides)
    app.config["TESTING"] = app.config["APP_ENV"] == "testing" or app.config.get("TESTING", False)
    _derive(app)


def _from_environment() -> dict[str, Any]:
    found: dict[str, Any] = {
        name: os.environ[name] for name in STRING_SETTINGS if name in os.environ
    }
    for name in INTEGER_SETTINGS:
        if name in os.environ:
            try:
                found[name] = int(os.environ[name])
            except ValueError:
                raise ConfigError(
                    f"{name} must be a whole number, not {os.environ[name]!r}."
                ) from None
    return found


def _derive(app: Flask) -> None:
    config = app.config
    is_production = config["APP_ENV"] == "production"
    if not config["DATABASE_URL"]:
        if is_production:
            raise ConfigError("DATABASE_URL must be set in production.")
        config["DATABASE_URL"] = f"sqlite:///{Path(app.instance_path) / 'guest_connections.db'}"
    config["SQLALCHEMY_DATABASE_URI"] = config["DATABASE_URL"]
    # Where `flask dev`'s mail catcher keeps what it caught (development only; /dev/mail).
    config.setdefault("DEV_MAIL_DIR", str(Path(app.instance_path) / "dev_mail"))
    config["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options(
        config["DATABASE_URL"], config["POSTGRES_SETTINGS"]
    )
    if not config["SECRET_KEY"]:
        if is_production:
            raise ConfigError("SECRET_KEY must be set in production (a long random string).")
        config["SECRET_KEY"] = _development_secret(Path(app.instance_path))
    if is_production and len(config["SECRET_KEY"]) < 32:
        raise ConfigError("SECRET_KEY must be at least 32 characters in production.")
    if is_production and len(set(config["SECRET_KEY"])) < 10:
        # "xxxx…" or "aaaa…1234": long enough, yet a placeholder anyone could guess.
        raise ConfigError(
            "SECRET_KEY looks like a placeholder; generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    if is_production and not config["OIDC_ISSUER"]:
        raise ConfigError(
            "OIDC_ISSUER must be set in production (the URL of your OpenID Connect provider); "
            "the development sign-in provider is never used there."
        )
    if is_production and not config["PUBLIC_URL"]:
        raise ConfigError(
            "PUBLIC_URL must be set in production (e.g. https://connections.example.com): "
            "links we send out are built on it, never on the Host header of a request."
        )
    if config["SESSION_TYPE"] not in ("sqlalchemy", "redis"):
        raise ConfigError(
            f"SESSION_TYPE must be sqlalchemy or redis, not {config['SESSION_TYPE']!r}."
        )
    if config["SESSION_TYPE"] == "redis" and not config["SESSION_REDIS_URL"]:
        raise ConfigError("SESSION_TYPE=redis needs SESSION_REDIS_URL (redis://host:6379/1).")
    config["SESSION_COOKIE_HTTPONLY"] = True
    config["SESSION_COOKIE_SAMESITE"] = "Lax"
    config["SESSION_COOKIE_SECURE"] = is_production
    config["REMEMBER_COOKIE_SECURE"] = is_production
    config["REMEMBER_COOKIE_HTTPONLY"] = True


def _engine_options(url: str, postgres_settings: str | None) -> dict[str, Any]:
    # Errors never carry the statement's parameters into logs: they can hold secrets.
    if url.startswith("sqlite"):
        # Several gunicorn threads share the file; wait for a lock rather than fail at once.
        return {"hide_parameters": True, "connect_args": {"timeout": 15}}
    # Connections the server closed (restart, failover) are replaced by ping_when_idle().
    # A server that does not answer fails a request in seconds (503), not after minutes.
    # HotSelect keeps a few connections beside this pool (app.database.ReadConnections).
    return {
        "hide_parameters": True,
        "pool_size": 10,
        "max_overflow": 10,
        "pool_timeout": 10,
        "connect_args": {"connect_timeout": 5, **_postgres_options(postgres_settings)},
    }


def _development_secret(instance: Path) -> str:
    """Return a random secret kept in the instance folder, so restarts keep sessions and keys."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _postgres_options(settings: str | None) -> dict[str, str]:
    """Return libpq's `options` for settings such as "random_page_cost=1.1 work_mem=8MB".

    random_page_cost 1.1: random reads are cheap (SSDs, a cached working set), so a search over
    100 000 guests probes its trigram matches instead of hashing every connection of the host.
    No parallel workers: on a few cores serving many short requests, workers only add start-up
    cost and compete with the other requests (a list call: 147 -> 21 ms, both together).
    """
    pairs = (settings or "").split()
    for pair in pairs:
        name, _, value = pair.partition("=")
        if not name.replace("_", "").isalnum() or not value or " " in value:
            raise ConfigError(f"POSTGRES_SETTINGS must be name=value pairs, not {pair!r}.")
    return {"options": " ".join(f"-c {pair}" for pair in pairs)} if pairs else {}
