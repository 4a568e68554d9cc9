"""The templates' csrf_token() is Flask-WTF's token: one per request, and it validates."""

from __future__ import annotations

from flask import g, render_template_string
from flask_wtf.csrf import generate_csrf, validate_csrf


def test_templates_get_flask_wtfs_token_once_per_request(app):
    with app.test_request_context("/"):
        rendered = render_template_string("{{ csrf_token() }} {{ csrf_token() }}")
        first, second = rendered.split()
        assert first == second == generate_csrf() == g.csrf_token
        validate_csrf(first)  # raises when it does not validate
    with app.test_request_context("/"):  # a new request without the session's token: a new one
        assert render_template_string("{{ csrf_token() }}") != first
