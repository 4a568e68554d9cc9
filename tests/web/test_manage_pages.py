"""CSV export, the connection's history, and Settings → API clients, in the browser face."""

from __future__ import annotations

import csv
import io
import re

import pytest

from app import audit
from app.audit import Subject
from app.extensions import db
from app.models import ApiClient
from tests.web.conftest import csrf_token, sign_in_as

GUESTS = ("Alder Foods", "Birch Logistics", "Cobalt Retail", "Dune Labs")


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def northwind(signed_in, host_with_guests):
    """A signed-in admin of a host with four guests; returns (client, host, guests)."""
    host, guests = host_with_guests("Northwind Supplies", GUESTS)
    return signed_in(host), host, guests


def csv_rows(response) -> list[dict[str, str]]:
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body[1:])))


# -- CSV export -----------------------------------------------------------------------------------


def test_export_holds_every_guest_of_the_filters_in_their_order(northwind):
    """Does the CSV of a filtered, sorted dashboard hold all its guests, not one page?"""
    client, host, _ = northwind
    response = client.get(
        f"/orgs/{host}/guest-connections.csv?search_text=o&order_dir=desc&limit=1&offset=1"
    )
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert re.fullmatch(
        r'attachment; filename="guest-connections-\d{4}-\d{2}-\d{2}\.csv"',
        response.headers["Content-Disposition"],
    )
    assert response.headers["Cache-Control"] == "no-store"
    assert [row["guest_name"] for row in csv_rows(response)] == [
        "Cobalt Retail",
        "Birch Logistics",
        "Alder Foods",
    ]


def test_export_defuses_formulas(northwind, make_org, make_connection):
    client, host, _ = northwind
    make_connection(host, make_org('=HYPERLINK("http://evil.example")'))
    rows = csv_rows(client.get(f"/orgs/{host}/guest-connections.csv?search_text=evil"))
    assert rows[0]["guest_name"] == '\'=HYPERLINK("http://evil.example")'


def test_dashboard_links_to_the_export_of_its_filters(northwind):
    """Does the export link keep the filters and order but drop the page?"""
    client, host, _ = northwind
    page = text(client.get(f"/orgs/{host}/guest-connections?search_text=o&limit=1&offset=1"))
    assert f'href="/orgs/{host}/guest-connections.csv?search_text=o"' in page
    assert "Export all 3 as CSV" in page


def test_export_with_a_bad_filter_is_a_422_page(northwind):
    client, host, _ = northwind
    response = client.get(f"/orgs/{host}/guest-connections.csv?limit=0&order_by=shoe_size")
    assert response.status_code == 422
    assert response.mimetype == "text/html"


def test_export_of_another_organization_is_refused(signed_in, host_with_guests):
    host_a, _ = host_with_guests("Host A", ("Alder Foods",))
    host_b, _ = host_with_guests("Host B", ("Birch Logistics",))
    client = signed_in(host_a)
    response = client.get(f"/orgs/{host_b}/guest-connections.csv")
    assert response.status_code == 403
    assert "Birch" not in text(response)


def test_export_signed_out_goes_to_sign_in(client, host_with_guests):
    host, _ = host_with_guests("Host A", ("Alder Foods",))
    response = client.get(f"/orgs/{host}/guest-connections.csv?search_text=a")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")


# -- history on the detail page -------------------------------------------------------------------


def test_archiving_from_the_page_is_in_the_history(app, northwind):
    """Does the detail page show who archived and unarchived, what changed, and when?"""
    client, host, guests = northwind
    detail = f"/orgs/{host}/guest-connections/{guests['Alder Foods']}"
    for archived in ("true", "false"):
        client.post(
            f"{detail}/archived",
            data={"archived": archived, "csrf_token": csrf_token(client, detail)},
        )

    page = text(client.get(detail))

    events = re.findall(r"<strong>(\w+)</strong> by ([^\n]+)", page)
    assert events == [
        ("Unarchived", "admin@host.example"),
        ("Archived", "admin@host.example"),
        ("Connected", "command line (" + events[2][1].split("(", 1)[1]),
    ]
    assert "<code>archived: false → true</code>" in page
    assert "<code>archived: true → false</code>" in page
    with app.app_context():
        [latest, *_] = audit.list_events(host, Subject.guest_connection(guests["Alder Foods"]))
        assert latest.actor_kind.value == "user"
        assert latest.action == "guest_connection.unarchived"


