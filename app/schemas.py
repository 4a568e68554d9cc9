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
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

# The contract's vocabulary, importable from here by the faces (which never import app.models).
from app.models import ActionStatus as ActionStatus
from app.models import ActionType as ActionType
from app.models import ConnectionStatus as ConnectionStatus
from app.models import InvitationStatus as InvitationStatus
from app.models import Role as Role

RFC3339 = "%Y-%m-%dT%H:%M:%S.%fZ"


def format_timestamp(value: datetime) -> str:
    """Return RFC 3339 in UTC with microseconds, e.g. 2025-12-12T10:30:00.123456Z."""
    return value.astimezone(UTC).strftime(RFC3339)


def format_score(value: float) -> str:
    """Return a score as every page shows it: up to two decimals, no trailing zeros (55.55)."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


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


class OAuthErrorBody(ErrorBody):
    """The token endpoint's errors: the contract's body plus RFC 6749's error member."""

    error: str | None = Field(
        default=None,
        description="The RFC 6749 error, e.g. invalid_client or unsupported_grant_type.",
        examples=["invalid_client"],
    )


# -- tokens ---------------------------------------------------------------------------------------


class TokenRequest(Schema):
    client_id: str = Field(min_length=1, max_length=128, examples=["gc_5gtyhu78ujmlko90iikmjunbh"])
    client_secret: str = Field(min_length=1, max_length=64)


class JsonWebKeySet(Schema):
    keys: list[dict[str, str]] = Field(
        description="Public keys (JWK) that verify our access tokens; match a token's kid."
    )


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
    search_field: GuestConnectionSearchField = Field(
        default=GuestConnectionSearchField.GUEST_NAME, description="The field search_text is in."
    )
    search_text: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        description=("Case-insensitive substring of search_field; %, _ and \\ match literally."),
    )
    parent_organization_id: uuid.UUID | None = Field(
        default=None, description="Keep guests whose parent organization (as shown) is this one."
    )
    _refuse_nul = field_validator("search_text", mode="after")(refuse_nul)
    min_score: float | None = Field(
        default=None, ge=0, allow_inf_nan=False, description="Keep guests scored at least this."
    )
    max_score: float | None = Field(
        default=None,
        ge=0,
        allow_inf_nan=False,
        description="Keep guests scored at most this (guests without a score are left out).",
    )
    has_open_action: bool | None = Field(
        default=None, description="true: only guests with an open action; false: only without."
    )
    score_older_than_days: int | None = Field(
        default=None,
        ge=0,
        le=36500,
        description="Keep guests whose score was last updated more than this many days ago "
        "(guests without a score are left out).",
    )
    order_by: GuestConnectionOrder = Field(
        default=GuestConnectionOrder.GUEST_NAME,
        description="Sort by this field; empty values come last, ties go by the guest's id.",
    )
    order_dir: OrderDirection = Field(default=OrderDirection.ASC, description="Sort direction.")
    limit: int = Field(default=10, ge=1, le=100, description="Page size.")
    # Bounded so that no database is asked for an offset beyond its integer range.
    offset: int = Field(default=0, ge=0, le=2**31 - 1, description="Items to skip.")

    @field_validator("max_score")
    @classmethod
    def _range_in_order(cls, value: float | None, info: ValidationInfo) -> float | None:
        low = info.data.get("min_score")
        if value is not None and low is not None and value < low:
            raise PydanticCustomError("score_range", "Must not be less than min_score")
        return value


class GuestConnectionList(Schema):
    items: list[GuestConnection]
    total_items: int = Field(ge=0, description="How many connections match the filters in all.")


class GuestConnectionUpdate(Schema):
    """The body of PATCH /v1/guest-connections/{guest_org_id}."""

    archived: bool = Field(strict=True, description="true archives, false unarchives.")


class GuestConnectionBulkAction(enum.StrEnum):
    ARCHIVE = "archive"
    UNARCHIVE = "unarchive"
    REQUEST_ANALYTICS = "request_analytics"


MAX_BULK_GUESTS = 1000


class GuestConnectionBulk(Schema):
    """The body of POST /v1/guest-connections/bulk (ours): one action on many guests."""

    action: GuestConnectionBulkAction = Field(description="What to do to every guest listed.")
    guest_organization_ids: list[uuid.UUID] = Field(
        min_length=1,
        max_length=MAX_BULK_GUESTS,
        description=f"The guests, 1 to {MAX_BULK_GUESTS}; a repeated id counts once.",
    )


class GuestConnectionBulkOutcome(enum.StrEnum):
    DONE = "done"
    SKIPPED = "skipped"


class GuestConnectionBulkItem(Schema):
    guest_organization_id: uuid.UUID
    guest_name: str | None = Field(description="The guest's name; null when it is not a guest.")
    outcome: GuestConnectionBulkOutcome = Field(
        description="done: changed; skipped: left as it was, see code and message."
    )
    code: str | None = Field(
        description="Why it was skipped: guest_connection_not_found, already_archived, "
        "not_archived, guest_connection_disconnected, analytics_request_already_active."
    )
    message: str | None = Field(description="Why it was skipped, in words.")


