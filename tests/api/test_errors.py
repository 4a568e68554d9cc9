"""Errors of the API: always the contract's body, never a stack trace."""

import uuid

import pytest

from tests.conftest import error_codes


def test_no_token_is_401_with_www_authenticate(api, host):
    response = api.get(f"/v1/guest-connections/{uuid.uuid4()}", token=None, requester=host)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json == {
        "detail": [
            {
                "loc": [],
                "msg": "A bearer token is required: send 'Authorization: Bearer <token>'.",
                "type": "authentication",
                "code": "not_authenticated",
            }
        ]
    }


@pytest.mark.parametrize("authorization", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "token"])
def test_other_authorization_schemes_are_401(client, host, authorization):
    response = client.get(
        f"/v1/guest-connections/{uuid.uuid4()}",
        headers={
            "Authorization": authorization,
            "Requester-Organization-ID": str(host),
            "Target-Organization-ID": str(host),
        },
    )
    assert response.status_code == 401
    assert error_codes(response) == ["not_authenticated"]


def test_missing_headers_and_bad_path_are_all_listed(client, token_for, host):
    """Does one 422 name every invalid input, each with its location?"""
    response = client.get(
        "/v1/guest-connections/not-a-uuid",
        headers={"Authorization": f"Bearer {token_for(host)}"},
    )
    assert response.status_code == 422
    locations = [item["loc"] for item in response.json["detail"]]
    assert locations == [
        ["header", "Requester-Organization-ID"],
        ["header", "Target-Organization-ID"],
        ["path", "guest_org_id"],
    ]
    assert set(error_codes(response)) == {"validation_error"}
    assert all(item["msg"].endswith(".") for item in response.json["detail"])


@pytest.mark.parametrize(
    "value", ["", "123", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz", "' OR 1=1 --"]
)
def test_malformed_requester_header_is_422(api, token_for, host, value):
    response = api.get(
        f"/v1/guest-connections/{uuid.uuid4()}", token=token_for(host), requester=value, target=host
    )
    assert response.status_code == 422
    assert response.json["detail"][0]["loc"] == ["header", "Requester-Organization-ID"]


def test_wrong_method_is_405_json(api, token_for, host):
    response = api.call(
        "DELETE", f"/v1/guest-connections/{uuid.uuid4()}", token=token_for(host), requester=host
    )
    assert response.status_code == 405
    assert error_codes(response) == ["method_not_allowed"]
    assert "GET" in response.headers["Allow"]


def test_unknown_api_path_is_404_json(client):
    response = client.get("/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json["detail"][0]["code"] == "not_found"


def test_unknown_page_is_an_html_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Page not found" in response.get_data(as_text=True)
