"""The API under attack: odd search text, headers, bodies and paths get a clean 4xx, never a 5xx."""

from __future__ import annotations

import base64
import uuid
from urllib.parse import urlsplit

import pytest

from tests.conftest import error_codes

# -- search text: LIKE wildcards, quotes and unicode match literally ------------------------------

GUEST_NAMES = [
    "100% Organic",
    "1000 Organic",
    "snake_case Ltd",
    "snakeXcase Ltd",
    "Back\\slash AB",
    "O'Brien & Sons",
    'The "Quoted" Co',
    "Ünïcödé GmbH",
    "北京贸易",
    "Emoji 🚀 Inc",
    "Plain Ltd",
]


@pytest.fixture
def searchable_host(make_org, make_connection, token_for):
    """A host with a guest of each awkward name; returns (host, token)."""
    host = make_org("Host")
    for name in GUEST_NAMES:
        make_connection(
            host, make_org(name, "guest@org.example"), owner_email="o'neil@host.example"
        )
    return host, token_for(host)


def search(api, searchable_host, text: str, field: str = "guest_name"):
    host, token = searchable_host
    return api.get(
        "/v1/guest-connections",
        token=token,
        requester=host,
        query_string={"search_text": text, "search_field": field, "limit": 100},
    )


def names(response) -> list[str]:
    assert response.status_code == 200, response.json
    return sorted(item["guest_name"] for item in response.json["items"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("%", ["100% Organic"]),
        ("0%", ["100% Organic"]),
        ("_", ["snake_case Ltd"]),
        ("e_c", ["snake_case Ltd"]),
        ("\\", ["Back\\slash AB"]),
        ("%_%", []),
        ("[a-z]", []),
        ("*", []),
        ("'", ["O'Brien & Sons"]),
        ("o'brien", ["O'Brien & Sons"]),
        ('"quoted"', ['The "Quoted" Co']),
        ("'; DROP TABLE guest_connections; --", []),
        ("ünïcödé", ["Ünïcödé GmbH"]),
        ("ÜNÏCÖDÉ", ["Ünïcödé GmbH"]),
        ("贸易", ["北京贸易"]),
        ("🚀", ["Emoji 🚀 Inc"]),
        (" ", sorted(n for n in GUEST_NAMES if " " in n)),
    ],
)
def test_search_text_matches_literally(api, searchable_host, text, expected):
    """Do wildcards, quotes and non-ASCII letters match themselves, case-insensitively?"""
    assert names(search(api, searchable_host, text)) == expected


def test_search_on_other_fields_is_literal_too(api, searchable_host):
    """Are quotes in owner e-mails and % in guest e-mails matched literally as well?"""
    assert len(names(search(api, searchable_host, "o'neil", "owner_email"))) == len(GUEST_NAMES)
    assert names(search(api, searchable_host, "%", "guest_email")) == []


def test_search_leaves_the_table_intact(api, searchable_host):
    """After an injection attempt, is every connection still there?"""
    search(api, searchable_host, "x'); DELETE FROM guest_connections; --")
    host, token = searchable_host
    everything = api.get("/v1/guest-connections", token=token, requester=host)
    assert everything.json["total_items"] == len(GUEST_NAMES)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a" * 256, "at most 255 characters"),
        ("a\x00b", "must not contain the NUL character"),
        ("", "at least 1 character"),
    ],
)
def test_impossible_search_text_is_422(api, searchable_host, text, problem):
    """Is a too-long, empty or NUL-holding search a 422 at [query, search_text]?"""
    response = search(api, searchable_host, text)
    assert response.status_code == 422
    (detail,) = response.json["detail"]
    assert detail["loc"] == ["query", "search_text"]
    assert problem in detail["msg"]


# -- headers --------------------------------------------------------------------------------------


def get_connection(client, guest, headers: list[tuple[str, str]]):
    return client.get(f"/v1/guest-connections/{guest}", headers=headers)


def test_a_repeated_organization_header_is_refused(client, host_token, pair, make_org):
    """Two Requester headers could be read differently by a proxy and by us: is it a 422?"""
    host, guest = pair
    other = make_org("Other")
    response = get_connection(
        client,
        guest,
        [
            ("Authorization", f"Bearer {host_token}"),
            ("Requester-Organization-ID", str(host)),
            ("Requester-Organization-ID", str(other)),
            ("Target-Organization-ID", str(host)),
        ],
    )
    assert response.status_code == 422
    assert response.json["detail"][0]["loc"] == ["header", "Requester-Organization-ID"]


