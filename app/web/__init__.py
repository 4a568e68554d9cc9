"""The pages: sign-in, and one blueprint per concept, each view declared with @org_page."""

from __future__ import annotations

from flask import Flask

from app.web import (
    analytics,
    api_clients,
    auth,
    error_pages,
    filters,
    guest_connections,
    guest_invitations,
    host_connections,
    members,
    org_pages,
    organizations,
)


def init_app(app: Flask) -> None:
    auth.init_app(app)
    filters.init_app(app)
    app.context_processor(org_pages.page_context)
    for blueprint in (
        auth.bp,
        organizations.bp,
        guest_connections.bp,
        guest_invitations.bp,
        host_connections.bp,
        analytics.bp,
        api_clients.bp,
        members.bp,
    ):
        app.register_blueprint(blueprint)
    error_pages.register_error_handlers(app)
