"""The pages under attack: sign-in floods, fixed sessions, forged forms, cookies, outages."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import pytest
from flask import Flask

from app import create_app
from app.extensions import db
from tests import conftest
from tests.conftest import csrf_token, sign_in_as, start_sign_in
from tests.oidc_provider import relative
from tests.web.conftest import text

VERIFIED = {"email": "nora@northwind.example", "email_verified": True}


@pytest.fixture
def nora(make_org, make_member):
    """A host with a member, Nora; returns the host's id."""
    host = make_org("Northwind Supplies")
    make_member(host, "nora@northwind.example", role="admin")
    return host


# -- sign-in rate limit ---------------------------------------------------------------------------


def test_too_many_sign_in_attempts_get_a_429_page(app, client, oidc_provider, monkeypatch):
    """Does a burst of sign-in attempts from one address meet a 429 page with Retry-After?"""
    monkeypatch.setitem(app.config, "SIGNIN_RATE_LIMIT", "2 per minute")
    token = csrf_token(client)
    statuses = [client.post("/sign-in", data={"csrf_token": token}).status_code for _ in range(2)]
    refused = client.post("/sign-in", data={"csrf_token": token})

    assert statuses == [302, 302]
    assert refused.status_code == 429
    assert refused.mimetype == "text/html"
    assert "Too many requests" in text(refused)
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


def test_the_provider_callback_is_limited_too(app, client, oidc_provider, monkeypatch):
    """Can the callback be hammered with guessed codes? No: it has its own allowance."""
    monkeypatch.setitem(app.config, "SIGNIN_RATE_LIMIT", "2 per minute")
    start_sign_in(client)
    for _ in range(2):
        client.get("/auth/callback?code=guess&state=guess")
    assert client.get("/auth/callback?code=guess&state=guess").status_code == 429


def test_the_sign_in_page_itself_is_not_limited(app, client, oidc_provider, monkeypatch):
    """Does merely opening the sign-in page leave the allowance alone?"""
    monkeypatch.setitem(app.config, "SIGNIN_RATE_LIMIT", "1 per minute")
    for _ in range(3):
        assert client.get("/sign-in").status_code == 200


# -- sessions -------------------------------------------------------------------------------------


def session_cookie(client) -> str | None:
    cookie = client.get_cookie("session")
    return cookie.value if cookie else None


def test_a_session_cookie_fixed_before_sign_in_grants_nothing(app, client, oidc_provider, nora):
    """Session fixation: if an attacker planted their cookie, does it become signed in? No."""
    client.get("/sign-in")  # the attacker's visit: a session cookie with a CSRF token
    planted = session_cookie(client)
    assert planted

    sign_in_as(client, oidc_provider, "sub-nora", VERIFIED)  # the victim signs in with it
    signed_in = session_cookie(client)
    attacker = app.test_client()
    attacker.set_cookie("session", planted)

    assert signed_in != planted
    assert client.get(f"/orgs/{nora}/guest-connections").status_code == 200
    response = attacker.get(f"/orgs/{nora}/guest-connections")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/sign-in"


def test_a_csrf_token_from_another_session_is_refused(app, client, oidc_provider, nora):
    """Can a form be forged with a token the attacker got from their own session? No: 400."""
    attacker = app.test_client()
    attackers_token = csrf_token(attacker)
    sign_in_as(client, oidc_provider, "sub-nora", VERIFIED)

    response = client.post("/sign-out", data={"csrf_token": attackers_token})

    assert response.status_code == 400
    assert client.get(f"/orgs/{nora}/guest-connections").status_code == 200  # still signed in


@pytest.mark.parametrize(
    "next_path",
    [
        "///evil.example",
        "/\\/evil.example",
        "\\\\evil.example",
        " //evil.example",
        "/\t/evil.example",
        "https:evil.example",
        "HTTPS://evil.example",
        "//evil.example@northwind.example",
        "/%0d%0aLocation:%20https://evil.example",
    ],
)
def test_next_never_leaves_the_site(client, oidc_provider, nora, next_path):
    """Open redirect: whatever `next` holds, does sign-in land on a path of this site?"""
    response = sign_in_as(client, oidc_provider, "sub-nora", VERIFIED, next_path=next_path)

    location = response.headers["Location"]
    assert response.status_code == 302
    assert location.startswith("/") and not location.startswith(("//", "/\\"))
    assert not urlsplit(location).netloc and "\n" not in location and "\r" not in location


# -- cookies and headers in production ------------------------------------------------------------


@pytest.fixture
def production_app(app, oidc_provider, tmp_path) -> Flask:
    """The same database and provider, configured for production (behind one proxy)."""
    production = create_app(
        {
            "APP_ENV": "production",
            "DATABASE_URL": app.config["DATABASE_URL"],
            "SECRET_KEY": conftest.TEST_SECRET,
            "OIDC_ISSUER": oidc_provider.issuer,
            "OIDC_CLIENT_SECRET": "test-client-secret",
            "PUBLIC_URL": "https://connections.example.com",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "TRUSTED_PROXIES": 1,
        }
    )
    yield production
    with production.app_context():
        db.engine.dispose()


