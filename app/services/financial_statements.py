"""Financial statements: the figures an organization records, which its analytics runs score."""

from __future__ import annotations

import uuid

from sqlalchemy import func

from app import schemas
from app.extensions import db
from app.models import FinancialStatement, utcnow
from app.schemas import OrderDirection
from app.services import audit
from app.services.audit import Actor, AuditAction, Subject
from app.services.lists import SortKey, one_page

# Newest period first; of two statements for one period, the later recorded one first.
NEWEST_FIRST = [
    FinancialStatement.period_end.desc(),
    FinancialStatement.created_at.desc(),
    FinancialStatement.id.desc(),
]
_FIELDS = list(FinancialStatement.__table__.columns)
# The list's order: newest period first (the one a run scores first), ties by id.
_NEWEST_PERIOD_FIRST = SortKey(
    "period_end",
    FinancialStatement.period_end,
    OrderDirection.DESC,
    "id",
    FinancialStatement.id,
    never_empty=True,
)


def add_statement(
    organization_id: uuid.UUID, figures: schemas.FinancialStatementCreate, *, actor: Actor
) -> schemas.FinancialStatement:
    """Record one statement of the organization; return it."""
    statement = FinancialStatement(
        organization_id=organization_id, created_at=utcnow(), **figures.model_dump()
    )
    db.session.add(statement)
    db.session.flush()
    # The figures stay out of the trail (which hosts never read either): the period says which.
    audit.record(
        organization_id,
        actor,
        AuditAction.FINANCIAL_STATEMENT_ADDED,
        Subject.financial_statement(statement.id),
        {
            "period_end": (None, figures.period_end.isoformat()),
            "currency": (None, figures.currency),
        },
    )
    db.session.commit()
    return schemas.FinancialStatement.model_validate(statement)


def list_statements(
    organization_id: uuid.UUID, query: schemas.Page
) -> schemas.FinancialStatementList:
    """Return a page of the organization's statements, newest period first."""
    condition = FinancialStatement.organization_id == organization_id
    items, total, _ = one_page(
        db.select(*_FIELDS).where(condition),
        db.select(func.count()).select_from(FinancialStatement).where(condition),
        _NEWEST_PERIOD_FIRST,
        query,
        schemas.FinancialStatement,
    )
    return schemas.FinancialStatementList(items=items, total_items=total)


def latest_statement(organization_id: uuid.UUID) -> FinancialStatement | None:
    """Return the statement a run scores: the newest period's, last recorded; None if none."""
    return db.session.scalar(
        db.select(FinancialStatement)
        .where(FinancialStatement.organization_id == organization_id)
        .order_by(*NEWEST_FIRST)
        .limit(1)
    )
