"""The JSON contract as pydantic models; the OpenAPI document is generated from these."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
)

from app.models import ActionType, ConnectionStatus

RFC3339 = "%Y-%m-%dT%H:%M:%S.%fZ"


def format_timestamp(value: datetime) -> str:
    """Return RFC 3339 in UTC with microseconds, e.g. 2025-12-12T10:30:00.123456Z."""
    return value.astimezone(UTC).strftime(RFC3339)


Timestamp = Annotated[
    datetime,
    PlainSerializer(format_timestamp, return_type=str, when_used="json"),
    WithJsonSchema(
        {"type": "string", "format": "date-time", "examples": ["2025-12-12T10:30:00.123456Z"]},
        mode="serialization",
    ),
]


def refuse_nul(value: Any) -> Any:
    """Refuse text holding NUL: PostgreSQL can neither store nor compare it."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("text must not contain the NUL character")
    return value


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")

    _refuse_nul = field_validator("*", mode="after")(refuse_nul)


# -- errors -------------------------------------------------------------------------------------


class ErrorDetail(Schema):
    loc: list[str | int] = Field(description="Where the error is; empty when not tied to a field.")
    msg: str = Field(description="A sentence for people.")
    type: str = Field(description="The error's category.")
    code: str = Field(description="A stable machine-readable code.")


class ErrorBody(Schema):
    detail: list[ErrorDetail] = Field(min_length=1)


# -- tokens ---------------------------------------------------------------------------------------


class TokenRequest(Schema):
    client_id: str = Field(min_length=1, max_length=128, examples=["gc_5gtyhu78ujmlko90iikmjunbh"])
    client_secret: str = Field(min_length=1, max_length=64)


class TokenResponse(Schema):
    access_token: str = Field(min_length=1)
    token_type: str = Field(default="Bearer", examples=["Bearer"])
    expires_in: int = Field(description="Lifetime of the token in seconds.", examples=[3600])


# -- guest connections ----------------------------------------------------------------------------


class GuestConnection(Schema):
    host_organization_id: uuid.UUID = Field(description="The host (the target of the call).")
    guest_organization_id: uuid.UUID = Field(description="The guest organization.")
    status: ConnectionStatus = Field(description="Current status of the guest connection.")
    guest_name: str = Field(min_length=1, max_length=300, description="The guest's name.")
    guest_email: str | None = Field(description="The guest organization's e-mail.")
    owner_email: str = Field(
        min_length=1,
        max_length=100,
        description="E-mail of the host-side person responsible for this guest.",
        examples=["owner@host.com"],
    )
    archived: bool
    created_at: Timestamp
    updated_at: Timestamp
    total_score: float | None = Field(
        ge=0, description="The guest's total score; null until calculated.", examples=[87.5]
    )
    score_updated_at: Timestamp | None = Field(description="When total_score last changed.")
    archived_at: Timestamp | None = Field(description="When archived; null when not archived.")
    active_action_type: ActionType | None = Field(description="The open action, if any.")
    active_action_updated_at: Timestamp | None
    parent_organization_id: uuid.UUID | None = Field(
        description="The parent the host recorded on the connection, else the guest's own parent."
    )
    parent_organization_name: str | None = Field(min_length=1, max_length=300)


class GuestConnectionSearchField(enum.StrEnum):
    GUEST_NAME = "guest_name"
    GUEST_EMAIL = "guest_email"
    OWNER_EMAIL = "owner_email"


class GuestConnectionOrder(enum.StrEnum):
    GUEST_NAME = "guest_name"
    GUEST_EMAIL = "guest_email"
    OWNER_EMAIL = "owner_email"
    TOTAL_SCORE = "total_score"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    SCORE_UPDATED_AT = "score_updated_at"
    ARCHIVED_AT = "archived_at"
    ACTIVE_ACTION_UPDATED_AT = "active_action_updated_at"


class OrderDirection(enum.StrEnum):
    ASC = "asc"
    DESC = "desc"


class GuestConnectionQuery(BaseModel):
    """Filters, order and page of a list of guest connections (the API's query, the page's URL)."""

    model_config = ConfigDict(extra="ignore")  # unknown query parameters are ignored

    statuses: list[ConnectionStatus] = Field(
        default_factory=lambda: list(ConnectionStatus),
        min_length=1,
        description="Keep connections with these statuses (repeat the parameter); default both.",
    )
    archived: bool | None = Field(default=None, description="Keep archived or unarchived only.")
    search_field: GuestConnectionSearchField = GuestConnectionSearchField.GUEST_NAME
    search_text: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        description="Case-insensitive substring of search_field; % and _ match literally.",
    )
    parent_organization_id: uuid.UUID | None = Field(
        default=None, description="Keep guests whose parent organization (as shown) is this one."
    )
    _refuse_nul = field_validator("search_text", mode="after")(refuse_nul)
    order_by: GuestConnectionOrder = GuestConnectionOrder.GUEST_NAME
    order_dir: OrderDirection = OrderDirection.ASC
    limit: int = Field(default=10, ge=1, le=100)
    offset: int = Field(default=0, ge=0)


class GuestConnectionList(Schema):
    items: list[GuestConnection]
    total_items: int = Field(ge=0)


def dump(model: BaseModel) -> dict[str, Any]:
    """Return the JSON-ready dict of a response model."""
    return model.model_dump(mode="json")
