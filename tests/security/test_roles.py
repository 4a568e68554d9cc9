# ruff: noqa: E501 - the matrix reads best as one row per line
"""Who inside an organization may do what: the role matrix of README and SECURITY.md, walked.

`member` reads; `admin` also manages the organization's guests and hosts; `owner` also manages
API clients, members (CLI) and settings. An API client acts as `owner`. For each row, each role
and a person with no membership: allowed → success; below → 403 with the contract's body (the
API) or the error page (the pages), and nothing changed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from app.access import Principal
from app.api import endpoints
from app.extensions import db
from app.models import (
    AnalyticsRun,
    ApiClient,
    AuditEvent,
    ConnectionAction,
    FinancialStatement,
    GuestInvitation,
    OutboxMessage,
    SavedFilter,
    ScoreChange,
    SsoLink,
    WebhookEndpoint,
)
from tests.conftest import SAFE_STATEMENT, csrf_token, in_days, sign_in_as

ROLES = ["owner", "admin", "member", "none"]
HOOK = "http://127.0.0.1:9/hook"  # a webhook target on loopback (allowed in these tests)
RANK = {"none": -1, "member": 0, "admin": 1, "owner": 2}


@dataclass(frozen=True)
class Row:
    """One operation: who acts (the host or the guest), how, and the lowest role allowed."""

    operation: str
    acting: str  # "host" or "guest": the organization the person's role is in
    method: str
    path: str  # with {host}, {guest}, {left} (a guest that disconnected), {invitation}
    lowest: str
    form: tuple[tuple[str, str], ...] = ()
    json: bool = False


API = [
    Row("list guest connections", "host", "GET", "/v1/guest-connections", "member"),
    Row("read a guest connection", "host", "GET", "/v1/guest-connections/{guest}", "member"),
    Row("read a score history", "host", "GET", "/v1/guest-connections/{guest}/score-history", "member"),
    Row("archive a guest connection", "host", "PATCH", "/v1/guest-connections/{guest}", "admin", json=True),
    Row("act on many guests", "host", "POST", "/v1/guest-connections/bulk", "admin", json=True),
    Row("notify a disconnected guest", "host", "POST", "/v1/guest-connections/{left}/disconnection-notification", "admin"),
    Row("list invitations", "host", "GET", "/v1/guest-invitations", "member"),
    Row("read an invitation", "host", "GET", "/v1/guest-invitations/{invitation}", "member"),
    Row("invite a guest", "host", "POST", "/v1/guest-invitations", "admin", json=True),
    Row("resend an invitation", "host", "POST", "/v1/guest-invitations/{invitation}/resend", "admin", json=True),
    Row("archive an invitation", "host", "PATCH", "/v1/guest-invitations/{invitation}", "admin", json=True),
    Row("request analytics", "host", "POST", "/v1/organizations/{guest}/analytics/requests", "admin"),
    Row("list hosts", "guest", "GET", "/v1/host-connections", "member"),
    Row("read a host connection", "guest", "GET", "/v1/host-connections/{host}", "member"),
    Row("accept an invitation", "guest", "POST", "/v1/host-connections", "admin", json=True),
    Row("disconnect from a host", "guest", "PATCH", "/v1/host-connections/{host}", "admin", json=True),
    Row("read an organization", "guest", "GET", "/v1/organizations/{guest}", "member"),
    Row("list financial statements", "guest", "GET", "/v1/organizations/{guest}/financial-statements", "member"),
    Row("add a financial statement", "guest", "POST", "/v1/organizations/{guest}/financial-statements", "admin", json=True),
    Row("start an analytics run", "guest", "POST", "/v1/organizations/{guest}/analytics", "admin"),
    Row("list analytics runs", "guest", "GET", "/v1/organizations/{guest}/analytics", "member"),
    Row("read an analytics run", "guest", "GET", "/v1/organizations/{guest}/analytics/{run}", "member"),
    Row("list webhook endpoints", "host", "GET", "/v1/webhook-endpoints", "owner"),
    Row("add a webhook endpoint", "host", "POST", "/v1/webhook-endpoints", "owner", json=True),
    Row("send a test event", "host", "POST", "/v1/webhook-endpoints/{endpoint}/test", "owner"),
    Row("read a webhook's deliveries", "host", "GET", "/v1/webhook-endpoints/{endpoint}/deliveries", "owner"),
    Row("delete a webhook endpoint", "host", "DELETE", "/v1/webhook-endpoints/{endpoint}", "owner"),
]  # fmt: skip

PAGES = [
    Row("dashboard", "host", "GET", "/orgs/{host}/guest-connections", "member"),
    Row("guest detail", "host", "GET", "/orgs/{host}/guest-connections/{guest}", "member"),
    Row("CSV export", "host", "GET", "/orgs/{host}/guest-connections.csv", "member"),
    Row("invitations list", "host", "GET", "/orgs/{host}/invitations", "member"),
    Row("hosts list", "guest", "GET", "/orgs/{guest}/hosts", "member"),
    Row("invite", "host", "POST", "/orgs/{host}/invitations", "admin", (("email", "new@guest.example"), ("days", "14"))),
    Row("resend an invitation", "host", "POST", "/orgs/{host}/invitations/{invitation}/resend", "admin", (("days", "14"),)),
    Row("withdraw an invitation", "host", "POST", "/orgs/{host}/invitations/{invitation}/archived", "admin", (("archived", "true"),)),
    Row("archive a guest", "host", "POST", "/orgs/{host}/guest-connections/{guest}/archived", "admin", (("archived", "true"),)),
    Row("save a dashboard filter", "host", "POST", "/orgs/{host}/guest-connections/saved-filters", "member", (("name", "Mine"), ("query", "search_text=a"))),
    Row("confirm a bulk action", "host", "GET", "/orgs/{host}/guest-connections/bulk?action=archive&guest_organization_ids={guest}", "admin"),
    Row("bulk archive", "host", "POST", "/orgs/{host}/guest-connections/bulk", "admin", (("action", "archive"), ("guest_organization_ids", "{guest}"))),
    Row("request analytics", "host", "POST", "/orgs/{host}/guest-connections/{guest}/analytics-request", "admin"),
    Row("notify a disconnected guest", "host", "POST", "/orgs/{host}/guest-connections/{left}/disconnection-notification", "admin"),
    Row("disconnect from a host", "guest", "POST", "/orgs/{guest}/hosts/{host}/status", "admin", (("status", "disconnected"),)),
    Row("analytics page", "guest", "GET", "/orgs/{guest}/analytics", "member"),
    Row("add a financial statement", "guest", "POST", "/orgs/{guest}/financial-statements", "admin", tuple(SAFE_STATEMENT.items())),
    Row("start an analytics run", "guest", "POST", "/orgs/{guest}/analytics", "admin"),
    Row("webhooks page", "host", "GET", "/orgs/{host}/settings/webhooks", "owner"),
    Row("add a webhook endpoint", "host", "POST", "/orgs/{host}/settings/webhooks", "owner", (("url", HOOK),)),
    Row("a webhook's deliveries", "host", "GET", "/orgs/{host}/settings/webhooks/{endpoint}", "owner"),
    Row("send a test event", "host", "POST", "/orgs/{host}/settings/webhooks/{endpoint}/test", "owner"),
    Row("delete a webhook endpoint", "host", "POST", "/orgs/{host}/settings/webhooks/{endpoint}/delete", "owner"),
    Row("API clients page", "host", "GET", "/orgs/{host}/settings/api-clients", "owner"),
    Row("create an API client", "host", "POST", "/orgs/{host}/settings/api-clients", "owner", (("name", "ERP"),)),
    Row("members page", "host", "GET", "/orgs/{host}/settings/members", "owner"),
    Row("add a member", "host", "POST", "/orgs/{host}/settings/members", "owner", (("email", "new@host.example"), ("role", "owner"))),
    Row("settings page", "host", "GET", "/orgs/{host}/settings", "owner"),
    Row("link sign-in by claim", "host", "POST", "/orgs/{host}/settings/sso", "owner", (("issuer", "https://login.example.com"), ("claim_value", "acme"))),
]  # fmt: skip


@pytest.fixture
def world(app, host, guest, make_org, make_connection, api, token_for, monkeypatch) -> dict:
    """A host with a connected guest, a guest that left, an open invitation, a webhook endpoint;
    the guest's statement and run; the guest's own open invitation from another host."""
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_TARGETS", "true")
    left = make_org("Left Ltd", "left@left.example")
    make_connection(host, guest)
    make_connection(host, left, status="disconnected")
    host_token, guest_token = token_for(host), token_for(guest)
    invitation = api.invite(host_token, host, "pending@new.example").json["id"]
    other_host = make_org("Other Host", "hello@other.example")
    accept_token = api.invite(token_for(other_host), other_host, "x@y.example").json
    run = api.score(guest_token, guest).json["id"]
    endpoint = api.call(
        "POST", "/v1/webhook-endpoints", token=host_token, requester=host, json={"url": HOOK}
    ).json["id"]
    return {
        "run": run,
        "endpoint": endpoint,
        "host": host,
        "guest": guest,
        "left": left,
        "invitation": invitation,
        "other_host": other_host,
        "accept_token": accept_token["invitation_token"],
    }


def json_body(row: Row, world: dict) -> dict:
    return {
        "archive a guest connection": {"archived": True},
        "act on many guests": {
            "action": "archive",
            "guest_organization_ids": [str(world["guest"])],
        },
        "invite a guest": {"email": "new@guest.example", "expired_at": in_days(7)},
        "resend an invitation": {},
        "archive an invitation": {"archived": True},
        "accept an invitation": {
            "host_organization_id": str(world["other_host"]),
            "invitation_token": world["accept_token"],
        },
        "disconnect from a host": {"status": "disconnected"},
        "add a financial statement": SAFE_STATEMENT,
        "add a webhook endpoint": {"url": HOOK},
    }[row.operation]


def snapshot(app) -> tuple[int, ...]:
    """Return the count of every table a refused write could touch: a change moves one."""
    with app.app_context():
        return tuple(
            db.session.scalar(db.select(db.func.count()).select_from(model))
            for model in (AuditEvent, GuestInvitation, ConnectionAction, OutboxMessage, ScoreChange, ApiClient, SsoLink, FinancialStatement, AnalyticsRun, WebhookEndpoint, SavedFilter)
        )  # fmt: skip


def allowed(role: str, lowest: str) -> bool:
    return RANK[role] >= RANK[lowest]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", API, ids=lambda row: row.operation)
def test_the_api_follows_the_matrix(app, api, world, monkeypatch, row, role):
    """A person with this role (as the API would see them) on each operation."""
    acting = world[row.acting]
    roles = {} if role == "none" else {acting: role}
    monkeypatch.setattr(
        endpoints, "authenticate_api_client", lambda: Principal.user(uuid.uuid4(), roles)
    )
    before = snapshot(app)
    kwargs = {"json": json_body(row, world)} if row.json else {}

    response = api.call(row.method, row.path.format(**world), token="x", requester=acting, **kwargs)

    if allowed(role, row.lowest):
        assert response.status_code < 300, response.json
        return
    assert response.status_code == 403
    [detail] = response.json["detail"]
    if role == "none":
        assert detail["code"] == "requester_forbidden"
    else:
        assert detail == {
            "loc": [],
            "msg": "Your role in this organization does not allow this.",
            "type": "authorization",
            "code": "role_forbidden",
        }
    assert snapshot(app) == before


@pytest.mark.parametrize("row", API, ids=lambda row: row.operation)
def test_an_api_client_acts_as_owner(api, world, token_for, row):
    """Every operation is open to the organization's own API client."""
    kwargs = {"json": json_body(row, world)} if row.json else {}
    acting = world[row.acting]
    response = api.call(
        row.method, row.path.format(**world), token=token_for(acting), requester=acting, **kwargs
    )
    assert response.status_code < 300, response.json


