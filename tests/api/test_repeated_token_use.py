"""A token used again and again: every check still holds on every call, not only the first."""

import time

import pytest

from tests.conftest import error_codes


@pytest.fixture
def host_and_guest(make_org, make_connection):
    host = make_org("Northwind Supplies")
    guest = make_org("Alder Foods")
    make_connection(host, guest)
    return host, guest


def test_a_token_accepted_before_is_refused_once_it_has_expired(
    api, token_for, host_and_guest, monkeypatch
):
    """Does a token the API accepted a moment ago stop working when it expires?"""
    host, guest = host_and_guest
    token = token_for(host)
    path = f"/v1/guest-connections/{guest}"
    assert api.get(path, token=token, requester=host).status_code == 200
    expired = time.time() + 3600 + 1
    monkeypatch.setattr(time, "time", lambda: expired)

    response = api.get(path, token=token, requester=host)

    assert response.status_code == 401
    assert error_codes(response) == ["invalid_token"]


def test_a_token_accepted_before_is_refused_once_its_client_is_revoked(
    api, make_client, client, runner, host_and_guest
):
    """Does revoking a client stop its token at once, even one used a moment ago?"""
    host, guest = host_and_guest
    credentials = make_client(host)
    token = client.post("/oauth2/token", json=credentials.__dict__).json["access_token"]
    path = f"/v1/guest-connections/{guest}"
    assert api.get(path, token=token, requester=host).status_code == 200
    assert runner.invoke(args=["api-clients", "revoke", credentials.client_id]).exit_code == 0

    response = api.get(path, token=token, requester=host)

    assert response.status_code == 401
    assert error_codes(response) == ["invalid_token"]


def test_a_token_with_one_character_changed_is_refused_after_the_original_was_accepted(
    api, token_for, host_and_guest
):
    """Is a forged copy of a token accepted a moment ago refused?"""
    host, guest = host_and_guest
    token = token_for(host)
    path = f"/v1/guest-connections/{guest}"
    assert api.get(path, token=token, requester=host).status_code == 200
    forged = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]

    response = api.get(path, token=forged, requester=host)

    assert response.status_code == 401
    assert error_codes(response) == ["invalid_token"]
