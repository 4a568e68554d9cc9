"""Sessions that really end: kept on the server, the cookie a random id only; sign-out, a role
change, a removal, idleness and age all take effect on the very next request."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app import create_app
from app.config import ConfigError
from app.extensions import db
from app.models import BrowserSession, User, utcnow
from app.services.sessions import DatabaseSessions, RedisSessions
from tests import conftest
from tests.conftest import csrf_token, sign_in_as
from tests.security.test_scale_out import redis_available

EMAIL = "nora@northwind.example"


def session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    return cookie.value if cookie else ""


def stored_sessions(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(BrowserSession))


def dashboard(host) -> str:
    return f"/orgs/{host}/guest-connections"


@pytest.fixture
def nora(app, signed_in, make_org, make_connection):
    """An admin of a host with a guest, signed in; returns (client, host)."""
    host = make_org("Northwind Supplies")
    make_connection(host, make_org("Alder Foods"))
    return signed_in(host, EMAIL, role="admin"), host


def test_the_cookie_holds_a_random_id_only(app, nora):
    """Is the ID token (or anything else) out of the cookie, kept on the server instead?"""
    client, _ = nora
    cookie = session_cookie(client)
    assert len(cookie) >= 40 and "." not in cookie  # no signed payload: an opaque id
    with app.app_context():
        [row] = db.session.scalars(db.select(BrowserSession)).all()
    assert row.id.endswith(cookie)
    assert b"oidc_id_token" in row.data


def test_a_cookie_replayed_after_sign_out_opens_nothing(app, client, nora):
    """The reproduction: sign out, put the old cookie back; the dashboard is the sign-in page."""
    client, host = nora
    stolen = session_cookie(client)
    assert client.get(dashboard(host)).status_code == 200

    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/signed-out")})
    client.set_cookie("session", stolen)
    replayed = client.get(dashboard(host))
    creating = client.post(f"/orgs/{host}/settings/api-clients", data={"name": "Backdoor"})

    assert replayed.status_code == 302
    assert replayed.headers["Location"].startswith("/sign-in")
    assert creating.status_code in (302, 400)  # to sign-in, or refused without a CSRF token
    assert stored_sessions(app) == 0


def test_sign_in_gives_a_new_session_id(app, client, oidc_provider, make_org, make_member):
    """Is an id seen (or planted) before sign-in worthless after it?"""
    make_member(make_org("Northwind Supplies"), EMAIL, role="member")
    client.get("/sign-in")
    before = session_cookie(client)
    sign_in_as(client, oidc_provider, "sub-nora", {"email": EMAIL, "email_verified": True})
    assert session_cookie(client) and session_cookie(client) != before


def test_a_role_change_takes_effect_on_the_next_request(runner, nora):
    client, host = nora
    assert f'action="/orgs/{host}/invitations"' in client.get(dashboard(host)).text

    result = runner.invoke(
        args=["members", "set-role", "--org", str(host), "--email", EMAIL, "--role", "member"]
    )

    assert result.exit_code == 0, result.output
    page = client.get(dashboard(host))
    assert page.status_code == 200
    assert f'action="/orgs/{host}/invitations"' not in page.text
    token = csrf_token(client, dashboard(host))
    invite = client.post(
        f"/orgs/{host}/invitations", data={"csrf_token": token, "email": "g@x.example"}
    )
    assert invite.status_code == 403


def test_removing_a_member_ends_their_sessions_at_once(app, runner, nora, make_org, make_member):
    """Even a session that still has other organizations ends: the person signs in again."""
    client, host = nora
    make_member(make_org("Another Org"), EMAIL, role="member")

    result = runner.invoke(args=["members", "remove", "--org", str(host), "--email", EMAIL])

    assert result.exit_code == 0, result.output
    response = client.get(dashboard(host))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")
    assert stored_sessions(app) == 0


def page_statements(client, count_queries, path) -> list[str]:
    with count_queries() as statements:
        assert client.get(path).status_code == 200
    return statements


def reads_the_user(sql: str) -> bool:
    return "FROM users" in sql or "JOIN users" in sql


def set_session_user_id(app, user_id) -> None:
    with app.app_context():
        db.session.execute(db.update(BrowserSession).values(user_id=user_id))
        db.session.commit()


def test_a_page_reads_its_session_and_who_is_signed_in_in_one_statement(nora, count_queries):
    """Does a signed-in page read the session with its user and memberships, in one round trip,
    and still show the person's own organization and controls?"""
    client, host = nora
    statements = page_statements(client, count_queries, dashboard(host))

    [session_read] = [sql for sql in statements if sql.startswith("SELECT browser_sessions")]
    assert reads_the_user(session_read) and "memberships" in session_read
    assert not [sql for sql in statements if reads_the_user(sql) and sql != session_read]
    assert f'action="/orgs/{host}/invitations"' in client.get(dashboard(host)).text


