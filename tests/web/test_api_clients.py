"""Settings → API clients: create one (its secret shown once), list and revoke them."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.models import ApiClient
from app.services import audit
from tests.conftest import csrf_token, row_count
from tests.web.conftest import post_form, see_other, text

SETTINGS = "/orgs/{host}/settings/api-clients"


@pytest.fixture
def northwind_owner(signed_in, host_with_guests) -> tuple:
    """A signed-in owner of a host with no guests: API clients are the owner's to manage."""
    host, guests = host_with_guests("Northwind Supplies", ())
    return signed_in(host, role="owner"), host, guests


def create(client, host, name="ERP integration"):
    path = SETTINGS.format(host=host)
    return see_other(client, post_form(client, path, path, name=name))


def secret_of(response) -> tuple[str, str]:
    page = text(response)
    client_id = re.search(r'id="new-client-id"[^>]*value="([^"]+)"', page).group(1)
    secret = re.search(r'id="new-client-secret"[^>]*value="([^"]+)"', page).group(1)
    return client_id, secret


def test_owners_see_the_page_in_the_menu(signed_in, host_with_guests):
    role = "owner"
    host, _ = host_with_guests("Host A", ())
    client = signed_in(host, role=role)
    page = text(client.get(f"/orgs/{host}/guest-connections"))
    assert f'href="/orgs/{host}/settings/api-clients"' in page
    response = client.get(SETTINGS.format(host=host))
    assert response.status_code == 200
    assert "No active API clients" in text(response)


def test_a_reload_after_creating_makes_no_second_client(app, client, northwind_owner):
    """Post/Redirect/Get: is the secret shown once after the redirect, and does a reload of
    that page neither create another client nor show the secret again?"""
    client, host, _ = northwind_owner
    path = SETTINGS.format(host=host)
    response = post_form(client, path, path, name="ERP integration")
    assert response.status_code == 303
    assert response.headers["Location"] == path

    shown = client.get(path)
    assert "it is shown only this once" in text(shown)
    # Every box is typed (so styled), the secrets monospace with a Copy button.
    assert not re.search(r"<input(?![^>]*\btype=)", text(shown))
    assert 'data-copy="new-client-secret"' in text(shown)
    assert re.search(r'<input id="new-client-secret" class="code-input" type="text"', text(shown))
    _, secret = secret_of(shown)
    reloaded = text(client.get(path))

    assert "it is shown only this once" not in reloaded
    assert secret not in reloaded
    assert row_count(app, ApiClient) == 1


def test_create_shows_the_secret_once_and_it_works(app, client, northwind_owner):
    """Is a new client's secret shown once, usable for a token, and never shown again?"""
    client, host, _ = northwind_owner
    response = create(client, host)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "it is shown only this once" in text(response)
    client_id, secret = secret_of(response)

    token = client.post("/oauth2/token", json={"client_id": client_id, "client_secret": secret})
    assert token.status_code == 200

    listing = text(client.get(SETTINGS.format(host=host)))
    assert secret not in listing
    assert client_id in listing and "ERP integration" in listing
    assert re.search(r'data-label="Last used"><time datetime="20', listing)  # used just now
    with app.app_context():
        stored = db.session.scalar(db.select(ApiClient).where(ApiClient.client_id == client_id))
        assert secret not in stored.secret_hash
        [event] = [e for e in audit.list_events(host) if e.action == "api_client.created"]
        assert event.actor_kind.value == "user" and event.actor_label == "admin@host.example"


def test_a_new_client_was_never_used(northwind_owner):
    client, host, _ = northwind_owner
    create(client, host)
    assert 'data-label="Last used"><span class="muted">Never</span>' in text(
        client.get(SETTINGS.format(host=host))
    )


@pytest.mark.parametrize(("name", "message"), [("", "1 to 100"), ("x" * 101, "1 to 100")])
def test_a_bad_name_is_explained(northwind_owner, name, message):
    client, host, _ = northwind_owner
    response = create(client, host, name=name)
    assert response.status_code == 422
    assert message in text(response)
    assert "No active API clients" in text(response)


