"""The templates' csrf_token(): Flask-WTF's, without its lookups once the request has a token.

Flask-WTF signs one token per request and keeps it in flask.g, but each call still reads the
secret key and field name from the config through proxies (~7 µs); a page with three forms
called it three times. The first call of a request is Flask-WTF's own generate_csrf(). In a
page rendering that is kept (rendered_pages), the token is filled in at each view.
"""

from __future__ import annotations

from flask import Flask, g
from flask_wtf.csrf import generate_csrf

from app.web.rendered_pages import filled_at_each_view


def init_app(app: Flask) -> None:
    """Install csrf_token() for templates, after CSRFProtect.init_app (which sets its own)."""
    field_name = app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")

    def this_requests_token() -> str:
        return g.get(field_name) or generate_csrf()

    def csrf_token() -> str:
        return filled_at_each_view(this_requests_token) or this_requests_token()

    app.jinja_env.globals["csrf_token"] = csrf_token
