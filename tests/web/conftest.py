"""Fixtures for the pages: a signed-in browser session through the real sign-in flow."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from tests.oidc_provider import ProviderHandle, oidc_provider, relative  # noqa: F401

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/sign-in") -> str:
    """Return the CSRF token of the form on a page."""
    page = client.get(path)
    match = CSRF.search(page.get_data(as_text=True))
    assert match, f"no form with a CSRF token on {path}"
    return match.group(1)


def start_sign_in(client: FlaskClient, next_path: str | None = None):
    """Press "Sign in" on our page; return the redirect to the provider."""
    data = {"csrf_token": csrf_token(client)}
    if next_path is not None:
        data["next"] = next_path
    response = client.post("/sign-in", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def sign_in_as(
    client: FlaskClient,
    provider: ProviderHandle,
    sub: str,
    claims: dict,
    next_path: str | None = None,
):
    """Go through the whole sign-in flow as this person; return our callback's response."""
    provider.set_person(sub, claims)
    to_provider = start_sign_in(client, next_path)
    back = provider.approve(to_provider.headers["Location"], sub)
    return client.get(relative(back))


@pytest.fixture
def signed_in(client: FlaskClient, oidc_provider: ProviderHandle, make_member):  # noqa: F811
    """Return a function that makes a member of an organization and signs them in."""

    def sign_in(
        org: uuid.UUID, email: str = "admin@host.example", role: str = "admin"
    ) -> FlaskClient:
        make_member(org, email, role=role)
        response = sign_in_as(
            client, oidc_provider, f"sub-{email}", {"email": email, "email_verified": True}
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return sign_in


@pytest.fixture
def host_with_guests(make_org, make_connection) -> Callable:
    """Return a function making a host with named guests; it returns (host, {name: guest id})."""

    def make(host_name: str = "Northwind Supplies", guests: tuple[str, ...] = ()) -> tuple:
        host = make_org(host_name)
        ids = {}
        for name in guests:
            ids[name] = make_org(name, f"finance@{name.split()[0].lower()}.example")
            make_connection(host, ids[name], owner_email="sales@northwind.example")
        return host, ids

    return make
