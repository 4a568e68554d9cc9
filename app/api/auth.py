"""Bearer-token authentication of API calls: the Authorization header -> a Principal."""

from __future__ import annotations

import uuid

from flask import request
from sqlalchemy import bindparam

from app.access import Principal
from app.errors import InvalidToken, NotAuthenticated
from app.extensions import db
from app.models import ApiClient
from app.tokens import verify_access_token

# Built once: building the expression took as long as running the query.
_ACTIVE_CLIENT_ORGANIZATION = db.select(ApiClient.organization_id).where(
    ApiClient.client_id == bindparam("client_id"), ApiClient.revoked_at.is_(None)
)


def bearer_token() -> str:
    """Return the token of the Authorization header, or raise NotAuthenticated."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated()
    return token.strip()


def authenticate_api_client() -> Principal:
    """Return the API client calling, or raise NotAuthenticated / InvalidToken."""
    claims = verify_access_token(bearer_token())
    # One query per call: it is what makes a revoked client's unexpired tokens stop working.
    # Run as Core on the session's connection: the ORM's result loading is not needed here.
    organization_id = db.session.connection().scalar(
        _ACTIVE_CLIENT_ORGANIZATION, {"client_id": claims["sub"]}
    )
    if organization_id is None or str(organization_id) != claims.get("org"):
        raise InvalidToken()
    return Principal.api_client(claims["sub"], uuid.UUID(str(organization_id)))
