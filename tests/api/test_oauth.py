"""POST /oauth2/token and /.well-known/jwks.json; a token used again and again."""

from __future__ import annotations

import base64
import time
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from joserfc import jws
from sqlalchemy import select

from app.extensions import db
from app.models import ApiClient
from app.services import api_clients
from tests.conftest import error_codes


@pytest.fixture
def credentials(host, make_client):
    return make_client(host)


def test_json_body_gives_a_bearer_token(client, credentials):
    response = client.post("/oauth2/token", json=credentials.__dict__)
    assert response.status_code == 200
    assert response.json["token_type"] == "Bearer"
    assert response.json["expires_in"] == 3600
    assert response.json["access_token"].count(".") == 2
    assert response.headers["Cache-Control"] == "no-store"


def test_form_request_with_http_basic(client, credentials):
    basic = base64.b64encode(f"{credentials.client_id}:{credentials.client_secret}".encode())
    response = client.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic.decode()}"},
    )
    assert response.status_code == 200
    assert response.json["token_type"] == "Bearer"


def test_form_request_with_credentials_in_the_body(client, credentials):
    response = client.post(
        "/oauth2/token", data={"grant_type": "client_credentials", **credentials.__dict__}
    )
    assert response.status_code == 200


def test_the_token_names_a_key_published_in_the_jwks(client, credentials):
    token = client.post("/oauth2/token", json=credentials.__dict__).json["access_token"]
    kid = jws.extract_compact(token.encode()).protected["kid"]
    keys = client.get("/.well-known/jwks.json").json["keys"]
    assert [key["kid"] for key in keys] == [kid]
    assert all("d" not in key for key in keys), "no private key material is published"


@pytest.mark.parametrize(
    "body",
    [
        {"client_id": "unknown", "client_secret": "whatever"},
        {"client_id": "KNOWN", "client_secret": "wrong"},
    ],
)
def test_bad_credentials_are_401(client, credentials, body):
    body = {**body, "client_id": body["client_id"].replace("KNOWN", credentials.client_id)}
    response = client.post("/oauth2/token", json=body)
    assert response.status_code == 401
    assert response.json == {
        "detail": [
            {
                "loc": [],
                "msg": "The client authentication failed!",
                "type": "oauth",
                "code": "oauth_invalid_client_credentials",
            }
        ],
        "error": "invalid_client",
    }


def test_a_token_request_records_when_the_client_was_last_used(
    app, client, credentials, monkeypatch
):
    """Does a token set "Last used", and leave it alone for another within the minute?"""

    def last_used():
        with app.app_context():
            return db.session.scalar(
                select(ApiClient.last_used_at).where(ApiClient.client_id == credentials.client_id)
            )

    def token() -> None:
        assert client.post("/oauth2/token", json=credentials.__dict__).status_code == 200

    assert last_used() is None
    token()
    first = last_used()
    assert first is not None
    token()
    assert last_used() == first
    monkeypatch.setattr(api_clients, "LAST_USED_PRECISION", timedelta(0))
    token()
    assert last_used() > first


def test_a_clients_next_token_within_the_cache_bound_reads_nothing(
    client, credentials, count_queries
):
    """Is a client this process read a moment ago trusted without reading it again?"""
    assert client.post("/oauth2/token", json=credentials.__dict__).status_code == 200

    with count_queries() as statements:
        response = client.post("/oauth2/token", json=credentials.__dict__)

    assert response.status_code == 200 and response.json["access_token"]
    assert statements == []


def test_a_wrong_secret_is_refused_for_a_client_read_a_moment_ago(client, credentials):
    assert client.post("/oauth2/token", json=credentials.__dict__).status_code == 200
    wrong = {
        "client_id": credentials.client_id,
        "client_secret": "not-" + credentials.client_secret,
    }

    response = client.post("/oauth2/token", json=wrong)

    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"


def test_a_revoked_client_gets_no_token(client, runner, credentials):
    assert runner.invoke(args=["api-clients", "revoke", credentials.client_id]).exit_code == 0
    response = client.post("/oauth2/token", json=credentials.__dict__)
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"client_secret": "x"}, ["body", "client_id"]),
        ({"client_id": "x"}, ["body", "client_secret"]),
        ({"client_id": "x" * 129, "client_secret": "x"}, ["body", "client_id"]),
        ({"client_id": "x", "client_secret": "x" * 65}, ["body", "client_secret"]),
        ({"client_id": "", "client_secret": "x"}, ["body", "client_id"]),
        ({"client_id": "x", "client_secret": "x", "extra": 1}, ["body", "extra"]),
        ([], ["body"]),
    ],
)
def test_malformed_json_body_is_422(client, body, location):
    response = client.post("/oauth2/token", json=body)
    assert response.status_code == 422
    assert response.json["detail"][0]["loc"] == location
    assert error_codes(response)[0] == "validation_error"


def test_invalid_json_is_422(client):
    response = client.post("/oauth2/token", data="{", content_type="application/json")
    assert response.status_code == 422


def test_other_grant_types_are_refused(client, credentials):
    response = client.post("/oauth2/token", data={"grant_type": "password", "username": "x"})
    assert response.status_code == 400
    assert response.json["error"] == "unsupported_grant_type"


