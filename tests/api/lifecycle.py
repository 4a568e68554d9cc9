"""Small helpers shared by the connection-lifecycle tests: invite, accept, ask, submit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta


def in_days(days: float) -> str:
    """Return an RFC 3339 UTC timestamp this many days from now."""
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def invite(api, token: str, host: uuid.UUID, email: str = "guest@alder.example", **body):
    """POST an invitation as the host; return the response."""
    payload = {"email": email, "expired_at": in_days(7), **body}
    return api.call("POST", "/v1/guest-invitations", token=token, requester=host, json=payload)


def accept(api, token: str, guest: uuid.UUID, host: uuid.UUID, invitation_token: str):
    """Accept an invitation as the guest; return the response."""
    return api.call(
        "POST",
        "/v1/host-connections",
        token=token,
        requester=guest,
        json={"host_organization_id": str(host), "invitation_token": invitation_token},
    )


def request_analytics(api, token: str, host: uuid.UUID, guest: uuid.UUID):
    return api.call(
        "POST", f"/v1/organizations/{guest}/analytics/requests", token=token, requester=host
    )


def submit_score(api, token: str, guest: uuid.UUID, score):
    return api.call(
        "POST",
        f"/v1/organizations/{guest}/analytics",
        token=token,
        requester=guest,
        json={"total_score": score},
    )