def test_history_shows_only_this_hosts_events(northwind, make_org, make_connection):
    """Is another host's history with the same guest kept out of this host's page?"""
    client, host, guests = northwind
    other = make_org("Other Host")
    make_connection(other, guests["Alder Foods"], owner_email="secret@other.example")
    page = text(client.get(f"/orgs/{host}/guest-connections/{guests['Alder Foods']}"))
    assert "secret@other.example" not in page
    assert len(re.findall(r'class="audit-trail__event"', page)) == 1


# -- Settings → API clients -----------------------------------------------------------------------

SETTINGS = "/orgs/{host}/settings/api-clients"


def create(client, host, name="ERP integration"):
    path = SETTINGS.format(host=host)
    return client.post(path, data={"name": name, "csrf_token": csrf_token(client, path)})


def secret_of(response) -> tuple[str, str]:
    page = text(response)
    client_id = re.search(r'id="new-client-id"[^>]*value="([^"]+)"', page).group(1)
    secret = re.search(r'id="new-client-secret"[^>]*value="([^"]+)"', page).group(1)
    return client_id, secret


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owners_and_admins_see_the_page_in_the_menu(signed_in, host_with_guests, role):
    host, _ = host_with_guests("Host A", ())
    client = signed_in(host, role=role)
    page = text(client.get(f"/orgs/{host}/guest-connections"))
    assert f'href="/orgs/{host}/settings/api-clients"' in page
    response = client.get(SETTINGS.format(host=host))
    assert response.status_code == 200
    assert "No active API clients" in text(response)


def test_create_shows_the_secret_once_and_it_works(app, client, northwind):
    """Is a new client's secret shown once, usable for a token, and never shown again?"""
    client, host, _ = northwind
    response = create(client, host)
    assert response.status_code == 201
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


def test_a_new_client_was_never_used(northwind):
    client, host, _ = northwind
    create(client, host)
    assert 'data-label="Last used"><span class="muted">Never</span>' in text(
        client.get(SETTINGS.format(host=host))
    )


@pytest.mark.parametrize(("name", "message"), [("", "1 to 100"), ("x" * 101, "1 to 100")])
def test_a_bad_name_is_explained(northwind, name, message):
    client, host, _ = northwind
    response = create(client, host, name=name)
    assert response.status_code == 422
    assert message in text(response)
    assert "No active API clients" in text(response)


def test_revoke_after_confirmation_stops_the_client(app, northwind):
    """Does revoking move the client to "Revoked", record it, and stop its tokens?"""
    client, host, _ = northwind
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


def test_revoke_needs_the_csrf_token(app, northwind):
    client, host, _ = northwind
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


def test_members_do_not_see_it_and_are_refused(app, signed_in, host_with_guests, make_client):
    """Is a plain member kept out of the page, its form and its revoke button?"""
    host, _ = host_with_guests("Host A", ("Alder Foods",))
    existing = make_client(host, name="Existing")
    client = signed_in(host, role="member")
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


def test_the_page_has_no_inline_script(northwind):
    client, host, _ = northwind
    page = text(create(client, host))
    assert "<script>" not in page and " style=" not in page
    assert '<script src="/static/js/copy.js">' in page
    assert 'data-copy="new-client-secret" hidden' in page  # shown by the script only


def test_a_membership_from_the_sign_in_claim_is_recorded(app, client, oidc_provider, make_org):
    """Is a membership granted by the provider's organization claim in the trail?"""
    org = make_org("Northwind Supplies")
    app.config["OIDC_ORG_CLAIM"] = "orgs"
    try:
        claims = {"email": "new@northwind.example", "email_verified": True, "orgs": [str(org)]}
        assert sign_in_as(client, oidc_provider, "sub-new", claims).status_code == 302
    finally:
        app.config["OIDC_ORG_CLAIM"] = None
    with app.app_context():
        [event] = [e for e in audit.list_events(org) if e.action == "membership.added"]
        assert event.actor_kind.value == "user"
        assert event.actor_label == "new@northwind.example (organization claim at sign-in)"
        assert event.changes == {"email": [None, "new@northwind.example"], "role": [None, "member"]}
