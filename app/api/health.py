"""/healthz (the process answers) and /readyz (the database answers too)."""

from flask import Blueprint, jsonify

from app.database import ping, rollback_quietly
from app.errors import ServiceUnavailable

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    try:
        ping()
    except Exception:  # any failure to reach the database means: not ready
        rollback_quietly()
        raise ServiceUnavailable("The database is unreachable.") from None
    return jsonify(status="ready")
