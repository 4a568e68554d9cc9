"""The detail page is rendered once for what it shows: never older than its data or the clock."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from flask import template_rendered
from sqlalchemy import Update, update

from app.extensions import db
from app.models import GuestConnection, Membership, Organization, User
from app.web import filters, rendered_pages
from tests.conftest import sign_in_as
from tests.web.conftest import GUESTS, text

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@contextmanager
def templates_rendered(app) -> Iterator[list[str]]:
    names: list[str] = []

    def record(_sender, template, context, **_extra) -> None:
        names.append(template.name)

    template_rendered.connect(record, app)
    try:
        yield names
    finally:
        template_rendered.disconnect(record, app)


def write(app, statement) -> None:
    """Change rows directly, as any write of the app (or another process) would."""
    with app.app_context():
        db.session.execute(statement)
        db.session.commit()


def detail_path(host: uuid.UUID, guest: uuid.UUID) -> str:
    return f"/orgs/{host}/guest-connections/{guest}"


def test_a_second_view_renders_no_template_and_its_forms_still_work(
    app, northwind, make_org, make_connection
):
    client, host, _ = northwind
    guest = make_org("Delta Labs")
    make_connection(host, guest, score=55.55)  # its history holds a JSON list of changes
    path = detail_path(host, guest)

    with templates_rendered(app) as first_view:
        first = text(client.get(path))
    with templates_rendered(app) as second_view:
        second = text(client.get(path))

    assert first_view == ["guest_connections/detail.html"]
    assert second_view == []
    assert CSRF_FIELD.sub("", first) == CSRF_FIELD.sub("", second)
    assert "total_score: null → 55.55" in second
    # The archive form sits in a {% call %} block and the sign-out form in the layout: each
    # carries this view's token, which the form's check accepts.
    token = CSRF_FIELD.search(second).group(1)
    assert set(CSRF_FIELD.findall(second)) == {token}
    archived = client.post(f"{path}/archived", data={"archived": "true", "csrf_token": token})
    assert archived.status_code == 302


def test_two_people_get_each_their_own_token_and_controls(
    app, northwind, make_member, oidc_provider
):
    admin, host, guests = northwind
    path = detail_path(host, guests["Alder Foods"])
    admin_page = text(admin.get(path))
    make_member(host, "viewer@northwind.example", role="member")
    viewer = app.test_client()
    sign_in_as(
        viewer,
        oidc_provider,
        "sub-viewer",
        {"email": "viewer@northwind.example", "email_verified": True},
    )

    viewer_page = text(viewer.get(path))

    assert "Archive…" in admin_page and "Archive…" not in viewer_page
    assert "viewer@northwind.example" in viewer_page
    viewer_token = CSRF_FIELD.search(viewer_page).group(1)
    assert viewer_token not in admin_page
    signed_out = viewer.post("/sign-out", data={"csrf_token": viewer_token})
    assert signed_out.status_code == 302


def renamed(organization: str, name: str) -> Callable[[dict], Update]:
    return lambda ids: (
        update(Organization).where(Organization.id == ids[organization]).values(name=name)
    )


# What changes, as a statement on the page's ids, and a text the page shows only after it.
CHANGES: dict[str, tuple[Callable[[dict], Update], str]] = {
    "the connection": (
        lambda ids: (
            update(GuestConnection)
            .where(GuestConnection.guest_organization_id == ids["guest"])
            .values(owner_email="new.owner@northwind.example")
        ),
        "new.owner@northwind.example",
    ),
    "the guest's name": (renamed("guest", "Alder Foods Group"), "<h1>Alder Foods Group</h1>"),
    "a sister company at the host": (
        renamed("sister", "Birch Logistics Renamed"),
        "Birch Logistics Renamed</a>",
    ),
    "the host's name": (renamed("host", "Northwind Global"), "Guests of Northwind Global"),
    "the person's name": (lambda ids: update(User).values(name="Ada Admin"), "Ada Admin"),
}


@pytest.fixture
def page_with_a_sister(app, northwind, make_org) -> tuple:
    """Alder Foods and Birch Logistics under one parent; returns (client, path, ids)."""
    client, host, guests = northwind
    group = make_org("Helios Holdings")
    ids = {"host": host, "guest": guests["Alder Foods"], "sister": guests["Birch Logistics"]}
    write(
        app,
        update(Organization)
        .where(Organization.id.in_([ids["guest"], ids["sister"]]))
        .values(parent_id=group),
    )
    return client, detail_path(host, ids["guest"]), ids


@pytest.mark.parametrize("change", list(CHANGES))
def test_the_page_shows_a_change_at_once(app, page_with_a_sister, change):
    client, path, ids = page_with_a_sister
    statement, shown = CHANGES[change]
    assert shown not in text(client.get(path))

    write(app, statement(ids))

    assert shown in text(client.get(path))


def test_the_page_drops_what_a_lower_role_may_not_do_at_once(app, page_with_a_sister):
    client, path, ids = page_with_a_sister
    assert "Archive…" in text(client.get(path))

    write(
        app,
        update(Membership).where(Membership.organization_id == ids["host"]).values(role="member"),
    )
    after = text(client.get(path))

    assert "<h1>Alder Foods</h1>" in after and "Archive…" not in after


def test_relative_times_move_with_the_clock_on_a_remembered_page(app, northwind, monkeypatch):
    client, host, guests = northwind
    path = detail_path(host, guests["Alder Foods"])
    assert "just now" in text(client.get(path))  # connected a moment ago

    later = datetime.now(UTC) + timedelta(hours=3)
    monkeypatch.setattr(filters, "datetime", _clock_at(later))
    with templates_rendered(app) as rendered:
        page = text(client.get(path))

    assert rendered == []
    assert "3 hours ago" in page and "just now" not in page


def test_a_flash_message_shows_once_on_a_remembered_page(northwind):
    client, host, guests = northwind
    path = detail_path(host, guests[GUESTS[0]])
    token = CSRF_FIELD.search(text(client.get(path))).group(1)

    client.post(f"{path}/archived", data={"archived": "true", "csrf_token": token})

    assert "Alder Foods is archived." in text(client.get(path))
    assert "Alder Foods is archived." not in text(client.get(path))


def _clock_at(moment: datetime) -> type[datetime]:
    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return moment if tz is None else moment.astimezone(tz)

    return Clock


def test_the_kept_pages_stay_within_their_bound(app, northwind, monkeypatch):
    client, host, guests = northwind
    monkeypatch.setattr(rendered_pages, "PAGES_KEPT", 2)
    kept = app.extensions["rendered_pages"]
    kept.clear()

    for name in GUESTS:  # three pages, two kept at most
        assert f"<h1>{name}</h1>" in text(client.get(detail_path(host, guests[name])))

    assert 1 <= len(kept) <= 2
    assert f"<h1>{GUESTS[0]}</h1>" in text(client.get(detail_path(host, guests[GUESTS[0]])))
