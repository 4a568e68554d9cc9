"""HTTP rules both faces share: what a request may carry, the headers every response gets, and
the absolute URLs we hand out.

Requests: a body no larger than MAX_CONTENT_LENGTH, no NUL in any value, JSON that cannot crash
the parser. Responses: a strict Content-Security-Policy and friends — pages load scripts and
styles from our own static files only: no inline script or style, no framing, no plugins.
Swagger UI on /docs works within the same policy (it sets styles through the DOM, which a CSP
allows, and shows icons as data: images).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Request, Response, current_app, has_request_context, request
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.exceptions import RequestEntityTooLarge

from app.errors import ValidationFailed

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Paths that answer JSON (errors included): the API, tokens, keys, health.
JSON_PREFIXES = ("/v1/", "/oauth2/", "/.well-known/", "/healthz", "/readyz")
# Where links point when there is neither PUBLIC_URL nor a request (a command, in development).
DEVELOPMENT_URL = "http://127.0.0.1:5000/"

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
    app.json = JsonProvider(app)
    app.before_request(refuse_malformed_request)
    # Inside ProxyFix (added later, around it), so a request's scheme is the client's.
    app.wsgi_app = SecurityHeaders(app.wsgi_app, app.config)  # type: ignore[method-assign]


def wants_json() -> bool:
    """Tell whether this request's path answers JSON rather than pages."""
    return request.path.startswith(JSON_PREFIXES)


def sessions_for_pages_only(app: Flask) -> None:
    """Give JSON requests no session and none of the pages' request hooks.

    Call it once every extension is set up. The hooks of the session store (its housekeeping,
    the 503 when it is down), of CSRF and of Flask-Login's remember cookie have nothing to do
    for a JSON request, which has neither a cookie session nor a form: checking anyway was a
    twentieth of an API read.
    """
    app.session_interface = PagesOnlySessions(app.session_interface)
    before = app.before_request_funcs.setdefault(None, [])
    after = app.after_request_funcs.setdefault(None, [])
    page_before = [hook for hook in before if _serves_pages_only(hook)]
    page_after = [hook for hook in after if _serves_pages_only(hook)]

    def before_page_request() -> Any:
        if not wants_json():
            for hook in page_before:
                answer = hook()
                if answer is not None:
                    return answer
        return None

    def after_page_request(response: Response) -> Response:
        if not wants_json():
            for hook in reversed(page_after):  # Flask runs after-request hooks last first
                response = hook(response)
        return response

    before[:] = [hook for hook in before if hook not in page_before] + [before_page_request]
    # Run first among the after-request hooks, as the pages' own hooks did.
    after[:] = [hook for hook in after if hook not in page_after] + [after_page_request]


# Whose request hooks serve the pages only (see sessions_for_pages_only).
PAGE_HOOK_MODULES = ("flask_session.", "flask_wtf.", "flask_login.", "app.services.sessions")


def _serves_pages_only(hook: Any) -> bool:
    return getattr(hook, "__module__", "").startswith(PAGE_HOOK_MODULES)


class PagesOnlySessions(SessionInterface):
    """The pages' session interface, except that JSON paths get a null session.

    The API authenticates every call with its bearer token and never reads a cookie session;
    opening and signing one anyway was 7 % of a simple call. Anything else is the pages'.
    """

    def __init__(self, pages: SessionInterface) -> None:
        self.pages = pages

    def __getattr__(self, name: str):
        return getattr(self.pages, name)

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        if request.path.startswith(JSON_PREFIXES):
            return self.make_null_session(app)
        return self.pages.open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not self.is_null_session(session):
            self.pages.save_session(app, session, response)


# -- requests --------------------------------------------------------------------------------


class JsonProvider(DefaultJSONProvider):
    """Flask's JSON, except that absurdly nested input is invalid JSON rather than a crash."""

    sort_keys = False  # keep the contract's field order

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("The JSON is nested too deeply.") from None


def refuse_malformed_request() -> None:
    """Refuse, before any work is done for it, a request no endpoint may take.

    One hook for both checks, reading the WSGI environ once: every request runs it, and each
    hook and each look-up through the `request` proxy costs about a microsecond.
    """
    current = request._get_current_object()  # type: ignore[attr-defined]
    if current.environ.get("CONTENT_LENGTH"):  # else there is no declared length to refuse
        refuse_oversized_body(current)
    refuse_nul_characters(current)


