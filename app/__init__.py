"""Guest Connections: a host organization's guests, as a dashboard and as a JSON API."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app import api, cli, http, web
from app.api import health, oauth
from app.api.openapi import docs_bp
from app.config import ROOT, load_config
from app.database import keep_read_connections, ping_when_idle, use_sqlite_pragmas
from app.extensions import csrf, db, migrate, rate_limits
from app.services import sessions
from app.web import templating


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application: config, extensions, blueprints, error handlers, CLI."""
    instance_path = (config or {}).get("INSTANCE_PATH") or os.environ.get("INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_path=str(Path(instance_path or ROOT / "instance").resolve()),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.jinja_environment = templating.Environment  # before anything creates app.jinja_env
    load_config(app, config)
    http.init_app(app)

    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True
    )
    sessions.init_app(app)
    csrf.init_app(app)
    rate_limits.init_app(app)
    if proxies := app.config["TRUSTED_PROXIES"]:
        # Behind proxies, the client's IP (rate limits) and scheme (HTTPS: secure cookies,
        # HSTS, external URLs) come from the X-Forwarded-For and -Proto headers they set.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            use_sqlite_pragmas(db.engine)
            keep_read_connections(db.engine, ping_idle_seconds=None)  # a file does not go away
        else:
            ping_when_idle(db.engine, app.config["DATABASE_PING_IDLE_SECONDS"])
            keep_read_connections(db.engine, app.config["DATABASE_PING_IDLE_SECONDS"])

    app.register_blueprint(health.bp)
    app.register_blueprint(oauth.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(docs_bp)
    csrf.exempt(api.bp)
    web.init_app(app)
    http.sessions_for_pages_only(app)
    cli.register_commands(app)
    return app
