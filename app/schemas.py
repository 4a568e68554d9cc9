"""The JSON contract as pydantic models; the OpenAPI document is generated from these."""

from __future__ import annotations

import enum
import re
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

# The contract's vocabulary, importable from here by the faces (which never import app.models).
from app.models import ActionStatus as ActionStatus
from app.models import ActionType as ActionType
from app.models import AnalyticsRunStatus as AnalyticsRunStatus
from app.models import ConnectionStatus as ConnectionStatus
from app.models import DeliveryStatus as DeliveryStatus
from app.models import InvitationStatus as InvitationStatus
from app.models import Role as Role


def format_timestamp(value: datetime) -> str:
    """Return RFC 3339 in UTC with microseconds, e.g. 2025-12-12T10:30:00.123456Z."""
    # Written by isoformat(), not strftime(): a third faster on every timestamp of every answer,
    # and years before 1000 get the four digits RFC 3339 asks for.
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(timespec="microseconds").removesuffix("+00:00") + "Z"


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


# C0 controls (NUL, tab, CR, LF, ...), DEL and C1 controls: never part of a name, an e-mail
# address or a line of text, and in an e-mail header or a log line they split it (injection).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CONTROL_CHARACTERS_MESSAGE = (
    "text must not contain control characters (such as NUL, line breaks or tabs)"
)


def has_control_characters(value: str) -> bool:
    return CONTROL_CHARACTERS.search(value) is not None


def refuse_control_characters(value: Any) -> Any:
    """Refuse text holding control characters: PostgreSQL cannot store NUL, and CR/LF would
    split e-mail headers and log lines."""
    if isinstance(value, str) and has_control_characters(value):
        raise ValueError(CONTROL_CHARACTERS_MESSAGE)
    return value


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")

    _refuse_control_characters = field_validator("*", mode="after")(refuse_control_characters)


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


# -- organizations --------------------------------------------------------------------------------


class Organization(Schema):
    id: uuid.UUID
    name: str = Field(min_length=1, max_length=300)
    email: str | None = Field(description="The organization's e-mail.")
    parent_organization_id: uuid.UUID | None = Field(description="Its parent (its group).")
    parent_organization_name: str | None
    created_at: Timestamp


# -- guest connections ----------------------------------------------------------------------------


class GuestConnection(Schema):
    host_organization_id: uuid.UUID = Field(description="The host (the target of the call).")
    guest_organization_id: uuid.UUID = Field(description="The guest organization.")
    status: ConnectionStatus = Field(description="Current status of the guest connection.")
    guest_name: str = Field(min_length=1, max_length=300, description="The guest's name.")
    guest_email: str | None = Field(description="The guest organization's e-mail.")
    owner_email: str | None = Field(
        min_length=1,
        max_length=100,
        description=(
            "E-mail of the host-side person responsible for this guest; null when the host "
            "invited with no owner e-mail and has no e-mail of its own."
        ),
        examples=["owner@host.com"],
    )
    archived: bool
    created_at: Timestamp
    updated_at: Timestamp
    total_score: float | None = Field(
        ge=0,
        le=100,
        description="The guest's total score, 0 to 100; null until calculated.",
        examples=[87.5],
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


# Every list is also a change feed: these two end each list's query.
UpdatedSince = Annotated[
    AwareDatetime | None,
    Field(
        description="Keep items whose updated_at is at or after this moment (RFC 3339).",
        examples=["2025-12-12T10:30:00.123456Z"],
    ),
]
Cursor = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=1000,
        description=(
            "Start after this position: the `next_cursor` of the previous page (keyset paging; "
            "opaque and signed). Keep the same filters, order_by and order_dir through a walk; "
            "offset must then be 0."
        ),
    ),
]
NEXT_CURSOR = "Pass it as `cursor` for the next page; null on the last page."


