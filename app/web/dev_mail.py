"""/dev/mail (development only): what `flask dev`'s local SMTP server caught.

Registered only outside production (app/web/__init__.py), so it never exists there.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from app.services import dev_mail

bp = Blueprint("dev_mail", __name__)


@bp.get("/dev/mail")
def caught_mail():
    """List the e-mails caught in development, newest first."""
    return render_template("dev_mail/list.html", messages=dev_mail.caught_messages())
