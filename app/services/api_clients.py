"""API clients: the credentials an organization's own systems use, and the tokens they get.

One rule decides whether a client may act: it exists and is not revoked (ACTIVE). Issuing a
token and accepting one both apply it, so a revoked client's unexpired tokens stop working.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, update

from app.access import Principal
from app.database import HotSelect
from app.errors import InvalidClientCredentials, InvalidToken, NotFound
from app.extensions import db
from app.models import ApiClient
from app.services import audit
from app.services.audit import Actor, AuditAction, Subject
from app.services.organizations import checked_name, get_organization
from app.services.tokens import (
    client_secret_matches,
    hash_client_secret,
    issue_access_token,
    new_client_credentials,
    verify_access_token,
)

# The one "active client" rule.
ACTIVE = ApiClient.revoked_at.is_(None)
# Active clients this process has seen, remembered for CLIENT_REVOCATION_CACHE_SECONDS.
ACTIVE_CLIENTS_KEPT = 10_000
# Recording every token request would make each one a write; a minute's precision is plenty.
LAST_USED_PRECISION = timedelta(minutes=1)

# Built once: building these expressions took as long as running them (hot paths).
_ACTIVE_CLIENT = HotSelect(
    db.select(ApiClient.organization_id, ApiClient.secret_hash, ApiClient.last_used_at).where(
        ApiClient.client_id == bindparam("client_id"), ACTIVE
    )
)


@dataclass
class ActiveClient:
    """What a process remembers of an active client it read (see _active_client)."""

    organization_id: uuid.UUID
    secret_hash: str
    last_used_at: datetime | None
    read_at: float  # time.monotonic()


class ApiClientNotFound(NotFound):
    code = "api_client_not_found"
    message = "There is no active API client with that client id."


def create_api_client(
    organization_id: uuid.UUID, name: str, *, actor: Actor
) -> tuple[ApiClient, str]:
    """Create a client for the organization; return it and its secret (never stored in clear)."""
    get_organization(organization_id)
    name = checked_name(name, max_length=100)
    client_id, secret = new_client_credentials()
    client = ApiClient(
        organization_id=organization_id,
        name=name,
        client_id=client_id,
        secret_hash=hash_client_secret(secret),
    )
    db.session.add(client)
    audit.record(
        organization_id,
        actor,
        AuditAction.API_CLIENT_CREATED,
        Subject.api_client(client_id),
        {"name": (None, name), "client_id": (None, client_id)},
    )
    db.session.commit()
    return client, secret


def list_api_clients(organization_id: uuid.UUID) -> list[ApiClient]:
    """Return the organization's clients: active ones first, newest first within each."""
    return list(
        db.session.scalars(
            db.select(ApiClient)
            .where(ApiClient.organization_id == organization_id)
            .order_by(ApiClient.revoked_at.is_not(None), ApiClient.created_at.desc(), ApiClient.id)
        )
    )


def revoke_api_client(
    client_id: str, organization_id: uuid.UUID | None = None, *, actor: Actor
) -> ApiClient:
    """Revoke an active client (of this organization, when given): its tokens stop working."""
    query = db.select(ApiClient).where(ApiClient.client_id == client_id, ACTIVE)
    if organization_id is not None:
        query = query.where(ApiClient.organization_id == organization_id)
    client = db.session.scalar(query)
    if client is None:
        raise ApiClientNotFound(f"There is no active API client {client_id!r}.")
    client.revoked_at = datetime.now(UTC)
    _active_clients().pop(client.client_id, None)  # this process refuses its tokens at once
    audit.record(
        client.organization_id,
        actor,
        AuditAction.API_CLIENT_REVOKED,
        Subject.api_client(client.client_id),
        {"revoked_at": (None, client.revoked_at)},
    )
    db.session.commit()
    return client


def issue_token(client_id: str, client_secret: str) -> tuple[str, int]:
    """Return an access token for an active client's credentials and its lifetime in seconds.

    Raises InvalidClientCredentials for an unknown or revoked client or a wrong secret.
    """
    # Written only when last_used_at moves: each token request would otherwise be a write.
    client = _active_client(client_id)
    if client is None or not client_secret_matches(client_secret, client.secret_hash):
        raise InvalidClientCredentials()
    now = datetime.now(UTC)
    if client.last_used_at is None or now - client.last_used_at > LAST_USED_PRECISION:
        db.session.execute(
            update(ApiClient).where(ApiClient.client_id == client_id).values(last_used_at=now)
        )
        db.session.commit()
        client.last_used_at = now
    return issue_access_token(client_id, client.organization_id)


def principal_for_token(token: str) -> Principal:
    """Return the API client a bearer token speaks for, or raise InvalidToken."""
    claims = verify_access_token(token)
    client = _active_client(claims["sub"])
    if client is None or str(client.organization_id) != claims.get("org"):
        raise InvalidToken()
    return Principal.api_client(claims["sub"], client.organization_id)


def _active_client(client_id: str) -> ActiveClient | None:
    """Return an active client as read, or None if it is unknown or revoked.

    This is what makes a revoked client's unexpired tokens stop working, and refuses it new
    ones. An active client is remembered for CLIENT_REVOCATION_CACHE_SECONDS (the read was a
    fifth of an API read, and of a token request a sixth on SQLite and over two fifths on
    PostgreSQL): a revocation reaches this process at once, every other one within that time.
    """
    remembered = _active_clients()
    now = time.monotonic()
    known = remembered.get(client_id)
    if (
        known is not None
        and now - known.read_at < current_app.config["CLIENT_REVOCATION_CACHE_SECONDS"]
    ):
        return known
    row = _ACTIVE_CLIENT.first(client_id=client_id)
    if row is None:
        remembered.pop(client_id, None)
        return None
    if len(remembered) >= ACTIVE_CLIENTS_KEPT:
        remembered.clear()  # bounded memory; clients are simply read again
    client = remembered[client_id] = ActiveClient(**row, read_at=now)
    return client


def _active_clients() -> dict[str, ActiveClient]:
    return current_app.extensions.setdefault("active_api_clients", {})