class GuestConnectionBulkResult(Schema):
    action: GuestConnectionBulkAction
    done: int = Field(ge=0, description="How many guests were changed.")
    skipped: int = Field(ge=0, description="How many were left as they were.")
    items: list[GuestConnectionBulkItem] = Field(description="One per id, in the order given.")


class Page(BaseModel):
    """The page of a list: limit and offset."""

    model_config = ConfigDict(extra="ignore")  # unknown query parameters are ignored

    limit: int = Field(default=10, ge=1, le=100)
    # Bounded so that no database is asked for an offset beyond its integer range (500).
    offset: int = Field(default=0, ge=0, le=2**31 - 1)
    # Every list's filters refuse NUL too (search text reaches PostgreSQL).
    _refuse_nul = field_validator("*", mode="after")(refuse_nul)


# -- host connections (the guest's side) ----------------------------------------------------------


class HostConnection(Schema):
    host_organization_id: uuid.UUID = Field(description="The host organization.")
    guest_organization_id: uuid.UUID = Field(description="The guest (the target of the call).")
    host_name: str = Field(min_length=1, max_length=300, description="The host's name.")
    host_email: str | None = Field(description="The host organization's e-mail.")
    owner_email: str = Field(
        min_length=1,
        max_length=100,
        description="E-mail of the host-side person responsible for this guest.",
    )
    status: ConnectionStatus = Field(description="Current status of the connection.")
    archived: bool = Field(description="Whether the host archived this connection.")
    created_at: Timestamp
    updated_at: Timestamp
    archived_at: Timestamp | None
    active_action_type: ActionType | None = Field(description="The open action, if any.")
    active_action_updated_at: Timestamp | None


class HostConnectionSearchField(enum.StrEnum):
    HOST_NAME = "host_name"
    HOST_EMAIL = "host_email"
    OWNER_EMAIL = "owner_email"


class HostConnectionOrder(enum.StrEnum):
    HOST_NAME = "host_name"
    HOST_EMAIL = "host_email"
    OWNER_EMAIL = "owner_email"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    ARCHIVED_AT = "archived_at"
    ACTIVE_ACTION_UPDATED_AT = "active_action_updated_at"


class HostConnectionQuery(Page):
    """Filters, order and page of the guest's list of its hosts."""

    statuses: list[ConnectionStatus] = Field(
        default_factory=lambda: list(ConnectionStatus),
        min_length=1,
        description="Keep connections with these statuses (repeat the parameter); default both.",
    )
    archived: bool | None = Field(default=None, description="Keep archived or unarchived only.")
    search_field: HostConnectionSearchField = HostConnectionSearchField.HOST_NAME
    search_text: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        description="Case-insensitive substring of search_field; % and _ match literally.",
    )
    order_by: HostConnectionOrder = HostConnectionOrder.HOST_NAME
    order_dir: OrderDirection = OrderDirection.ASC


class HostConnectionList(Schema):
    items: list[HostConnection]
    total_items: int = Field(ge=0)


class HostConnectionAccept(Schema):
    """Accept a host's invitation: the guest (the target) connects to the host."""

    host_organization_id: uuid.UUID = Field(description="The host that sent the invitation.")
    invitation_token: str = Field(
        min_length=10,
        max_length=2000,
        description="The token of the invitation (from the invitation link); it works once.",
    )


class HostConnectionStatusChange(Schema):
    status: ConnectionStatus = Field(
        description="`disconnected` to leave the host, `connected` to come back."
    )


# -- guest invitations --------------------------------------------------------------------------


INVITATION_STATUS_MEANING = (
    "`sent`: waiting for the guest. `accepted_by_guest`: a guest organization accepted it with "
    "its token. `accepted_by_system` (ours): the connection came about without this "
    "invitation's token - when the invitation was created, the invited e-mail already belonged "
    "to an organization connected to the host (its e-mail, or one of its members'); or later, "
    "that organization got connected to the host another way (another invitation, or an "
    "operator's `flask connections add`). Its token is then dead."
)


class GuestInvitation(Schema):
    id: uuid.UUID
    host_organization_id: uuid.UUID = Field(description="The organization that sent it.")
    email: str = Field(min_length=3, max_length=100, examples=["guest@example.com"])
    owner_email: str = Field(
        min_length=1, max_length=100, description="(ours) The host-side person responsible."
    )
    first_invitation_sent_at: Timestamp
    last_invitation_sent_at: Timestamp = Field(description="When it was last (re)sent.")
    expired_at: Timestamp = Field(description="After this moment the token no longer works.")
    expired: bool = Field(description="Whether expired_at has passed.")
    status: InvitationStatus = Field(description=INVITATION_STATUS_MEANING)
    archived: bool = Field(description="An archived invitation cannot be accepted.")
    created_at: Timestamp
    updated_at: Timestamp
    accepted_at: Timestamp | None
    archived_at: Timestamp | None
    guest_organization_id: uuid.UUID | None = Field(
        description="(ours) The organization that became the guest through it, once accepted."
    )
    parent_organization_id: uuid.UUID | None = Field(
        description="The parent organization the host records on the connection."
    )
    parent_organization_name: str | None