@pytest.mark.parametrize(
    "value",
    [
        "",
        " ",
        "not-a-uuid",
        "0" * 8192,
        "054b4106-174b-46b0-97f8-86d8d7b6f0af; DROP TABLE x",
        "054b4106-174b-46b0-97f8-86d8d7b6f0af,054b4106-174b-46b0-97f8-86d8d7b6f0af",
        "../../etc/passwd",
        "ü" * 40,
    ],
)
def test_malformed_organization_headers_are_422(client, host_token, pair, value):
    """Is an empty, huge or malformed organization id a 422 naming the header?"""
    host, guest = pair
    response = get_connection(
        client,
        guest,
        [
            ("Authorization", f"Bearer {host_token}"),
            ("Requester-Organization-ID", value),
            ("Target-Organization-ID", str(host)),
        ],
    )
    assert response.status_code == 422
    assert error_codes(response) == ["validation_error"]
    assert response.json["detail"][0]["loc"][:2] == ["header", "Requester-Organization-ID"]
    assert value not in response.get_data(as_text=True) or len(value) < 2


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Bearer",
        "Bearer ",
        "Bearer a b c",
        "Basic dXNlcjpwYXNz",
        "Bearer " + "A" * 8192,
        "Bearer " + "ü" * 100,
        "Bearer e30.e30.",
        "Bearer ...",
    ],
)
def test_malformed_authorization_is_401(client, pair, authorization):
    """Does a missing or garbled Authorization header give 401 with WWW-Authenticate?"""
    host, guest = pair
    response = get_connection(
        client,
        guest,
        [
            ("Authorization", authorization),
            ("Requester-Organization-ID", str(host)),
            ("Target-Organization-ID", str(host)),
        ],
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert error_codes(response)[0] in {"not_authenticated", "invalid_token"}


def test_many_headers_do_not_break_the_api(client, host_token, pair):
    """Do hundreds of junk headers leave the answer unchanged?"""
    host, guest = pair
    junk = [(f"X-Junk-{i}", "x" * 100) for i in range(300)]
    response = get_connection(
        client,
        guest,
        [
            ("Authorization", f"Bearer {host_token}"),
            ("Requester-Organization-ID", str(host)),
            ("Target-Organization-ID", str(host)),
            *junk,
        ],
    )
    assert response.status_code == 200


# -- bodies ---------------------------------------------------------------------------------------

TOO_BIG = 64 * 1024 + 1


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b'{"client_id": "' + b"x" * TOO_BIG + b'", "client_secret": "y"}'),
        ("application/x-www-form-urlencoded", b"grant_type=client_credentials&x=" + b"y" * TOO_BIG),
        ("text/plain", b"z" * TOO_BIG),
        ("multipart/form-data; boundary=b", b"--b\r\n" + b"z" * TOO_BIG),
    ],
)
def test_oversized_bodies_get_413_with_the_contract_body(client, content_type, body):
    """Is a body over MAX_CONTENT_LENGTH refused with 413 and the JSON error, whatever its type?"""
    response = client.post("/oauth2/token", data=body, content_type=content_type)

    assert response.status_code == 413
    assert response.json == {
        "detail": [
            {
                "loc": [],
                "msg": "The request body is too large.",
                "type": "request",
                "code": "payload_too_large",
            }
        ]
    }


def test_oversized_bodies_are_refused_on_every_endpoint(client, pair):
    """Is the limit enforced before authentication, so nobody makes us read megabytes?"""
    _, guest = pair
    response = client.open(f"/v1/guest-connections/{guest}", method="GET", data=b"x" * TOO_BIG)
    assert response.status_code == 413


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"json": {"client_id": "gc_\x00", "client_secret": "s"}},
        {"json": {"client_id": "gc_x", "client_secret": "s\x00"}},
        {"data": {"grant_type": "client_credentials", "client_id": "a\x00", "client_secret": "s"}},
        {
            "data": {"grant_type": "client_credentials"},
            "headers": {"Authorization": "Basic " + base64.b64encode(b"a\x00:s").decode()},
        },
        {
            "data": {"grant_type": "client_credentials"},
            "headers": {"Authorization": "Basic " + base64.b64encode(b"a:" + b"s" * 65).decode()},
        },
    ],
)
def test_impossible_credentials_are_422(client, request_kwargs):
    """Are a NUL or an over-long secret refused as invalid input, by JSON, form or Basic?"""
    response = client.post("/oauth2/token", **request_kwargs)
    assert response.status_code == 422
    assert error_codes(response) == ["validation_error"]


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("application/json", b"{", 422),
        ("application/json", b"[]", 422),
        ("application/json", b"null", 422),
        ("application/json", b'{"client_id": 1, "client_secret": []}', 422),
        ("application/json", b'{"client_id": "a", "client_secret": "b", "extra": 1}', 422),
        ("application/json", b"\xff\xfe\x00", 422),
        ("application/json", b'{"a":' * 5000 + b"1" + b"}" * 5000, 422),
        ("application/json; charset=latin-1", b'{"client_id": "\xe9"}', 422),
        ("application/xml", b"<a/>", 415),
        ("", b"", 415),
    ],
)
def test_malformed_token_bodies_are_4xx(client, content_type, body, status):
    """Does malformed, deeply nested or mistyped JSON give a clean 4xx in the contract's shape?"""
    response = client.post("/oauth2/token", data=body, content_type=content_type or None)
    assert response.status_code == status
    assert response.json["detail"][0]["code"] in {"validation_error", "unsupported_media_type"}