class GuestConnectionQuery(BaseModel):
    """Filters, order and page of a list of guest connections (the API's query, the page's URL)."""

    # The pages' URLs may carry more; the API refuses unknown parameters before parsing.
    model_config = ConfigDict(extra="ignore")

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
    _refuse_control_characters = field_validator("search_text", mode="after")(
        refuse_control_characters
    )
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
    updated_since: UpdatedSince = None
    cursor: Cursor = None

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
    next_cursor: str | None = Field(description=NEXT_CURSOR)


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

    # The pages' URLs may carry more; the API refuses unknown parameters before parsing.
    model_config = ConfigDict(extra="ignore")

    limit: int = Field(default=10, ge=1, le=100)
    # Bounded so that no database is asked for an offset beyond its integer range (500).
    offset: int = Field(default=0, ge=0, le=2**31 - 1)
    # Every list's filters refuse control characters too (search text reaches PostgreSQL).
    _refuse_control_characters = field_validator("*", mode="after")(refuse_control_characters)


# -- host connections (the guest's side) ----------------------------------------------------------


class HostConnection(Schema):
    host_organization_id: uuid.UUID = Field(description="The host organization.")
    guest_organization_id: uuid.UUID = Field(description="The guest (the target of the call).")
    host_name: str = Field(min_length=1, max_length=300, description="The host's name.")
    host_email: str | None = Field(description="The host organization's e-mail.")
    owner_email: str | None = Field(
        min_length=1,
        max_length=100,
        description="E-mail of the host-side person responsible for this guest, if any.",
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
    updated_since: UpdatedSince = None
    cursor: Cursor = None


class HostConnectionList(Schema):
    items: list[HostConnection]
    total_items: int = Field(ge=0)
    next_cursor: str | None = Field(description=NEXT_CURSOR)


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
    owner_email: str | None = Field(
        min_length=1,
        max_length=100,
        description="(ours) The host-side person responsible; null when nobody was named.",
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
            "default: the host organization's e-mail, else none (null)."
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
    updated_since: UpdatedSince = None
    cursor: Cursor = None


class GuestInvitationList(Schema):
    items: list[GuestInvitation]
    total_items: int = Field(ge=0)
    next_cursor: str | None = Field(description=NEXT_CURSOR)


# -- actions and analytics --------------------------------------------------------------------


class ConnectionAction(Schema):
    id: uuid.UUID
    host_organization_id: uuid.UUID = Field(description="The host that asked.")
    guest_organization_id: uuid.UUID = Field(description="The guest asked to run analytics.")
    action_type: ActionType
    status: ActionStatus = Field(description="`active` until the guest submits its analytics.")
    created_at: Timestamp
    updated_at: Timestamp


MAX_SCORE = 100  # a total score is a number from 0 to 100, as the pages show it


# -- financial statements and analytics runs ------------------------------------------------------

# ISO 4217's active currency codes.
CURRENCIES = frozenset(
    """AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN
    BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS
    GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW
    KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD
    NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD
    SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES
    VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG""".split()
)

# An amount: a decimal with at most two decimals and 16 digits before the point (a JSON number
# or a string such as "1250000.00"); never NaN or infinite.
Amount = Annotated[
    Decimal,
    Field(max_digits=18, decimal_places=2, allow_inf_nan=False, examples=["1250000.00"]),
]
# Amounts are written as strings in answers, so that no digit is lost to a float.
AmountOut = Annotated[
    Decimal,
    PlainSerializer(lambda value: f"{value:.2f}", return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+\.\d{2}$"}, mode="serialization"),
]


class FinancialStatementCreate(Schema):
    """One period's figures of the organization (the balance sheet and EBIT of that period)."""

    period_end: date = Field(
        description="The last day of the period, e.g. 2025-12-31; not in the future."
    )
    currency: str = Field(description="ISO 4217 code of every amount, e.g. EUR.", examples=["EUR"])
    total_assets: Amount = Field(gt=0, description="Total assets; more than 0.")
    total_liabilities: Amount = Field(gt=0, description="Total liabilities; more than 0.")
    current_assets: Amount = Field(ge=0, description="Current assets; at most total assets.")
    current_liabilities: Amount = Field(
        ge=0, description="Current liabilities; at most total liabilities."
    )
    retained_earnings: Amount = Field(description="Retained earnings; may be negative.")
    ebit: Amount = Field(description="Earnings before interest and taxes; may be negative.")
    equity: Amount = Field(description="Book value of equity; may be negative.")

    @field_validator("period_end")
    @classmethod
    def _not_in_the_future(cls, value: date) -> date:
        if value > datetime.now(UTC).date():
            raise ValueError("the period must have ended: period_end is in the future")
        if value.year < 1900:
            raise ValueError("period_end must be in 1900 or later")
        return value

    @field_validator("currency")
    @classmethod
    def _iso_4217(cls, value: str) -> str:
        if value not in CURRENCIES:
            raise ValueError("currency must be an ISO 4217 code in capitals, such as EUR or USD")
        return value

    @field_validator("current_assets")
    @classmethod
    def _current_assets_within_total(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        total = info.data.get("total_assets")
        if total is not None and value > total:
            raise ValueError("current assets cannot be larger than total assets")
        return value

    @field_validator("current_liabilities")
    @classmethod
    def _current_liabilities_within_total(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        total = info.data.get("total_liabilities")
        if total is not None and value > total:
            raise ValueError("current liabilities cannot be larger than total liabilities")
        return value


class FinancialStatement(Schema):
    id: uuid.UUID
    organization_id: uuid.UUID = Field(description="Whose statement it is.")
    period_end: date
    currency: str
    total_assets: AmountOut
    total_liabilities: AmountOut
    current_assets: AmountOut
    current_liabilities: AmountOut
    retained_earnings: AmountOut
    ebit: AmountOut
    equity: AmountOut
    created_at: Timestamp = Field(description="When it was recorded.")


class FinancialStatementList(Schema):
    items: list[FinancialStatement] = Field(description="Newest period first.")
    total_items: int = Field(ge=0)


class AnalyticsRunStart(Schema):
    """No body (the original's shape); an empty JSON object is accepted too.

    A run scores the latest financial statement: a score is computed, never submitted.
    """

    @model_validator(mode="before")
    @classmethod
    def _scores_are_computed(cls, data: Any) -> Any:
        if isinstance(data, dict) and "total_score" in data:
            problem = PydanticCustomError(
                "score_not_accepted",
                "Scores are computed, not submitted: add a financial statement, then start a "
                "run with no body",
            )
            raise ValidationError.from_exception_data(
                cls.__name__,
                [InitErrorDetails(type=problem, loc=("total_score",), input=data["total_score"])],
            )
        return data


class AnalyticsRun(Schema):
    """One scoring of the organization's latest statement. Never the statement's figures."""

    id: uuid.UUID
    organization_id: uuid.UUID = Field(description="The organization scored.")
    status: AnalyticsRunStatus = Field(
        description="`in_progress` (started), `processing` (being scored), `success`, `failed`."
    )
    created_at: Timestamp = Field(description="When it started (in_progress).")
    processing_at: Timestamp | None = Field(description="(ours) When scoring began.")
    updated_at: Timestamp = Field(description="When its status last changed.")
    analyzed_on: Timestamp | None = Field(description="When it succeeded; null otherwise.")
    total_score: float | None = Field(
        ge=0, le=100, description="The score, 0-100; null unless `success`.", examples=[87.48]
    )
    model: str | None = Field(
        description="The model that scored it, e.g. `Altman Z″`.", examples=["Altman Z″"]
    )
    model_value: float | None = Field(
        description="(ours) The model's own figure, e.g. Altman's Z″.", examples=[4.35]
    )
    zone: str | None = Field(
        description="The model's verdict; Altman Z″: `safe`, `grey` or `distress`.",
        examples=["safe"],
    )
    statement_period_end: date | None = Field(description="The period of the statement scored.")
    error: str | None = Field(description="Why it failed; null unless `failed`.")


class AnalyticsRunQuery(Page):
    statuses: list[AnalyticsRunStatus] = Field(
        default_factory=lambda: list(AnalyticsRunStatus),
        min_length=1,
        description="Keep runs with these statuses (repeat the parameter); default all.",
    )


class AnalyticsRunList(Schema):
    items: list[AnalyticsRun] = Field(description="Newest first.")
    total_items: int = Field(ge=0)


class ScoreChange(Schema):
    total_score: float = Field(ge=0, le=MAX_SCORE)
    source: str = Field(
        description="`analytics` (an analytics run computed it) or `cli` (an operator set it)."
    )
    model: str = Field(
        description=(
            "The model that computed it, e.g. `Altman Z″`; `manual (before runs)` for scores "
            "typed before runs existed, `manual (command line)` for an operator's."
        )
    )
    run_id: uuid.UUID | None = Field(description="The analytics run that computed it, if any.")
    changed_at: Timestamp
    run: AnalyticsRun | None = Field(
        default=None, description="That run: score, model, zone and period, never the figures."
    )


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


# -- webhooks -------------------------------------------------------------------------------------


class WebhookEventType(enum.StrEnum):
    GUEST_CONNECTION_CREATED = "guest_connection.created"
    GUEST_CONNECTION_STATUS_CHANGED = "guest_connection.status_changed"
    GUEST_CONNECTION_SCORE_CHANGED = "guest_connection.score_changed"
    GUEST_CONNECTION_ARCHIVED = "guest_connection.archived"
    GUEST_CONNECTION_UNARCHIVED = "guest_connection.unarchived"
    GUEST_INVITATION_ACCEPTED = "guest_invitation.accepted"
    ANALYTICS_REQUEST_CREATED = "analytics_request.created"
    ANALYTICS_REQUEST_RESOLVED = "analytics_request.resolved"
    HOST_CONNECTION_STATUS_CHANGED = "host_connection.status_changed"
    PING = "ping"


class WebhookEndpointCreate(Schema):
    url: str = Field(
        min_length=1,
        max_length=2000,
        description=(
            "Where to POST the events: https (http too outside production). Refused if the "
            "host resolves to a loopback, private, link-local, multicast or unspecified address."
        ),
        examples=["https://erp.example.com/hooks/guest-connections"],
    )
    events: list[WebhookEventType] | None = Field(
        default=None,
        min_length=1,
        description="The event types to receive; default all. `ping` is always sent on test.",
    )


class WebhookEndpoint(Schema):
    id: uuid.UUID
    url: str
    events: list[WebhookEventType]
    enabled: bool = Field(description="False once it failed for 24 hours; see disabled_reason.")
    disabled_reason: str | None = None
    failing_since: Timestamp | None = Field(
        default=None, description="Since when every delivery failed; null when the last worked."
    )
    created_at: Timestamp


class CreatedWebhookEndpoint(WebhookEndpoint):
    secret: str = Field(
        description="The signing secret (whsec_...): shown only in this response.",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )


class WebhookEndpointList(Schema):
    items: list[WebhookEndpoint]
    total_items: int = Field(ge=0)


class WebhookDelivery(Schema):
    id: uuid.UUID
    message_id: str = Field(description="The webhook-id header: the same on every attempt.")
    event_type: WebhookEventType
    status: DeliveryStatus = Field(
        description="`pending` (until an attempt works or the last "
        "one fails), `succeeded` or `failed`."
    )
    attempts: int = Field(ge=0)
    last_status_code: int | None = Field(description="The receiver's last HTTP status.")
    last_error: str | None = Field(default=None, description="Why the last attempt failed.")
    next_attempt_at: Timestamp | None = Field(description="Null once succeeded or failed.")
    created_at: Timestamp


class WebhookDeliveryList(Schema):
    items: list[WebhookDelivery] = Field(description="Newest first.")
    total_items: int = Field(ge=0)


def dump(model: BaseModel) -> dict[str, Any]:
    """Return the JSON-ready dict of a response model."""
    return model.model_dump(mode="json")