def test_credentials_sent_twice_are_refused(client, credentials):
    basic = base64.b64encode(f"{credentials.client_id}:{credentials.client_secret}".encode())
    response = client.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": credentials.client_id},
        headers={"Authorization": f"Basic {basic.decode()}"},
    )
    assert response.status_code == 400
    assert response.json["error"] == "invalid_request"


@pytest.mark.parametrize("name", ["grant_type", "client_id", "client_secret", "scope"])
def test_a_repeated_parameter_is_invalid_request(client, credentials, name):
    """RFC 6749 3.2: is a parameter sent twice refused, whichever copy would have won?"""
    form = [
        ("grant_type", "client_credentials"),
        ("client_id", credentials.client_id),
        ("client_secret", credentials.client_secret),
        ("scope", "all"),
    ]
    form.append(next(pair for pair in form if pair[0] == name))
    response = client.post(
        "/oauth2/token",
        data=urlencode(form),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert response.json["error"] == "invalid_request"
    assert name in response.json["detail"][0]["msg"]


def test_other_content_types_are_415(client):
    response = client.post("/oauth2/token", data="client_id=x", content_type="text/plain")
    assert response.status_code == 415
    assert error_codes(response) == ["unsupported_media_type"]


def test_get_is_405(client):
    response = client.get("/oauth2/token")
    assert response.status_code == 405
    assert error_codes(response) == ["method_not_allowed"]


# -- a token used again: every check still holds on every call ------------------------------------


def test_a_token_accepted_before_is_refused_once_it_has_expired(api, token_for, pair, monkeypatch):
    """Does a token the API accepted a moment ago stop working when it expires?"""
    host, guest = pair
    token = token_for(host)
    path = f"/v1/guest-connections/{guest}"
    assert api.get(path, token=token, requester=host).status_code == 200
    expired = time.time() + 3600 + 1
    monkeypatch.setattr(time, "time", lambda: expired)

    response = api.get(path, token=token, requester=host)

    assert response.status_code == 401
    assert error_codes(response) == ["invalid_token"]


def test_a_token_accepted_before_is_refused_once_its_client_is_revoked(
    api, credentials, client, runner, pair
):
    """Does revoking a client stop its token at once, even one used a moment ago?"""
    host, guest = pair
    token = client.post("/oauth2/token", json=credentials.__dict__).json["access_token"]
    path = f"/v1/guest-connections/{guest}"
    assert api.get(path, token=token, requester=host).status_code == 200
    assert runner.invoke(args=["api-clients", "revoke", credentials.client_id]).exit_code == 0

    response = api.get(path, token=token, requester=host)

    assert response.status_code == 401
    assert error_codes(response) == ["invalid_token"]


def test_a_token_with_one_character_changed_is_refused_after_the_original_was_accepted(
    api, token_for, pair
):
    """Is a forged copy of a token accepted a moment ago refused?"""
    host, guest = pair
    token = token_for(host)
    path = f"/v1/guest-connections/{guest}"
    assert api.get(path, token=token, requester=host).status_code == 200
    forged = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]

    response = api.get(path, token=forged, requester=host)

    assert response.status_code == 401
    assert error_codes(response) == ["invalid_token"]


@pytest.mark.parametrize("cache_seconds", [0, 0.5])
def test_another_server_refuses_a_revoked_client_a_token_within_the_cache_bound(
    app, credentials, client, tmp_path, cache_seconds
):
    """Does a revocation made on one app server stop another issuing tokens within the bound?"""
    from app import create_app
    from app.extensions import db
    from app.services import api_clients
    from app.services.audit import Actor
    from tests.conftest import test_config

    app.config["CLIENT_REVOCATION_CACHE_SECONDS"] = cache_seconds
    assert client.post("/oauth2/token", json=credentials.__dict__).status_code == 200
    # Another app server: the same database, its own memory.
    other_server = create_app(test_config(tmp_path, DATABASE_URL=app.config["DATABASE_URL"]))
    with other_server.app_context():
        api_clients.revoke_api_client(credentials.client_id, actor=Actor.cli())
        db.engine.dispose()

    time.sleep(cache_seconds)
    response = client.post("/oauth2/token", json=credentials.__dict__)

    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"


@pytest.mark.parametrize("cache_seconds", [0, 0.5])
def test_another_server_refuses_a_revoked_clients_token_within_the_cache_bound(
    app, api, credentials, client, pair, tmp_path, cache_seconds
):
    """Does a revocation made on one app server stop the token on another within the bound?"""
    from app import create_app
    from app.extensions import db
    from app.services import api_clients
    from app.services.audit import Actor
    from tests.conftest import test_config

    host, guest = pair
    app.config["CLIENT_REVOCATION_CACHE_SECONDS"] = cache_seconds
    token = client.post("/oauth2/token", json=credentials.__dict__).json["access_token"]
    path = f"/v1/guest-connections/{guest}"
    assert api.get(path, token=token, requester=host).status_code == 200
    # Another app server: the same database, its own memory.
    other_server = create_app(test_config(tmp_path, DATABASE_URL=app.config["DATABASE_URL"]))
    with other_server.app_context():
        api_clients.revoke_api_client(credentials.client_id, actor=Actor.cli())
        db.engine.dispose()

    if cache_seconds:
        # Within the bound this server may still trust what it saw a moment ago ...
        assert api.get(path, token=token, requester=host).status_code == 200
        time.sleep(cache_seconds)
    response = api.get(path, token=token, requester=host)

    assert response.status_code == 401
    assert error_codes(response) == ["invalid_token"]