def test_a_session_saved_without_its_user_id_still_signs_in(app, nora, count_queries):
    """A session row from before the user's id had a column (or one not yet written back) is
    still the person's: their user is read on its own."""
    client, host = nora
    set_session_user_id(app, None)

    statements = page_statements(client, count_queries, dashboard(host))

    assert [sql for sql in statements if reads_the_user(sql) and "browser_sessions" not in sql]
    assert f'action="/orgs/{host}/invitations"' in client.get(dashboard(host)).text


def test_the_session_data_not_its_user_id_column_says_who_is_signed_in(
    app, nora, make_org, make_member
):
    """The column is a copy for the join: pointing it at an owner of another organization
    gives that organization nothing."""
    client, host = nora
    other = make_org("Other Host")
    make_member(other, "owner@other.example", role="owner")
    with app.app_context():
        owner_id = db.session.scalar(db.select(User.id).where(User.email == "owner@other.example"))
    set_session_user_id(app, owner_id)

    assert client.get(dashboard(other)).status_code == 403
    assert f'action="/orgs/{host}/invitations"' in client.get(dashboard(host)).text


def test_an_idle_session_ends(app, nora):
    """A session unused for SESSION_IDLE_SECONDS is gone from the store."""
    client, host = nora
    with app.app_context():
        db.session.execute(
            db.update(BrowserSession).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    assert client.get(dashboard(host)).status_code == 302


def test_a_session_ends_at_its_absolute_lifetime(app, nora, monkeypatch):
    """However busy, a session ends SESSION_MAX_AGE_SECONDS after sign-in."""
    client, host = nora
    assert client.get(dashboard(host)).status_code == 200
    monkeypatch.setitem(app.config, "SESSION_MAX_AGE_SECONDS", -1)
    response = client.get(dashboard(host))
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")


def test_use_moves_the_idle_deadline(app, nora):
    client, host = nora
    with app.app_context():
        db.session.execute(
            db.update(BrowserSession).values(expires_at=utcnow() + timedelta(seconds=5))
        )
        db.session.commit()
    with client.session_transaction() as session:
        session["_seen"] = 0  # last refreshed long ago
    assert client.get(dashboard(host)).status_code == 200
    with app.app_context():
        expires_at = db.session.scalar(db.select(BrowserSession.expires_at))
    assert expires_at > utcnow() + timedelta(seconds=app.config["SESSION_IDLE_SECONDS"] - 60)


def test_the_database_is_the_default_store_and_redis_a_setting(tmp_path):
    app = create_app(conftest.test_config(tmp_path))
    # The pages' sessions (JSON requests get none: app.http.PagesOnlySessions).
    assert isinstance(app.session_interface.pages, DatabaseSessions)
    redis_app = create_app(
        conftest.test_config(
            tmp_path, SESSION_TYPE="redis", SESSION_REDIS_URL="redis://127.0.0.1:6379/15"
        )
    )
    assert isinstance(redis_app.session_interface.pages, RedisSessions)
    for each in (app, redis_app):
        with each.app_context():
            db.engine.dispose()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"SESSION_TYPE": "memcached"}, "SESSION_TYPE must be sqlalchemy or redis"),
        ({"SESSION_TYPE": "redis"}, "needs SESSION_REDIS_URL"),
    ],
)
def test_session_settings_are_checked(tmp_path, settings, message):
    with pytest.raises(ConfigError, match=message):
        create_app(conftest.test_config(tmp_path, **settings))


def test_sessions_in_redis_end_at_sign_out(app, oidc_provider, make_org, make_member, tmp_path):
    """With SESSION_TYPE=redis, sign-in works and sign-out deletes the session there too."""
    if not redis_available():
        pytest.skip("needs Redis at 127.0.0.1:6379")
    redis_app = create_app(
        conftest.test_config(
            tmp_path,
            DATABASE_URL=app.config["DATABASE_URL"],
            SESSION_TYPE="redis",
            SESSION_REDIS_URL="redis://127.0.0.1:6379/15",
            OIDC_ISSUER=oidc_provider.issuer,
            OIDC_CLIENT_SECRET="test-client-secret",
        )
    )
    host = make_org("Northwind Supplies")
    make_member(host, EMAIL, role="member")
    client = redis_app.test_client()
    try:
        sign_in_as(
            client, oidc_provider, "sub-nora-redis", {"email": EMAIL, "email_verified": True}
        )
        stolen = session_cookie(client)
        assert client.get(dashboard(host)).status_code == 200
        assert stored_sessions(app) == 0  # not in the database

        client.post("/sign-out", data={"csrf_token": csrf_token(client, "/signed-out")})
        client.set_cookie("session", stolen)

        assert client.get(dashboard(host)).status_code == 302
    finally:
        with redis_app.app_context():
            db.engine.dispose()
        redis_app.session_interface.client.close()
