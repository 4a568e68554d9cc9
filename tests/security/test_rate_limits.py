"""Rate limits on POST /oauth2/token: 429 with Retry-After and the contract's body."""

import pytest

from app import create_app
from app.extensions import db
from tests import conftest
from tests.conftest import error_codes


@pytest.fixture
def low_token_limit(app, monkeypatch):
    monkeypatch.setitem(app.config, "TOKEN_RATE_LIMIT", "3 per minute")


def post_token(client, credentials, ip="198.51.100.7"):
    return client.post("/oauth2/token", json=credentials, environ_base={"REMOTE_ADDR": ip})


def test_too_many_token_requests_get_429_with_retry_after(
    client, make_org, make_client, low_token_limit
):
    """Does the fourth request in a minute get 429, a Retry-After and the contract's body?"""
    good = make_client(make_org()).__dict__
    statuses = [post_token(client, good).status_code for _ in range(3)]
    response = post_token(client, good)

    assert statuses == [200, 200, 200]
    assert response.status_code == 429
    assert error_codes(response) == ["rate_limited"]
    assert response.json["detail"][0]["loc"] == []
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_failed_attempts_count_too(client, make_org, make_client, low_token_limit):
    """Can a guesser keep trying secrets? No: wrong secrets use up the same allowance."""
    good = make_client(make_org()).__dict__
    wrong = {**good, "client_secret": "guess"}
    statuses = [post_token(client, wrong).status_code for _ in range(3)]

    assert statuses == [401, 401, 401]
    assert post_token(client, good).status_code == 429


def test_counts_are_per_client_ip(client, make_org, make_client, low_token_limit):
    """Does one noisy address leave the others their allowance?"""
    good = make_client(make_org()).__dict__
    for _ in range(4):
        post_token(client, good, ip="203.0.113.1")

    assert post_token(client, good, ip="203.0.113.1").status_code == 429
    assert post_token(client, good, ip="203.0.113.2").status_code == 200


def test_other_endpoints_are_not_limited(client, low_token_limit):
    """Does the token limit leave health checks and the JWKS alone?"""
    for _ in range(5):
        post_token(client, {"client_id": "x", "client_secret": "y"})
    assert client.get("/healthz").status_code == 200
    assert client.get("/.well-known/jwks.json").status_code == 200


def test_a_forged_forwarded_for_does_not_reset_the_count(
    client, make_org, make_client, low_token_limit
):
    """Without trusted proxies, can a client get a fresh allowance by sending X-Forwarded-For?"""
    good = make_client(make_org()).__dict__
    for _ in range(3):
        post_token(client, good)
    response = client.post(
        "/oauth2/token",
        json=good,
        headers={"X-Forwarded-For": "192.0.2.99"},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert response.status_code == 429


def test_behind_a_trusted_proxy_clients_are_counted_apart(app, tmp_path, make_org, make_client):
    """With TRUSTED_PROXIES=1, do two clients behind one proxy each get their own allowance?"""
    proxied = create_app(
        conftest.test_config(
            tmp_path,
            DATABASE_URL=app.config["DATABASE_URL"],
            TRUSTED_PROXIES=1,
            TOKEN_RATE_LIMIT="2 per minute",
        )
    )
    good = make_client(make_org()).__dict__
    client = proxied.test_client()

    def via_proxy(client_ip: str) -> int:
        return client.post(
            "/oauth2/token",
            json=good,
            headers={"X-Forwarded-For": client_ip},
            environ_base={"REMOTE_ADDR": "10.0.0.1"},
        ).status_code

    try:
        first = [via_proxy("192.0.2.1") for _ in range(3)]
        second = via_proxy("192.0.2.2")
    finally:
        with proxied.app_context():
            db.engine.dispose()
    assert first == [200, 200, 429]
    assert second == 200


def test_without_its_redis_the_limit_still_holds_in_memory(app, tmp_path, make_org, make_client):
    """With the shared storage unreachable, are requests served and still counted (no 500)?"""
    cut_off = create_app(
        conftest.test_config(
            tmp_path,
            DATABASE_URL=app.config["DATABASE_URL"],
            RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{conftest.NOTHING_LISTENS}/0",
            TOKEN_RATE_LIMIT="2 per minute",
        )
    )
    good = make_client(make_org()).__dict__
    client = cut_off.test_client()
    try:
        statuses = [client.post("/oauth2/token", json=good).status_code for _ in range(3)]
    finally:
        with cut_off.app_context():
            db.engine.dispose()
    assert statuses == [200, 200, 429]
