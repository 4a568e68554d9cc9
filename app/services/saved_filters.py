"""Saved filters: a person names a filter combination of an organization's guest list; each
shows as a tab on the dashboard. Personal: nobody else sees or changes them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from app import schemas
from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import SavedFilter
from app.services import audit
from app.services.audit import Actor, AuditAction, Subject

MAX_SAVED_FILTERS = 20  # per person and organization: tabs, not a library
NAME_LENGTH = 60


class SavedFilterNotFound(NotFound):
    code = "saved_filter_not_found"
    message = "You have no saved filter with that id here."


class TooManySavedFilters(Conflict):
    code = "too_many_saved_filters"
    message = f"You can keep up to {MAX_SAVED_FILTERS} saved filters; delete one first."


@dataclass(frozen=True)
class SavedFilterView:
    id: uuid.UUID
    name: str
    query: schemas.GuestConnectionQuery


def _stored(query: schemas.GuestConnectionQuery) -> dict:
    """Return the query's filters and order as kept: what differs from the defaults, no page."""
    return query.model_dump(mode="json", exclude_defaults=True, exclude={"offset"})


def list_saved_filters(user_id: uuid.UUID, organization_id: uuid.UUID) -> list[SavedFilterView]:
    """Return the person's saved filters of this organization, in the order they were saved."""
    rows = db.session.scalars(
        db.select(SavedFilter)
        .where(SavedFilter.user_id == user_id, SavedFilter.organization_id == organization_id)
        .order_by(SavedFilter.created_at, SavedFilter.id)
    )
    return [
        SavedFilterView(row.id, row.name, schemas.GuestConnectionQuery.model_validate(row.query))
        for row in rows
    ]


def save_filter(
    user_id: uuid.UUID,
    organization_id: uuid.UUID,
    name: str,
    query: schemas.GuestConnectionQuery,
    *,
    actor: Actor,
) -> SavedFilterView:
    """Save the query's filters under a name (a name already used gets the new filters)."""
    name = " ".join(name.split())
    if not 1 <= len(name) <= NAME_LENGTH:
        raise ValidationFailed.at(
            ["name"], f"Give the filter a name of 1 to {NAME_LENGTH} characters."
        )
    mine = db.select(SavedFilter).where(
        SavedFilter.user_id == user_id, SavedFilter.organization_id == organization_id
    )
    saved = db.session.scalar(mine.where(SavedFilter.name == name).with_for_update())
    before = None
    if saved is None:
        count = db.session.scalar(db.select(db.func.count()).select_from(mine.subquery()))
        if count >= MAX_SAVED_FILTERS:
            raise TooManySavedFilters()
        saved = SavedFilter(user_id=user_id, organization_id=organization_id, name=name)
        db.session.add(saved)
    else:
        before = saved.query
    saved.query = _stored(query)
    db.session.flush()
    audit.record(
        organization_id,
        actor,
        AuditAction.SAVED_FILTER_SAVED,
        Subject.saved_filter(saved.id),
        {"name": (None if before is None else name, name), "query": (before, saved.query)},
    )
    db.session.commit()
    return SavedFilterView(saved.id, saved.name, query)


def delete_saved_filter(
    user_id: uuid.UUID, organization_id: uuid.UUID, filter_id: uuid.UUID, *, actor: Actor
) -> str:
    """Delete one of the person's saved filters; return its name."""
    saved = db.session.scalar(
        db.select(SavedFilter).where(
            SavedFilter.id == filter_id,
            SavedFilter.user_id == user_id,
            SavedFilter.organization_id == organization_id,
        )
    )
    if saved is None:
        raise SavedFilterNotFound(loc=["path", "filter_id"])
    name = saved.name
    audit.record(
        organization_id,
        actor,
        AuditAction.SAVED_FILTER_DELETED,
        Subject.saved_filter(saved.id),
        {"name": (name, None), "query": (saved.query, None)},
    )
    db.session.delete(saved)
    db.session.commit()
    return name
