"""API clients: the credentials an organization's own systems use to get tokens."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from app import audit
from app.audit import Actor, Subject
from app.errors import NotFound
from app.extensions import db
from app.models import ApiClient
from app.organizations import get_organization, invalid
from app.tokens import hash_client_secret, new_client_credentials


class ApiClientNotFound(NotFound):
    code = "api_client_not_found"
    message = "There is no active API client with that client id."


def create_api_client(
    organization_id: uuid.UUID, name: str, *, actor: Actor
) -> tuple[ApiClient, str]:
    """Create a client for the organization; return it and its secret (never stored in clear)."""
    get_organization(organization_id)
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise invalid("name", "The name must be 1 to 100 characters long.")
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
        "api_client.created",
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
    query = db.select(ApiClient).where(
        ApiClient.client_id == client_id, ApiClient.revoked_at.is_(None)
    )
    if organization_id is not None:
        query = query.where(ApiClient.organization_id == organization_id)
    client = db.session.scalar(query)
    if client is None:
        raise ApiClientNotFound(f"There is no active API client {client_id!r}.")
    client.revoked_at = datetime.now(UTC)
    audit.record(
        client.organization_id,
        actor,
        "api_client.revoked",
        Subject.api_client(client.client_id),
        {"revoked_at": (None, client.revoked_at)},
    )
    db.session.commit()
    return client
