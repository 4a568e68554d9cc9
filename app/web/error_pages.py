"""One place that turns every error into a response, by URL space: the contract's JSON body
for the API (/v1/, /oauth2/, ...), an HTML error page for everything else.

Registered on the whole app (both faces); it lives with the pages because most of it is theirs.
"""

from __future__ import annotations

import json
import logging
import re
import uuid

from flask import Flask, Response, g, render_template, request
from markupsafe import escape
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from app.database import rollback_quietly
from app.errors import AppError, ServiceUnavailable
from app.extensions import login_manager
from app.http import wants_json
from app.rate_limits import RateLimited
from app.schemas import ErrorBody, ErrorDetail

log = logging.getLogger(__name__)

# Werkzeug's HTTP errors, as the contract's codes.
HTTP_CODES = {
    400: ("bad_request", "request", "The request could not be understood."),
    404: ("not_found", "not_found", "There is nothing at this address."),
    405: ("method_not_allowed", "request", "This method is not allowed at this address."),
    413: ("payload_too_large", "request", "The request body is too large."),
    415: ("unsupported_media_type", "request", "The request body must be JSON."),
    429: ("rate_limited", "rate_limit", "Too many requests; please slow down."),
}


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(AppError, handle_app_error)
    app.register_error_handler(RateLimited, handle_rate_limited)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(PoolTimeout, handle_database_unavailable)
    app.register_error_handler(Exception, handle_unexpected)


def handle_app_error(error: AppError) -> Response:
    return _render(
        error.status, error.details(), error.headers, getattr(error, "oauth_error", None)
    )


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    code, kind, message = HTTP_CODES.get(status, ("http_error", "request", error.description))
    headers = dict(error.get_headers())
    headers.pop("Content-Type", None)
    return _render(status, [{"loc": [], "msg": message, "type": kind, "code": code}], headers)


def handle_rate_limited(error: RateLimited) -> Response:
    log.warning("rate limit %s exceeded [request %s]", error.limit, _request_id())
    code, kind, message = HTTP_CODES[429]
    headers = {"Retry-After": str(error.retry_after)}
    return _render(429, [{"loc": [], "msg": message, "type": kind, "code": code}], headers)


def is_database_unavailable(error: Exception) -> bool:
    """Tell whether a database error means "cannot reach it" rather than a bug in a query."""
    if isinstance(error, PoolTimeout | OperationalError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def handle_database_error(error: DBAPIError) -> Response:
    if is_database_unavailable(error):
        return handle_database_unavailable(error)
    return handle_unexpected(error)


def handle_database_unavailable(error: Exception) -> Response:
    rollback_quietly()
    if "_login_user" not in g:
        # The page's layout would load the signed-in user from the database that just failed;
        # show the outage page as to a signed-out visitor instead.
        g._login_user = login_manager.anonymous_user()
    # The driver's message only: the statement and its parameters may hold secrets.
    reason = getattr(error, "orig", None) or type(error).__name__
    log.error("database unavailable [request %s]: %s", _request_id(), str(reason).strip())
    return handle_app_error(ServiceUnavailable())


def handle_unexpected(error: Exception) -> Response:
    rollback_quietly()
    log.exception("unhandled error [request %s]", _request_id())
    message = f"Something went wrong on our side (reference {_request_id()}). Please try again."
    return _render(
        500, [{"loc": [], "msg": message, "type": "server", "code": "internal_error"}], {}
    )


def _render(
    status: int, details: list[dict], headers: dict, oauth_error: str | None = None
) -> Response:
    if wants_json():
        body = ErrorBody(detail=[ErrorDetail(**detail) for detail in details]).model_dump(
            mode="json"
        )
        if oauth_error:
            body["error"] = oauth_error
        response = Response(json.dumps(body), status=status, mimetype="application/json")
    else:
        response = Response(_error_page(status, details[0]["msg"]), status=status)
        response.mimetype = "text/html"
    response.headers.update(headers)
    return response


def _error_page(status: int, message: str) -> str:
    try:
        return render_template(
            "errors/error.html", status=status, message=message, request_id=_request_id()
        )
    except Exception:
        # The error page itself failed (its layout needs something that is broken): a bare
        # page still says what happened, and never shows the exception.
        log.exception("error page failed [request %s]", _request_id())
        return (
            f"<!doctype html><title>{status}</title><h1>{status}</h1>"
            f"<p>{escape(message)}</p><p>Reference: {_request_id()}</p>"
        )


def _request_id() -> str:
    if "request_id" not in g:
        # Only characters that cannot forge a log line or break the HTML page.
        given = re.sub(r"[^A-Za-z0-9._-]", "", request.headers.get("X-Request-ID", ""))[:64]
        g.request_id = given or uuid.uuid4().hex[:16]
    return g.request_id
