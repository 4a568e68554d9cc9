"""The pages: OpenID Connect sign-in and the host admin's dashboard and detail pages."""

from __future__ import annotations

from flask import Flask

from app.web import auth, filters, lifecycle, pages, settings


def init_app(app: Flask) -> None:
    auth.init_app(app)
    filters.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(lifecycle.bp)
    app.register_blueprint(settings.bp)