def test_revoke_after_confirmation_stops_the_client(app, northwind_owner):
    """Does revoking move the client to "Revoked", record it, and stop its tokens?"""
    client, host, _ = northwind_owner
    client_id, secret = secret_of(create(client, host))
    path = SETTINGS.format(host=host)
    page = text(client.get(path))
    assert "Systems using it stop working at once" in page  # the confirmation step

    response = client.post(
        f"{path}/{client_id}/revoke", data={"csrf_token": csrf_token(client, path)}
    )
    assert response.status_code == 302
    page = text(client.get(path))
    assert "is revoked; its tokens no longer work" in page
    assert "No active API clients" in page and "Revoked" in page
    token = client.post("/oauth2/token", json={"client_id": client_id, "client_secret": secret})
    assert token.status_code == 401
    with app.app_context():
        assert [e.action for e in audit.list_events(host)][:2] == [
            "api_client.revoked",
            "api_client.created",
        ]


def test_revoke_needs_the_csrf_token(app, northwind_owner):
    client, host, _ = northwind_owner
    client_id, _ = secret_of(create(client, host))
    response = client.post(f"{SETTINGS.format(host=host)}/{client_id}/revoke")
    assert response.status_code == 400
    with app.app_context():
        assert (
            db.session.scalar(
                db.select(ApiClient.revoked_at).where(ApiClient.client_id == client_id)
            )
            is None
        )


@pytest.mark.parametrize("role", ["member", "admin"])
def test_members_and_admins_do_not_see_it_and_are_refused(
    app, signed_in, host_with_guests, make_client, role
):
    """Is anyone below owner kept out of the page, its form and its revoke button?"""
    host, _ = host_with_guests("Host A", ("Alder Foods",))
    existing = make_client(host, name="Existing")
    client = signed_in(host, role=role)
    path = SETTINGS.format(host=host)
    dashboard = f"/orgs/{host}/guest-connections"

    assert "settings/api-clients" not in text(client.get(dashboard))
    page = client.get(path)
    assert page.status_code == 403
    assert "Existing" not in text(page)
    token = csrf_token(client, dashboard)
    assert client.post(path, data={"name": "Sneaky", "csrf_token": token}).status_code == 403
    revoke = client.post(f"{path}/{existing.client_id}/revoke", data={"csrf_token": token})
    assert revoke.status_code == 403
    with app.app_context():
        clients = db.session.scalars(db.select(ApiClient)).all()
        assert [(c.name, c.revoked_at) for c in clients] == [("Existing", None)]


def test_admins_of_another_organization_are_refused(app, signed_in, host_with_guests, make_client):
    """Can an admin neither see, create nor revoke another organization's clients?"""
    host_a, _ = host_with_guests("Host A", ())
    host_b, _ = host_with_guests("Host B", ())
    theirs = make_client(host_b, name="Theirs")
    client = signed_in(host_a, role="owner")
    path_b = SETTINGS.format(host=host_b)
    token = csrf_token(client, SETTINGS.format(host=host_a))

    assert client.get(path_b).status_code == 403
    assert client.post(path_b, data={"name": "X", "csrf_token": token}).status_code == 403
    assert (
        client.post(f"{path_b}/{theirs.client_id}/revoke", data={"csrf_token": token}).status_code
        == 403
    )
    # Through its own page, another organization's client is simply not found.
    own = client.post(
        f"{SETTINGS.format(host=host_a)}/{theirs.client_id}/revoke", data={"csrf_token": token}
    )
    assert own.status_code == 404
    with app.app_context():
        assert (
            db.session.scalar(
                db.select(ApiClient.revoked_at).where(ApiClient.client_id == theirs.client_id)
            )
            is None
        )
        assert db.session.scalar(db.select(db.func.count()).select_from(ApiClient)) == 1


def test_the_page_has_no_inline_script(northwind_owner):
    client, host, _ = northwind_owner
    page = text(create(client, host))
    assert "<script>" not in page and " style=" not in page
    assert '<script src="/static/js/copy.js">' in page
    assert 'data-copy="new-client-secret" hidden' in page  # shown by the script only


def test_the_api_clients_page_refuses_a_name_with_a_line_break(signed_in, host):
    client = signed_in(host, role="owner")
    page = f"/orgs/{host}/settings/api-clients"
    response = post_form(client, page, page, name="ERP\nintegration")
    assert response.status_code == 422
    assert "must not contain control characters" in text(response)
