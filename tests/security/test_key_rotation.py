"""`flask keys rotate`: new tokens use the new key, old ones verify until they expire."""

from __future__ import annotations

from datetime import timedelta

import pytest
from joserfc import jws

from app import create_app
from app.extensions import db
from app.models import SigningKey
from app.services import tokens
from tests import conftest
from tests.conftest import json_line


def kid_of(token: str) -> str:
    return jws.extract_compact(token.encode()).protected["kid"]


def jwks_kids(client) -> set[str]:
    return {key["kid"] for key in client.get("/.well-known/jwks.json").json["keys"]}


@pytest.fixture
def call_as(api, host):
    def call(token: str):
        return api.get("/v1/guest-connections/" + str(host), token=token, requester=host)

    return call


def rotate(runner) -> dict:
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    return json_line(result.output)


def test_new_tokens_use_the_new_key_and_old_ones_still_verify(
    client, runner, token_for, host, call_as
):
    """After a rotation, is the old token still accepted and the new one signed by the new key?"""
    old_token = token_for(host)
    old_kid = kid_of(old_token)

    rotated = rotate(runner)
    new_token = token_for(host)

    assert rotated["retired"] == [old_kid]
    assert kid_of(new_token) == rotated["kid"] != old_kid
    # 404: authenticated and authorized, there is simply no such connection.
    assert call_as(old_token).status_code == 404
    assert call_as(new_token).status_code == 404
    assert jwks_kids(client) == {old_kid, rotated["kid"]}


def test_retired_keys_leave_the_jwks_once_their_tokens_expired(
    app, client, runner, token_for, host, call_as
):
    """Once no token signed by a retired key can be alive, is that key gone everywhere?"""
    old_token = token_for(host)
    old_kid = kid_of(old_token)
    new_kid = rotate(runner)["kid"]
    with app.app_context():
        key = db.session.get(SigningKey, old_kid)
        lifetime = app.config["TOKEN_TTL_SECONDS"] + app.config["SIGNING_KEY_CACHE_SECONDS"]
        key.retired_at -= timedelta(seconds=lifetime + 1)
        db.session.commit()
    app.extensions.pop("signing_key_cache")  # as if this process had just started

    assert jwks_kids(client) == {new_kid}
    response = call_as(old_token)
    assert response.status_code == 401
    assert response.json["detail"][0]["code"] == "invalid_token"


def test_jwks_never_publishes_private_key_material(client, runner, token_for, host):
    """Does the key set hold only public parts, however many keys there are?"""
    token_for(host)
    rotate(runner)
    for key in client.get("/.well-known/jwks.json").json["keys"]:
        assert set(key) <= {"kty", "crv", "x", "y", "kid", "alg", "use"}, key


@pytest.fixture
def other_server(app, tmp_path):
    """A second app on the same database, with its own key cache, as another process would be."""
    other = create_app(conftest.test_config(tmp_path, DATABASE_URL=app.config["DATABASE_URL"]))
    yield other
    with other.app_context():
        db.engine.dispose()


class FakeClock:
    """Stands in for time.monotonic, which the key cache uses to know how old it is."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(tokens.time, "monotonic", fake)
    return fake


def test_a_rotation_on_one_server_reaches_the_other(
    app, other_server, runner, make_client, host, clock
):
    """Does the other server verify new-key tokens at once and sign with the new key soon after?"""
    credentials = make_client(host).__dict__
    server_a, server_b = app.test_client(), other_server.test_client()
    old_kid = kid_of(server_b.post("/oauth2/token", json=credentials).json["access_token"])

    new_kid = rotate(runner)
    token_from_a = server_a.post("/oauth2/token", json=credentials).json["access_token"]
    clock.now += 2  # past the throttle on reloading for an unknown key id
    headers = {
        "Authorization": f"Bearer {token_from_a}",
        "Requester-Organization-ID": str(host),
        "Target-Organization-ID": str(host),
    }
    verified_on_b = server_b.get(f"/v1/guest-connections/{host}", headers=headers)
    signed_by_b_soon = server_b.post("/oauth2/token", json=credentials).json["access_token"]
    clock.now += other_server.config["SIGNING_KEY_CACHE_SECONDS"] + 1
    signed_by_b_later = server_b.post("/oauth2/token", json=credentials).json["access_token"]

    assert kid_of(token_from_a) == new_kid["kid"]
    assert verified_on_b.status_code == 404  # authenticated; there is no such connection
    # B read the keys again to verify A's token, so it already signs with the new key ...
    assert kid_of(signed_by_b_soon) == new_kid["kid"]
    # ... and in any case does once its cache has expired.
    assert kid_of(signed_by_b_later) == new_kid["kid"] != old_kid


def test_a_rotation_reaches_a_server_that_only_signs(
    app, other_server, runner, make_client, host, clock
):
    """Does a server that never meets a new key id still switch keys when its cache expires?"""
    credentials = make_client(host).__dict__
    server_b = other_server.test_client()
    old_kid = kid_of(server_b.post("/oauth2/token", json=credentials).json["access_token"])

    new_kid = rotate(runner)["kid"]
    before_expiry = kid_of(server_b.post("/oauth2/token", json=credentials).json["access_token"])
    clock.now += other_server.config["SIGNING_KEY_CACHE_SECONDS"] + 1
    after_expiry = kid_of(server_b.post("/oauth2/token", json=credentials).json["access_token"])

    assert before_expiry == old_kid  # still valid: the old key verifies until its tokens expire
    assert after_expiry == new_kid
