"""An organization's financial statements as a form on its analytics page."""

from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, request, url_for
from pydantic import ValidationError

from app import schemas
from app.access import AccessContext
from app.errors import ValidationFailed
from app.schemas import Role
from app.services import financial_statements
from app.web.analytics import render_analytics_page
from app.web.org_pages import actor, org_page

bp = Blueprint("financial_statements", __name__)

FIELDS = list(schemas.FinancialStatementCreate.model_fields)


@bp.post("/orgs/<uuid:org_id>/financial-statements")
@org_page(Role.ADMIN)
def add_statement(access: AccessContext, org_id: uuid.UUID):
    """Record a statement; a bad one comes back with every problem beside its field (422)."""
    form = {name: request.form.get(name, "").strip() for name in FIELDS}
    values = {name: value.replace(" ", "") for name, value in form.items() if value}
    try:
        figures = schemas.FinancialStatementCreate.model_validate(values)
    except ValidationError as error:
        problems: dict[str, str] = {}
        for problem in ValidationFailed.from_pydantic(error, "form").errors:
            field = str(problem["loc"][1]) if len(problem["loc"]) > 1 else "form"
            problems.setdefault(field, problem["msg"])
        return render_analytics_page(org_id, form=form, problems=problems, status=422)
    statement = financial_statements.add_statement(org_id, figures, actor=actor())
    flash(
        f"The statement to {statement.period_end:%-d %b %Y} is recorded: start a run to score it.",
        "success",
    )
    return redirect(url_for("analytics.analytics_page", org_id=org_id))