class CreatedGuestInvitation(GuestInvitation):
    """The invitation, with its token: shown only in this response, never again."""

    invitation_token: str | None = Field(
        min_length=10,
        max_length=2000,
        description=(
            "The one-time token. Shown only now; stored hashed. Null when the invitation was "
            "accepted by the system at once (the guest is already connected)."
        ),
    )
    invitation_url: str | None = Field(
        description="(ours) The link to send to the guest: the page that accepts the invitation."
    )


class GuestInvitationCreate(Schema):
    email: str = Field(min_length=3, max_length=100, description="Whom to invite.")
    expired_at: datetime = Field(
        description=(
            "When the invitation stops working; in the future, at most 365 days ahead (ours). "
            "A value without a time zone is read as UTC."
        )
    )
    parent_organization_id: uuid.UUID | None = Field(
        default=None, description="The guest's parent organization, recorded on the connection."
    )
    owner_email: str | None = Field(
        default=None,
        min_length=3,
        max_length=100,
        description=(
            "(ours) The host-side person responsible for this guest, recorded on the connection; "
            "default: the host organization's e-mail."
        ),
    )


class GuestInvitationResend(Schema):
    expired_at: datetime | None = Field(
        default=None,
        description="A new expiry (in the future); needed to resend an expired invitation.",
    )


class GuestInvitationArchive(Schema):
    archived: bool


class GuestInvitationOrder(enum.StrEnum):
    EMAIL = "email"
    FIRST_INVITATION_SENT_AT = "first_invitation_sent_at"
    LAST_INVITATION_SENT_AT = "last_invitation_sent_at"
    EXPIRED_AT = "expired_at"
    ACCEPTED_AT = "accepted_at"
    ARCHIVED_AT = "archived_at"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


class GuestInvitationQuery(Page):
    """Filters, order and page of a host's invitations."""

    statuses: list[InvitationStatus] = Field(
        default_factory=lambda: list(InvitationStatus),
        min_length=1,
        description="Keep invitations with these statuses (repeat the parameter); default all.",
    )
    search_text: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        description="Case-insensitive substring of the invited e-mail.",
    )
    expired: bool | None = Field(default=None, description="Keep expired or unexpired only.")
    archived: bool | None = Field(default=None, description="Keep archived or unarchived only.")
    order_by: GuestInvitationOrder = GuestInvitationOrder.CREATED_AT
    order_dir: OrderDirection = OrderDirection.ASC


class GuestInvitationList(Schema):
    items: list[GuestInvitation]
    total_items: int = Field(ge=0)


# -- actions and analytics --------------------------------------------------------------------


class ConnectionAction(Schema):
    id: uuid.UUID
    host_organization_id: uuid.UUID = Field(description="The host that asked.")
    guest_organization_id: uuid.UUID = Field(description="The guest asked to run analytics.")
    action_type: ActionType
    status: ActionStatus = Field(description="`active` until the guest submits its analytics.")
    created_at: Timestamp
    updated_at: Timestamp


Score = Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False, examples=[87.5])]


class AnalyticsSubmission(Schema):
    total_score: Score = Field(description="The guest's total score: a finite number, 0 or more.")


class AnalyticsResult(Schema):
    """(ours) What a submitted analytics result changed."""

    organization_id: uuid.UUID = Field(description="The guest that submitted it.")
    total_score: float = Field(ge=0)
    status: str = Field(description="Always `success`: the score is applied at once.")
    connections_updated: int = Field(
        ge=0, description="How many connected hosts now show this score."
    )
    requests_resolved: int = Field(ge=0, description="How many open analytics requests closed.")
    created_at: Timestamp


class ScoreChange(Schema):
    total_score: float = Field(ge=0)
    source: str = Field(description="`analytics` (the guest submitted it) or `cli` (an operator).")
    changed_at: Timestamp


class ScoreHistory(Schema):
    items: list[ScoreChange] = Field(description="Newest first.")
    total_items: int = Field(ge=0)


# -- notifications --------------------------------------------------------------------------------


class DisconnectionNotification(Schema):
    """(ours) The notification, queued in the outbox."""

    id: uuid.UUID
    host_organization_id: uuid.UUID
    guest_organization_id: uuid.UUID
    recipient_email: str
    created_at: Timestamp
    sent_at: Timestamp | None = Field(description="Null until the outbox sender delivers it.")


def dump(model: BaseModel) -> dict[str, Any]:
    """Return the JSON-ready dict of a response model."""
    return model.model_dump(mode="json")