def test_every_api_operation_declares_the_matrix_role():
    """Is the table above the whole API, with each operation's declared lowest role?"""
    declared = {
        (endpoint.method, endpoint.rule): endpoint.minimum_role.value
        for endpoint in endpoints.ENDPOINTS
        if endpoint.scenarios
    }
    expected = {
        (row.method, "/v1" + _flask_rule(row.path.removeprefix("/v1"))): row.lowest for row in API
    }
    assert declared == expected


def test_the_openapi_document_names_each_operations_lowest_role(client):
    paths = client.get("/v1/openapi.json").json["paths"]
    for row in API:
        path = "/v1" + _flask_rule(row.path.removeprefix("/v1")).replace("<", "{").replace(">", "}")
        operation = paths[path][row.method.lower()]
        assert operation["x-minimum-role"] == row.lowest, row.operation
        assert f"Lowest role: {row.lowest}" in operation["description"]


def _flask_rule(path: str) -> str:
    names = {
        "{host}": "<host_org_id>",
        "{left}": "<guest_org_id>",
        "{invitation}": "<invitation_id>",
        "{run}": "<run_id>",
        "{endpoint}": "<endpoint_id>",
    }
    for placeholder, rule in names.items():
        path = path.replace(placeholder, rule)
    if path.startswith("/organizations/"):
        return path.replace("{guest}", "<org_id>")
    return path.replace("{guest}", "<guest_org_id>")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", PAGES, ids=lambda row: row.operation)
