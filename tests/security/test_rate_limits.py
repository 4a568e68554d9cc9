"""Rate limits on POST /oauth2/token: 429 with Retry-After and the contract's body."""

import pytest

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
