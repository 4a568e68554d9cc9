"""Security headers on every response: a strict Content-Security-Policy and friends.

Pages load scripts and styles from our own static files only: no inline script or style,
no framing, no plugins. Swagger UI on /docs works within the same policy (it sets styles
through the DOM, which a CSP allows, and shows icons as data: images).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

POLICY = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
]

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)


def content_security_policy(issuer: str | None) -> str:
    """Return the policy; forms may lead to the sign-in provider (sign-in and sign-out redirect)."""
    form_action = "form-action 'self'"
    if issuer:
        parts = urlsplit(issuer)
        form_action += f" {parts.scheme}://{parts.netloc}"
    return "; ".join([*POLICY, form_action])


def add_security_headers(response: Response) -> Response:
    """Set the security headers, keeping any a view chose for itself."""
    response.headers.setdefault(
        "Content-Security-Policy", content_security_policy(current_app.config.get("OIDC_ISSUER"))
    )
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response
