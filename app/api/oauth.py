"""POST /oauth2/token (client credentials) and the public keys at /.well-known/jwks.json."""

from __future__ import annotations

from typing import Literal, TypeVar

from flask import Blueprint, Response, jsonify, request
from pydantic import ValidationError

from app.api.endpoints import UnsupportedMediaType, document_public_endpoint
from app.errors import AppError, InvalidClientCredentials, ValidationFailed
from app.extensions import csrf, token_rate_limit
from app.schemas import JsonWebKeySet, OAuthErrorBody, Schema, TokenRequest, TokenResponse
from app.services import api_clients
from app.services.tokens import public_jwks

bp = Blueprint("oauth", __name__)
SchemaT = TypeVar("SchemaT", bound=Schema)


class JsonTokenRequest(TokenRequest):
    grant_type: Literal["client_credentials"] | None = None


class FormTokenRequest(Schema):
    grant_type: Literal["client_credentials"]
    client_id: str | None = None
    client_secret: str | None = None
    scope: str | None = None  # accepted and ignored: a client has its organization's full access


class OAuthError(AppError):
    """An RFC 6749 error: the contract's body, plus the standard "error" member."""

    status = 400
    type = "oauth"

    def __init__(self, oauth_error: str, message: str) -> None:
        super().__init__(message, code=oauth_error)
        self.oauth_error = oauth_error


@bp.post("/oauth2/token")
@csrf.exempt
@token_rate_limit
def token() -> Response:
    """Exchange an API client's credentials for a short-lived JWT."""
    access_token, expires_in = api_clients.issue_token(*_client_credentials())
    body = TokenResponse(access_token=access_token, expires_in=expires_in)
    response = Response(body.model_dump_json(), mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    """Publish the public keys that verify our tokens."""
    response = jsonify(public_jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


document_public_endpoint(
    "POST",
    "/oauth2/token",
    name="token",
    summary="Get an access token",
    description=(
        "Exchange an API client's credentials for a short-lived JWT (client credentials). "
        "Send the JSON body {client_id, client_secret}, or the standard RFC 6749 form with "
        "grant_type=client_credentials and the credentials as HTTP Basic or form fields. "
        'Bad credentials: 401 oauth_invalid_client_credentials, with "error": "invalid_client".'
    ),
    tag="Authentication",
    response=TokenResponse,
    body=JsonTokenRequest,
    form_body=FormTokenRequest,
    errors=(400, 401, 413, 415, 422, 429, 503),
    error_body=OAuthErrorBody,
)
document_public_endpoint(
    "GET",
    "/.well-known/jwks.json",
    name="jwks",
    summary="The public keys of our tokens",
    description="The JSON Web Key Set that verifies access tokens; a token's kid names its key.",
    tag="Authentication",
    response=JsonWebKeySet,
    errors=(503,),
)


def _client_credentials() -> tuple[str, str]:
    """Return (client_id, client_secret) from a JSON body, or an RFC 6749 form request."""
    if request.is_json:
        body = _validated(JsonTokenRequest, request.get_json(silent=True))
        return body.client_id, body.client_secret
    if request.mimetype != "application/x-www-form-urlencoded":
        raise UnsupportedMediaType(
            "Send JSON {client_id, client_secret}, or a form with grant_type=client_credentials."
        )
    repeated = sorted({name for name, values in request.form.lists() if len(values) > 1})
    if repeated:
        # RFC 6749 3.2: parameters must not be included more than once.
        raise OAuthError("invalid_request", f"Send each parameter once: {', '.join(repeated)}.")
    if request.form.get("grant_type") not in (None, "client_credentials"):
        raise OAuthError(
            "unsupported_grant_type", "Only grant_type=client_credentials is supported."
        )
    form = _validated(FormTokenRequest, request.form.to_dict())
    basic = (
        request.authorization
        if request.authorization and request.authorization.type == "basic"
        else None
    )
    if basic and form.client_id is not None:
        raise OAuthError(
            "invalid_request", "Send the client credentials once: HTTP Basic or form fields."
        )
    client_id = basic.username if basic else form.client_id
    client_secret = basic.password if basic else form.client_secret
    if not client_id or not client_secret:
        raise InvalidClientCredentials()
    # HTTP Basic credentials bypassed the form's schema: hold them to the same rules.
    checked = _validated(TokenRequest, {"client_id": client_id, "client_secret": client_secret})
    return checked.client_id, checked.client_secret


def _validated(model: type[SchemaT], data: object) -> SchemaT:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ValidationFailed.from_pydantic(error, "body") from None
