"""The JSON API under /v1."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/v1")

# The modules below register their endpoints on bp when imported.
from app.api import guest_connections, openapi  # noqa: E402, F401
