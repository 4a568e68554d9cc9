"""What every API operation shares (app/api/endpoints.py): unknown parameters, conditional GET."""

from __future__ import annotations

import pytest

from app.api.endpoints import ENDPOINTS


def test_an_unknown_query_parameter_is_422_naming_it(api, pair, host_token):
    """A misspelt filter must not silently return everything: is it refused, by name?"""
    host, _ = pair
    response = api.get(
        "/v1/guest-connections?updated_sinse=2026-01-01T00:00:00Z&limit=5",
        token=host_token,
        requester=host,
    )
    assert response.status_code == 422
    [problem] = response.json["detail"]
    assert problem["loc"] == ["query", "updated_sinse"]
    assert "Unknown query parameter 'updated_sinse'" in problem["msg"]
    assert "updated_since" in problem["msg"]  # it lists what the endpoint takes


def test_every_endpoint_refuses_unknown_query_parameters(api, pair, host_token):
    """Also those that take no query at all (detail, changes): is each one 422?"""
    host, guest = pair
    organization_scoped = [e for e in ENDPOINTS if e.scenarios]
    assert len(organization_scoped) > 10
    for endpoint in organization_scoped:
        path = endpoint.rule
        for name in (
            "guest_org_id",
            "host_org_id",
            "org_id",
            "invitation_id",
            "run_id",
            "endpoint_id",
        ):
            path = path.replace(f"<{name}>", str(guest))
        response = api.call(
            endpoint.method, f"{path}?bogus=1", token=host_token, requester=host, json={}
        )
        assert response.status_code == 422, (endpoint.method, path, response.json)
        assert ["query", "bogus"] in [item["loc"] for item in response.json["detail"]]


@pytest.fixture
def detail(api, pair, host_token):
    host, guest = pair

    def get(**headers):
        return api.get(
            f"/v1/guest-connections/{guest}", token=host_token, requester=host, headers=headers
        )

    return get


def test_a_read_carries_an_etag_and_a_matching_one_is_304(detail):
    first = detail()
    assert first.status_code == 200
    assert first.headers["ETag"].startswith('"')
    assert first.headers["Cache-Control"] == "private, no-cache"
    again = detail(**{"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    other = detail(**{"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.json == first.json


def test_a_304_keeps_the_caching_headers_and_any_listed_or_weak_tag_matches(detail):
    """RFC 9110: If-None-Match compares weakly, takes a list, and "*" matches any body."""
    tag = detail().headers["ETag"]
    for sent in (tag, f'"other", {tag}', f"W/{tag}", "*"):
        again = detail(**{"If-None-Match": sent})
        assert again.status_code == 304, sent
        assert again.headers["ETag"] == tag
        assert again.headers["Cache-Control"] == "private, no-cache"
        assert "Requester-Organization-ID" in again.headers["Vary"]
        assert "Content-Length" not in again.headers or again.headers["Content-Length"] == "0"


def test_a_change_changes_the_etag(api, detail, pair, host_token):
    """After archiving, is the old tag stale (200 with the new body)?"""
    host, guest = pair
    before = detail()
    api.call(
        "PATCH",
        f"/v1/guest-connections/{guest}",
        token=host_token,
        requester=host,
        json={"archived": True},
    )
    after = detail(**{"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.json["archived"] is True
    assert after.headers["ETag"] != before.headers["ETag"]


@pytest.mark.parametrize("path", ["/v1/guest-connections", "/v1/guest-invitations"])
def test_lists_are_conditional_too(api, pair, host_token, path):
    host, _ = pair
    first = api.get(path, token=host_token, requester=host)
    assert first.status_code == 200 and first.headers["ETag"]
    again = api.get(
        path, token=host_token, requester=host, headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304


def test_a_list_tag_changes_with_what_the_list_shows(
    api, pair, host_token, make_org, make_connection
):
    """An invitation does not show in the connections list; a new guest does."""
    host, _ = pair

    def connections(etag: str | None = None):
        headers = {"If-None-Match": etag} if etag else {}
        return api.get("/v1/guest-connections", token=host_token, requester=host, headers=headers)

    first = connections()
    assert api.invite(host_token, host, "new@guest.example").status_code == 201
    assert connections(first.headers["ETag"]).status_code == 304
    make_connection(host, make_org("Birch Retail"))
    changed = connections(first.headers["ETag"])
    assert changed.status_code == 200 and changed.json["total_items"] == 2


def test_the_openapi_document_describes_conditional_reads(client):
    document = client.get("/v1/openapi.json").json
    read = document["paths"]["/v1/guest-connections/{guest_org_id}"]["get"]["responses"]
    assert "ETag" in read["200"]["headers"] and "304" in read
    assert "304" not in document["paths"]["/v1/guest-invitations"]["post"]["responses"]
