"""The pages: sign-in, and one blueprint per concept, each view declared with @org_page."""

from __future__ import annotations

from flask import Flask

from app.web import (
    analytics,
    api_clients,
    auth,
    csrf,
    dev_mail,
    error_pages,
    filters,
    financial_statements,
    guest_connections,
    guest_invitations,
    host_connections,
    members,
    org_pages,
    organizations,
    rendered_pages,
    urls,
    webhooks,
)


def init_app(app: Flask) -> None:
    auth.init_app(app)
    filters.init_app(app)
    urls.init_app(app)
    csrf.init_app(app)
    rendered_pages.init_app(app)
    app.context_processor(org_pages.page_context)
    for blueprint in (
        auth.bp,
        organizations.bp,
        guest_connections.bp,
        guest_invitations.bp,
        host_connections.bp,
        analytics.bp,
        financial_statements.bp,
        api_clients.bp,
        webhooks.bp,
        members.bp,
    ):
        app.register_blueprint(blueprint)
    if app.config["APP_ENV"] != "production":
        app.register_blueprint(dev_mail.bp)  # never registered in production
    error_pages.register_error_handlers(app)
