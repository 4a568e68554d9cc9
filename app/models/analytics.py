"""What a score stands on: an organization's financial statements and its analytics runs."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import AnalyticsRunStatus, Money, UTCDateTime, enum_column, utcnow


class FinancialStatement(db.Model):
    """One period's figures of an organization, as it recorded them (amounts in its currency)."""

    __tablename__ = "financial_statements"
    __table_args__ = (
        CheckConstraint("length(currency) = 3", name="currency_length"),
        CheckConstraint("total_assets > 0", name="total_assets_positive"),
        CheckConstraint("total_liabilities > 0", name="total_liabilities_positive"),
        # The latest statement (by period, then by when it was recorded) is the one a run scores.
        Index(
            "ix_financial_statements_org_period",
            "organization_id",
            "period_end",
            "created_at",
            "id",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    period_end: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    total_assets: Mapped[Decimal] = mapped_column(Money)
    total_liabilities: Mapped[Decimal] = mapped_column(Money)
    current_assets: Mapped[Decimal] = mapped_column(Money)
    current_liabilities: Mapped[Decimal] = mapped_column(Money)
    retained_earnings: Mapped[Decimal] = mapped_column(Money)
    ebit: Mapped[Decimal] = mapped_column(Money)
    equity: Mapped[Decimal] = mapped_column(Money)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AnalyticsRun(db.Model):
    """One scoring of an organization's latest statement: in_progress, processing, then done."""

    __tablename__ = "analytics_runs"
    __table_args__ = (
        CheckConstraint(
            "total_score IS NULL OR (total_score >= 0 AND total_score <= 100)",
            name="score_in_range",
        ),
        CheckConstraint(
            "(status = 'success' AND total_score IS NOT NULL AND analyzed_on IS NOT NULL)"
            " OR (status <> 'success' AND total_score IS NULL)",
            name="score_matches_status",
        ),
        Index("ix_analytics_runs_org_created", "organization_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    status: Mapped[AnalyticsRunStatus] = mapped_column(
        enum_column(AnalyticsRunStatus, "analytics_run_status"),
        default=AnalyticsRunStatus.IN_PROGRESS,
    )
    statement_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("financial_statements.id", ondelete="SET NULL")
    )
    # Copied from the statement, so the run stays explained if the statement is deleted.
    statement_period_end: Mapped[date | None] = mapped_column(Date)
    model: Mapped[str | None] = mapped_column(String(100))
    model_value: Mapped[float | None] = mapped_column(Float)  # e.g. Altman's Z″
    zone: Mapped[str | None] = mapped_column(String(32))
    total_score: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processing_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    analyzed_on: Mapped[datetime | None] = mapped_column(UTCDateTime)