def cookie_attributes(response) -> set[str]:
    (header,) = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    return {part.strip().split("=")[0].lower() for part in header.split(";")[1:]} | {
        part.strip().lower() for part in header.split(";")[1:] if "samesite" in part.lower()
    }


def test_session_cookie_is_httponly_and_samesite_lax(client):
    """Can page script read the session cookie, or another site send it with its forms? No."""
    attributes = cookie_attributes(client.get("/sign-in"))
    assert {"httponly", "samesite=lax"} <= attributes
    assert "secure" not in attributes  # plain http in development and tests


def test_production_cookies_are_secure(production_app):
    """In production, is the session cookie sent only over HTTPS?"""
    response = production_app.test_client().get("/sign-in", headers={"X-Forwarded-Proto": "https"})
    assert {"httponly", "samesite=lax", "secure"} <= cookie_attributes(response)


def test_production_over_https_sends_hsts(production_app):
    """Behind a TLS-terminating proxy, does every response tell browsers to stay on HTTPS?"""
    client = production_app.test_client()
    over_https = client.get("/sign-in", headers={"X-Forwarded-Proto": "https"})
    api_error = client.get("/v1/guest-connections/x", headers={"X-Forwarded-Proto": "https"})
    over_http = client.get("/sign-in")

    assert over_https.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Strict-Transport-Security" in api_error.headers
    assert "Strict-Transport-Security" not in over_http.headers  # never over plain http


@pytest.mark.parametrize("path", ["/sign-in", "/v1/guest-connections/x", "/readyz", "/nowhere"])
def test_security_headers_on_pages_api_and_errors(client, path):
    """Do pages, API answers and error pages alike forbid framing and MIME sniffing?"""
    headers = client.get(path).headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


# -- the database goes away -----------------------------------------------------------------------


def test_a_signed_in_page_shows_a_friendly_503_when_the_database_is_down(
    app, client, oidc_provider, nora, tmp_path
):
    """Does a signed-in person see a calm 503 page, with no technical detail, during an outage?"""
    sign_in_as(client, oidc_provider, "sub-nora", VERIFIED)
    down = create_app(
        conftest.test_config(
            tmp_path,
            DATABASE_URL=f"sqlite:///{tmp_path / 'missing' / 'app.db'}",
            OIDC_ISSUER=oidc_provider.issuer,
        )
    )
    browser = down.test_client()
    browser.set_cookie("session", session_cookie(client))  # the same signed session

    response = browser.get(f"/orgs/{nora}/guest-connections")

    page = text(response)
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert "right back" in page
    for leak in ("Traceback", "sqlalchemy", "sqlite3", "OperationalError", "SELECT"):
        assert leak not in page
    with down.app_context():
        db.engine.dispose()


def test_signed_out_pages_still_redirect_to_sign_in_during_an_outage(app, tmp_path):
    """Signed out during an outage, is a page still a redirect to sign-in (no database needed)?"""
    down = create_app(
        conftest.test_config(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'x' / 'app.db'}")
    )
    response = down.test_client().get(f"/orgs/{uuid.uuid4()}/guest-connections")
    assert response.status_code == 302
    assert relative(response.headers["Location"]).startswith("/sign-in")


def test_an_error_page_that_cannot_render_still_answers(client, monkeypatch):
    """If the error page itself breaks, is there still a plain page with the status, no trace?"""

    def broken(*args, **kwargs):
        raise RuntimeError("template exploded")

    monkeypatch.setattr("app.web.error_pages.render_template", broken)
    response = client.get("/nowhere")

    assert response.status_code == 404
    assert "<h1>404</h1>" in text(response)
    assert "exploded" not in text(response) and "Traceback" not in text(response)


# -- NUL in forms, paths and queries --------------------------------------------------------------


def test_nul_in_a_form_or_path_is_a_422_page_not_a_crash(signed_in, make_org):
    """Does a NUL typed into a form or a URL get a clear refusal rather than a database error?"""
    host = make_org("Northwind Supplies")
    client = signed_in(host)
    settings = f"/orgs/{host}/settings/api-clients"
    token = csrf_token(client, settings)

    by_form = client.post(settings, data={"csrf_token": token, "name": "Nullbyte\x00"})
    by_path = client.post(f"{settings}/gc_x%00/revoke", data={"csrf_token": token})
    by_query = client.get(f"/orgs/{host}/guest-connections?search_text=a%00b")

    for response in (by_form, by_path, by_query):
        assert response.status_code == 422, response.status_code
        assert response.mimetype == "text/html"
        assert "NUL" in text(response)
    assert "Nullbyte" not in text(client.get(settings))  # nothing was created
