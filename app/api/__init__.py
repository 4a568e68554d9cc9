"""The JSON API under /v1: one module per concept, each endpoint declared with api_endpoint."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/v1")

# The modules below register their endpoints on bp when imported.
from app.api import (  # noqa: E402, F401
    analytics,
    financial_statements,
    guest_connections,
    guest_invitations,
    host_connections,
    openapi,
    organizations,
    webhooks,
)