def test_the_pages_follow_the_matrix(
    app, client, world, oidc_provider, make_member, make_org, row, role
):
    """A signed-in person with this role on each page and form."""
    acting = world[row.acting]
    email = f"{role}@{row.acting}.example"
    make_member(acting if role != "none" else make_org("Elsewhere"), email, role=_role(role))
    sign_in_as(client, oidc_provider, f"sub-{email}", {"email": email, "email_verified": True})
    path = row.path.format(**world)
    before = snapshot(app)

    if row.method == "GET":
        response = client.get(path)
    else:
        token = csrf_token(client, "/signed-out")  # its header holds the sign-out form
        form = {name: value.format(**world) for name, value in row.form}
        response = client.post(path, data={"csrf_token": token, **form})

    if allowed(role, row.lowest):
        assert response.status_code in (200, 201, 302, 303), response.status_code
        assert response.status_code != 403
        return
    assert response.status_code == 403
    assert "Guest Connections" in response.get_data(as_text=True)  # our error page
    assert snapshot(app) == before


def _role(role: str) -> str:
    return "member" if role == "none" else role


@pytest.mark.parametrize(("role", "shown"), [("member", False), ("admin", True), ("owner", True)])
def test_pages_hide_the_controls_a_role_cannot_use(
    client, world, oidc_provider, make_member, role, shown
):
    """Does a member see the guests, yet no button they may not press?"""
    host = world["host"]
    email = f"{role}@host.example"
    make_member(host, email, role=role)
    sign_in_as(client, oidc_provider, f"sub-{email}", {"email": email, "email_verified": True})
    pages = [
        f"/orgs/{host}/guest-connections",
        f"/orgs/{host}/guest-connections/{world['guest']}",
        f"/orgs/{host}/guest-connections/{world['left']}",
        f"/orgs/{host}/invitations",
    ]
    html = "".join(client.get(page).get_data(as_text=True) for page in pages)
    assert "Alder Foods" in html
    for control in (
        "/invitations/{}/resend".format(world["invitation"]),
        f'action="/orgs/{host}/invitations"',
        "/archived",
        "/analytics-request",
        "/disconnection-notification",
    ):
        assert (control in html) == shown, control
    assert ("settings/api-clients" in html) == (role == "owner")
