"""/healthz (the process answers) and /readyz (the database answers too)."""

from flask import Blueprint, jsonify
from sqlalchemy import text

from app.errors import ServiceUnavailable
from app.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any failure to reach the database means: not ready
        db.session.rollback()
        raise ServiceUnavailable("The database is unreachable.") from None
    return jsonify(status="ready")
