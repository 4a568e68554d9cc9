"""The OpenID Connect client (Authlib's Flask client), one per app and issuer, made on first use.

Made lazily from the settings, so that nothing touches the network at start-up and the
provider's discovery document is fetched once, when the first person signs in.
"""

from __future__ import annotations

from authlib.integrations.flask_client import FlaskIntegration, FlaskOAuth2App
from flask import current_app

from app.errors import ServiceUnavailable

SCOPES = "openid email profile"


class SignInNotConfigured(ServiceUnavailable):
    code = "sign_in_not_configured"
    message = (
        "Sign-in is not configured: set OIDC_ISSUER (see README, 'Sign-in'), "
        "or start the app with scripts/run, which starts a development sign-in provider."
    )


def issuer() -> str | None:
    value = current_app.config.get("OIDC_ISSUER")
    return value.rstrip("/") if value else None


def provider() -> FlaskOAuth2App:
    """Return the client for the configured issuer, or raise SignInNotConfigured."""
    current_issuer = issuer()
    if not current_issuer:
        raise SignInNotConfigured()
    clients = current_app.extensions.setdefault("oidc_clients", {})
    if current_issuer not in clients:
        config = current_app.config
        client_kwargs = {"scope": SCOPES, "code_challenge_method": "S256", "default_timeout": 10}
        if not config.get("OIDC_CLIENT_SECRET"):
            # A public client: PKCE alone proves that the code is ours.
            client_kwargs["token_endpoint_auth_method"] = "none"  # noqa: S105
        clients[current_issuer] = FlaskOAuth2App(
            FlaskIntegration("oidc"),
            "oidc",
            client_id=config["OIDC_CLIENT_ID"],
            client_secret=config.get("OIDC_CLIENT_SECRET"),
            server_metadata_url=f"{current_issuer}/.well-known/openid-configuration",
            client_kwargs=client_kwargs,
        )
    return clients[current_issuer]
