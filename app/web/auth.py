"""Sign-in with OpenID Connect (authorization code + PKCE, state, nonce), sign-out, who is in.

The flow: a page needing sign-in sends the person to /sign-in?next=<that page>; the button
there starts the provider's authorization request; the provider sends them back to
/auth/callback, which maps the ID token to a user (app/services/members.py), starts a fresh
session and returns them to `next` — only ever a path on this site.
"""

from __future__ import annotations

import logging
import time
import uuid
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client import OAuthError
from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError
from joserfc.errors import JoseError

from app.access import Principal
from app.errors import AppError, ServiceUnavailable
from app.extensions import login_manager, signin_rate_limit
from app.http import external_url, wants_json
from app.services import members, sessions
from app.web import oidc
from app.web.error_pages import handle_http_exception

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)

NEXT_KEY = "sign_in_next"
ID_TOKEN_KEY = "oidc_id_token"  # noqa: S105 - a session key, not a secret
SIGNED_IN_AT_KEY = "signed_in_at"  # when the session began, for SESSION_MAX_AGE_SECONDS
EPOCH_KEY = "session_epoch"  # the user's session epoch at sign-in


class SignedInUser(UserMixin):
    """The Flask-Login user: who is signed in and their memberships, loaded once per request."""

    def __init__(self, access: members.UserAccess) -> None:
        self.access = access

    def get_id(self) -> str:
        return str(self.access.id)

    @property
    def principal(self) -> Principal:
        return Principal.user(self.access.id, self.access.roles)


class SignInFailed(AppError):
    status = 400
    code = "sign_in_failed"
    type = "authentication"
    message = "Sign-in did not complete. Please try again."


class ProviderUnreachable(ServiceUnavailable):
    code = "sign_in_provider_unreachable"
    message = "The sign-in provider is not answering right now. Please try again in a moment."


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(send_to_sign_in)
    app.register_error_handler(CSRFError, csrf_failed)


def load_user(user_id: str) -> SignedInUser | None:
    """Return the session's user with their memberships as they are now (so a role change
    applies at once), or None when the session is over: past SESSION_MAX_AGE_SECONDS since
    sign-in, or begun before the user's sessions were ended (removal from an organization)."""
    user = _user(user_id)
    if user is None:
        return None
    signed_in_at = session.get(SIGNED_IN_AT_KEY)
    max_age = current_app.config["SESSION_MAX_AGE_SECONDS"]
    if (
        not isinstance(signed_in_at, int)
        or time.time() - signed_in_at > max_age
        or session.get(EPOCH_KEY) != user.access.session_epoch
    ):
        session.clear()  # deleted from the store: the cookie opens nothing any more
        return None
    return user


def _user(user_id: str) -> SignedInUser | None:
    try:
        access = sessions.user_access(uuid.UUID(user_id))
    except ValueError:
        return None
    return SignedInUser(access) if access else None


def send_to_sign_in() -> Response:
    """Redirect to the sign-in page, remembering the page asked for."""
    here = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.sign_in", next=here))


def safe_next(value: str | None) -> str | None:
    """Return value when it is a path on this site (no scheme, host or tricks), else None."""
    if not value or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value or any(ord(character) < 32 or ord(character) == 127 for character in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


def home_url() -> str:
    return url_for("organizations.home")


@bp.get("/sign-in")
def sign_in():
    """Show the sign-in page (or go on, when already signed in)."""
    next_path = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_path or home_url())
    configured = oidc.issuer() is not None
    return render_template(
        "auth/sign_in.html",
        next_path=next_path,
        configured=configured,
        demo_emails=current_app.config.get("DEV_SIGN_IN_EMAILS") or [],
    ), (200 if configured else 503)


@bp.post("/sign-in")
@signin_rate_limit
def start_sign_in():
    """Send the person to the provider's authorization endpoint."""
    session[NEXT_KEY] = safe_next(request.form.get("next"))
    try:
        return oidc.provider().authorize_redirect(external_url("auth.callback"))
    except requests.RequestException:
        raise ProviderUnreachable() from None


@bp.get("/auth/callback")
@signin_rate_limit
def callback():
    """Finish sign-in: check the provider's answer, find the user, start a fresh session."""
    next_path = safe_next(session.pop(NEXT_KEY, None))
    try:
        token = oidc.provider().authorize_access_token()
    except OAuthError as error:
        log.warning("sign-in failed: %s %s", error.error, error.description)
        if error.error == "access_denied":
            raise SignInFailed("Sign-in was cancelled at the provider.") from None
        raise SignInFailed() from None
    except JoseError as error:
        log.warning("sign-in failed: ID token not valid: %s", error)
        raise SignInFailed("The provider's ID token could not be verified.") from None
    except requests.RequestException:
        raise ProviderUnreachable() from None
    claims = token.get("userinfo")
    if not claims:
        raise SignInFailed("The provider sent no ID token.")
    try:
        user_id = members.sign_in(oidc.issuer(), claims, current_app.config.get("OIDC_ORG_CLAIM"))
    except (members.UnknownPerson, members.SubjectMismatch) as refusal:
        return render_template(
            "auth/refused.html", message=refusal.message, email=claims.get("email")
        ), 403
    # A new session for the signed-in person, under a new id: nothing from before sign-in
    # carries over, and an id planted or seen before sign-in opens nothing.
    current_app.session_interface.regenerate(session)
    session.clear()
    user = _user(str(user_id))
    login_user(user)
    session[SIGNED_IN_AT_KEY] = int(time.time())
    session[EPOCH_KEY] = user.access.session_epoch
    if token.get("id_token"):
        session[ID_TOKEN_KEY] = token["id_token"]
    return redirect(next_path or home_url())


@bp.post("/sign-out")
def sign_out():
    """End our session, then the provider's when it offers RP-initiated logout."""
    id_token = session.get(ID_TOKEN_KEY)
    logout_user()
    session.clear()
    end_session_url = _provider_logout_url(id_token)
    return redirect(end_session_url or url_for("auth.signed_out"))


def _provider_logout_url(id_token: str | None) -> str | None:
    if oidc.issuer() is None:
        return None
    try:
        provider = oidc.provider()
        if not provider.load_server_metadata().get("end_session_endpoint"):
            return None
        return provider.create_logout_url(
            post_logout_redirect_uri=external_url("auth.signed_out"),
            id_token_hint=id_token,
            client_id=current_app.config["OIDC_CLIENT_ID"],
        )["url"]
    except requests.RequestException:
        return None  # signed out here; the provider can be left for the person to handle


@bp.get("/signed-out")
def signed_out():
    return render_template("auth/signed_out.html")


def csrf_failed(error: CSRFError) -> Response:
    """Answer a form without a valid CSRF token: 400, with a way forward."""
    if wants_json():
        return handle_http_exception(error)
    html = render_template(
        "errors/error.html",
        status=400,
        message="This form has expired or did not come from this site. "
        "Go back, reload the page and try again.",
        request_id="",
    )
    return Response(html, status=400, mimetype="text/html")