def refuse_oversized_body(current: Request) -> None:
    # Flask enforces the limit only when a view reads the body; checking the declared length
    # first gives every endpoint the same 413, before any work is done for the request.
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if limit is not None and (current.content_length or 0) > limit:
        raise RequestEntityTooLarge()


def refuse_nul_characters(current: Request) -> None:
    """Refuse NUL in the path, query or form: never valid text, and PostgreSQL cannot hold it."""
    # JSON bodies are checked field by field by the schemas (app.schemas.refuse_nul). Only
    # what the request has is parsed: most API calls have neither a query nor a form.
    sources = [("path", (current.view_args or {}).items())]
    if current.query_string:
        sources.append(("query", current.args.items(True)))
    if current.environ.get("CONTENT_TYPE") and current.mimetype in FORM_TYPES:
        sources.append(("body", current.form.items(True)))
    problems = [
        ValidationFailed.problem(
            [source, name], "Value error, text must not contain the NUL character."
        )
        for source, items in sources
        for name, value in items
        if isinstance(value, str) and "\x00" in value
    ]
    if problems:
        raise ValidationFailed(problems)


# -- responses -------------------------------------------------------------------------------


def content_security_policy(issuer: str | None) -> str:
    """Return the policy; forms may lead to the sign-in provider (sign-in and sign-out redirect)."""
    form_action = "form-action 'self'"
    if issuer:
        parts = urlsplit(issuer)
        form_action += f" {parts.scheme}://{parts.netloc}"
    return "; ".join([*POLICY, form_action])


class SecurityHeaders:
    """WSGI middleware: add the security headers to every response that lacks them.

    At the WSGI level, as plain (name, value) pairs, after Flask built the response: adding
    them to each response's header object was a twentieth of an API read. A header a view
    chose for itself (Swagger UI's policy, say) is kept.
    """

    def __init__(self, wsgi_app: Callable, config: Mapping[str, Any]) -> None:
        self.wsgi_app = wsgi_app
        self.config = config

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        secure = environ.get("wsgi.url_scheme") == "https"

        def start_with_headers(status: str, headers: list, exc_info: Any = None) -> Any:
            present = {name.lower() for name, _value in headers}
            headers.extend(
                (name, value)
                for key, name, value in security_headers(self.config.get("OIDC_ISSUER"), secure)
                if key not in present
            )
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start_with_headers)


@functools.cache  # the same few issuers, on every response
def security_headers(issuer: str | None, secure: bool) -> tuple[tuple[str, str, str], ...]:
    """Return (lower-cased name, name, value) of the headers every response gets.

    HSTS only over HTTPS, where it means something.
    """
    headers = {"Content-Security-Policy": content_security_policy(issuer), **HEADERS}
    if secure:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return tuple((name.lower(), name, value) for name, value in headers.items())


# -- absolute URLs ---------------------------------------------------------------------------


def public_base_url() -> str:
    """Return the address people know us by, without a trailing slash.

    PUBLIC_URL, which production requires; never the Host header of a request there. Outside
    production (a laptop, the tests) without PUBLIC_URL: the URL the request came in on, or the
    development address from a command.
    """
    base = current_app.config.get("PUBLIC_URL")
    if not base:
        base = (
            request.url_root
            if has_request_context() and current_app.config["APP_ENV"] != "production"
            else DEVELOPMENT_URL
        )
    return base.rstrip("/")


def external_url(endpoint: str, **values: Any) -> str:
    """Return an absolute URL of ours, on public_base_url(): the one place such URLs are made.

    Built from the URL map, so it works in a request, a command or a worker alike.
    """
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return public_base_url() + path


def invitation_accept_url(token: str) -> str:
    """Return the link a guest follows to accept an invitation."""
    return external_url("guest_invitations.accept_page", token=token)


def email_confirmation_url(token: str) -> str:
    """Return the link that proves an organization's e-mail, sent to that e-mail."""
    return external_url("organizations.confirm_email_page", token=token)
