"""Fixtures for the pages: signed-in hosts and guests, their guests, and the forms they send."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from tests.conftest import csrf_token, sign_in_as

INVITATION_LINK = re.compile(r'id="invitation-link"[^>]*value="([^"]+)"')
HOST_ADMIN = "admin@northwind.example"
GUEST_ADMIN = "cfo@alder.example"
GUESTS = ("Alder Foods", "Birch Logistics", "Cobalt Retail")


def text(response) -> str:
    return response.get_data(as_text=True)


def post_form(client: FlaskClient, path: str, form_page: str, **form):
    """POST a form to path with the CSRF token of the page the form is on."""
    return client.post(path, data={"csrf_token": csrf_token(client, form_page), **form})


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


@pytest.fixture
def northwind(signed_in, host_with_guests) -> tuple:
    """A signed-in admin of a host with three guests; returns (client, host, guests)."""
    host, guests = host_with_guests("Northwind Supplies", GUESTS)
    return signed_in(host), host, guests


# -- two organizations, two browsers: inviting and accepting --------------------------------------


@pytest.fixture
def host_admin(signed_in, host) -> tuple:
    """The host, with its admin signed in on the test client; returns (client, host)."""
    return signed_in(host, HOST_ADMIN), host


@pytest.fixture
def guest_admin(app, guest, make_member, oidc_provider) -> tuple:
    """The guest, with its admin signed in on a second client; returns (client, guest)."""
    make_member(guest, GUEST_ADMIN, role="admin")
    client = app.test_client()
    sign_in_as(
        client, oidc_provider, f"sub-{GUEST_ADMIN}", {"email": GUEST_ADMIN, "email_verified": True}
    )
    return client, guest


@pytest.fixture
def connected(host_admin, guest_admin) -> tuple:
    """The guest accepted an invitation; returns (host client, host, guest client, guest)."""
    host_client, host = host_admin
    guest_client, guest = guest_admin
    link = invitation_link(invite_on_page(host_client, host))
    accept_on_page(guest_client, link, organization_id=str(guest))
    return host_client, host, guest_client, guest


def invite_on_page(client: FlaskClient, host: uuid.UUID, email: str = GUEST_ADMIN, days="14"):
    """Invite from the host's dashboard; return the page showing the link, else the refusal."""
    return see_other(
        client,
        post_form(
            client,
            f"/orgs/{host}/invitations",
            f"/orgs/{host}/guest-connections",
            email=email,
            days=days,
        ),
    )


def see_other(client: FlaskClient, response):
    """Follow a form's 303 See Other (its success) to the page it leads to; else return it."""
    if response.status_code == 303:
        return client.get(response.headers["Location"])
    return response


def invitation_link(response) -> str:
    """Return the invitation link shown, once, after inviting."""
    match = INVITATION_LINK.search(text(response))
    assert match, text(response)
    return html.unescape(match.group(1))


def invitation_path(link: str) -> str:
    """Return the link's path and query on this site."""
    return link[link.index("/invitations/") :]


def accept_on_page(client: FlaskClient, link: str, **form):
    """Open the invitation link and press accept with the form's values; return the response."""
    page = client.get(invitation_path(link))
    token = re.search(r'name="token" value="([^"]+)"', text(page)).group(1)
    return post_form(client, "/invitations/accept", invitation_path(link), token=token, **form)
