"""Bearer-token authentication of API calls: the Authorization header -> a Principal."""

from __future__ import annotations

from flask import request

from app.access import Principal
from app.errors import NotAuthenticated
from app.services import api_clients


def bearer_token() -> str:
    """Return the token of the Authorization header, or raise NotAuthenticated."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated()
    return token.strip()


def authenticate_api_client() -> Principal:
    """Return the API client calling, or raise NotAuthenticated / InvalidToken."""
    return api_clients.principal_for_token(bearer_token())