# -- paths ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/v1/guest-connections/..%2f..",
        "/v1/guest-connections/..%2F..%2Fhealthz",
        "/v1/guest-connections/%2e%2e",
        "/v1/guest-connections/{guest}/",
        "/v1/guest-connections/{guest}%2Fx",
        "/v1/guest-connections//{guest}",
        "/v1/guest-connections/{guest}/../{guest}",
        "/v1/%2e%2e/healthz",
        "/v1/openapi.json/",
        "/v1/" + "a" * 10000,
        "/V1/guest-connections/{guest}",
    ],
)
def test_path_tricks_get_a_json_404(api, host_token, pair, path):
    """Do encoded slashes, dot segments, trailing slashes and huge paths end in a JSON 404?"""
    host, guest = pair
    response = api.get(path.format(guest=guest), token=host_token, requester=host)
    if path.startswith("/V1/"):
        assert response.status_code == 404  # not an API path: the HTML 404 page
        return
    if response.status_code == 308:  # repeated slashes: a redirect to the same site's clean path
        assert urlsplit(response.headers["Location"]).path == f"/v1/guest-connections/{guest}"
        assert urlsplit(response.headers["Location"]).netloc in {"", "localhost"}
        return
    assert response.status_code in {404, 422}, response.status_code
    assert response.mimetype == "application/json"
    assert response.json["detail"][0]["code"] in {
        "not_found",
        "validation_error",
        "guest_connection_not_found",
    }


@pytest.mark.parametrize(
    "guest_id",
    ["not-a-uuid", "%00", "%ff%fe", "a" * 5000, "1%20OR%201%3D1", "%F0%9F%9A%80"],
)
def test_malformed_path_ids_are_422(api, host_token, pair, guest_id):
    """Is a non-UUID guest id in the path a 422 at ["path", "guest_org_id"]?"""
    host, _ = pair
    response = api.get(f"/v1/guest-connections/{guest_id}", token=host_token, requester=host)
    assert response.status_code == 422
    assert response.json["detail"][0]["loc"] == ["path", "guest_org_id"]


def test_static_files_do_not_escape_their_folder(client):
    """Can a path climb out of static/ to read the source or the instance folder?"""
    for path in (
        "/static/../app/config.py",
        "/static/%2e%2e/app/config.py",
        "/static/..%2fapp%2fconfig.py",
        "/static/%2e%2e/instance/secret_key",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "SECRET_KEY" not in response.get_data(as_text=True)


def test_unknown_methods_are_405_in_json(client, pair):
    """Is DELETE on a read-only resource 405 with Allow and the contract's body?"""
    _, guest = pair
    response = client.delete(f"/v1/guest-connections/{uuid.uuid4()}")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert error_codes(response) == ["method_not_allowed"]


# -- paging ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/v1/host-connections",
        "/v1/guest-invitations",
        "/v1/guest-connections/{guest}/score-history",
    ],
)
@pytest.mark.parametrize("offset", ["21813605429706338304", str(2**31), "-1", "1e3"])
def test_offsets_beyond_any_database_integer_are_422(api, host_token, pair, path, offset):
    """Found by the fuzzer: was a 20-digit offset a 500 (integer overflow)? Now a 422."""
    host, guest = pair
    response = api.get(
        path.format(guest=guest),
        token=host_token,
        requester=host,
        query_string={"offset": offset},
    )
    assert response.status_code == 422
    assert response.json["detail"][0]["loc"] == ["query", "offset"]


@pytest.mark.parametrize("path", ["/v1/host-connections", "/v1/guest-invitations"])
@pytest.mark.parametrize("text", ["a\x00b", "%_\\'\"", "ü" * 255])
def test_every_list_search_takes_hostile_text_cleanly(api, host_token, pair, path, text):
    """Do the other lists' searches also refuse NUL (422) and take wildcards and quotes (200)?"""
    host, _ = pair
    response = api.get(path, token=host_token, requester=host, query_string={"search_text": text})
    if "\x00" in text:
        assert response.status_code == 422
        assert response.json["detail"][0]["loc"] == ["query", "search_text"]
    else:
        assert response.status_code == 200
        assert response.json["items"] == []
