"""Fixtures for the API: who calls (for the per-endpoint access tables), and contract lists."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

# The contract's sortable fields of a guest connection, in its order.
ORDER_FIELDS = [
    "guest_name",
    "guest_email",
    "owner_email",
    "total_score",
    "created_at",
    "updated_at",
    "score_updated_at",
    "archived_at",
    "active_action_updated_at",
]


@pytest.fixture
def callers(
    host, host_token, guest, guest_token, make_org, make_connection, token_for
) -> Callable[[str], tuple[str, uuid.UUID, uuid.UUID]]:
    """Return a function giving (token, requester, target) for a caller named in a table.

    "host" and "guest" act as themselves; "other_host" and "other_guest" are a host and a guest
    with no tie to these two (the other guest has a host of its own), acting as themselves;
    "X_on_Y" is X's client acting as X on Y; "stranger_as_Y" is a stranger's client claiming to
    be Y.
    """
    own = {"host": (host, host_token), "guest": (guest, guest_token)}

    def other(name: str) -> tuple[uuid.UUID, str]:
        organization = make_org(name.replace("_", " ").title())
        if name == "other_guest":
            make_connection(make_org("Unrelated Host"), organization)
        return organization, token_for(organization)

    def caller(name: str) -> tuple[str, uuid.UUID, uuid.UUID]:
        if name in own:
            organization, token = own[name]
            return token, organization, organization
        if name in ("other_host", "other_guest"):
            organization, token = other(name)
            return token, organization, organization
        who, acting, target = name.partition("_on_") if "_on_" in name else name.partition("_as_")
        organization, token = own[who] if who in own else other(who)
        requester = organization if acting == "_on_" else own[target][0]
        return token, requester, own[target][0]

    return caller
