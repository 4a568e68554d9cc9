"""Forged, stale and otherwise wrong tokens are all refused with 401 invalid_token."""

import base64
import json
import time

import pytest
from joserfc import jws, jwt
from joserfc.jwk import ECKey, OctKey, RSAKey
from joserfc.registry import HeaderParameter

from app.services import tokens


def b64(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.fixture
def setup(app, pair, make_client, client):
    """A connected pair, the host's client credentials and a genuine token."""
    host, guest = pair
    credentials = make_client(host)
    good = client.post("/oauth2/token", json=credentials.__dict__).json["access_token"]
    return {"app": app, "host": host, "guest": guest, "good": good, "credentials": credentials}


def claims_of(token: str) -> dict:
    return (
        jwt.decode(token, lambda _: None, algorithms=[]).claims
        if False
        else json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    )


def sign_with_our_key(app, claims: dict, header: dict | None = None, **extra_header) -> str:
    """Sign arbitrary claims with the server's real key (what a leak of only claims can't do)."""
    with app.test_request_context():
        key = tokens._signing_key()
        protected = {**(header or {"alg": "ES256", "kid": key.kid}), **extra_header}
        if "crit" not in protected:
            return jwt.encode(protected, claims, key, ["ES256"])
        # joserfc writes a "crit" header only for parameters its registry knows.
        known = {name: HeaderParameter(name, "int") for name in protected["crit"]}
        registry = jws.JWSRegistry(header_registry=known, algorithms=["ES256"])
        payload = json.dumps(claims).encode()
        return jws.serialize_compact(protected, payload, key, ["ES256"], registry=registry)


def call(api, setup, token):
    return api.get(f"/v1/guest-connections/{setup['guest']}", token=token, requester=setup["host"])


def test_the_genuine_token_works(api, setup):
    assert call(api, setup, setup["good"]).status_code == 200


def forged_tokens(setup) -> dict[str, str]:
    good = setup["good"]
    header_b64, payload_b64, signature = good.split(".")
    header = json.loads(base64.urlsafe_b64decode(header_b64 + "=="))
    claims = claims_of(good)
    now = int(time.time())
    public_jwk = setup["public_jwk"]
    stranger_key = ECKey.generate_key("P-256", auto_kid=True)
    rsa_key = RSAKey.generate_key(2048, auto_kid=True)
    return {
        "alg none": f"{b64({**header, 'alg': 'none'})}.{payload_b64}.",
        "HS256 with the public key as secret": jwt.encode(
            {"alg": "HS256", "kid": header["kid"]},
            claims,
            OctKey.import_key(json.dumps(public_jwk).encode()),
            ["HS256"],
        ),
        "RS256 with a key of our own": jwt.encode(
            {"alg": "RS256", "kid": header["kid"]}, claims, rsa_key, ["RS256"]
        ),
        "unknown kid": jwt.encode(
            {"alg": "ES256", "kid": stranger_key.kid}, claims, stranger_key, ["ES256"]
        ),
        "right kid, stranger's signature": jwt.encode(
            {"alg": "ES256", "kid": header["kid"]}, claims, stranger_key, ["ES256"]
        ),
        "tampered payload": f"{header_b64}.{b64({**claims, 'org': 'someone-else'})}.{signature}",
        "expired": sign_with_our_key(setup["app"], {**claims, "exp": now - 10}),
        "not yet valid": sign_with_our_key(setup["app"], {**claims, "nbf": now + 600}),
        "wrong issuer": sign_with_our_key(setup["app"], {**claims, "iss": "https://evil.example"}),
        "wrong audience": sign_with_our_key(setup["app"], {**claims, "aud": "another-api"}),
        "no expiry": sign_with_our_key(
            setup["app"], {k: v for k, v in claims.items() if k != "exp"}
        ),
        "another organization claimed": sign_with_our_key(
            setup["app"], {**claims, "org": str(setup["guest"])}
        ),
        "unknown client": sign_with_our_key(setup["app"], {**claims, "sub": "gc_nobody"}),
        "crit header, empty": sign_with_our_key(setup["app"], claims, crit=[]),
        "crit header, naming an extension": sign_with_our_key(
            setup["app"], claims, crit=["exp2"], exp2=1
        ),
        "garbage": "not-a-token",
        "three garbage parts": "a.b.c",
        "truncated": good[:-10],
        "non-ascii": "ey\u00e9.\u2603.x",
    }


@pytest.fixture
def attack_setup(setup, client):
    setup["public_jwk"] = client.get("/.well-known/jwks.json").json["keys"][0]
    return setup


ATTACKS = [
    "alg none",
    "HS256 with the public key as secret",
    "RS256 with a key of our own",
    "unknown kid",
    "right kid, stranger's signature",
    "tampered payload",
    "expired",
    "not yet valid",
    "wrong issuer",
    "wrong audience",
    "no expiry",
    "another organization claimed",
    "unknown client",
    "crit header, empty",
    "crit header, naming an extension",
    "garbage",
    "three garbage parts",
    "truncated",
    "non-ascii",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_forged_or_stale_tokens_are_refused(api, attack_setup, attack):
    token = forged_tokens(attack_setup)[attack]
    response = call(api, attack_setup, token)
    assert response.status_code == 401, response.json
    assert response.json["detail"][0]["code"] == "invalid_token"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_clients_unexpired_token_stops_working(api, setup, runner):
    assert call(api, setup, setup["good"]).status_code == 200
    result = runner.invoke(args=["api-clients", "revoke", setup["credentials"].client_id])
    assert result.exit_code == 0
    response = call(api, setup, setup["good"])
    assert response.status_code == 401
    assert response.json["detail"][0]["code"] == "invalid_token"


def test_a_token_that_worked_is_refused_once_it_expires(api, setup, monkeypatch):
    """Does this process, having verified a token before, still refuse it after its exp?"""
    good = setup["good"]
    assert call(api, setup, good).status_code == 200
    expires = claims_of(good)["exp"]

    monkeypatch.setattr(time, "time", lambda: expires + 1)
    response = call(api, setup, good)

    assert response.status_code == 401
    assert response.json["detail"][0]["code"] == "invalid_token"


@pytest.mark.parametrize("attack", ["wrong issuer", "wrong audience", "not yet valid"])
def test_a_refused_token_stays_refused(api, attack_setup, attack):
    """Is a well-signed token with a bad claim refused on every call, not only the first?"""
    token = forged_tokens(attack_setup)[attack]
    statuses = [call(api, attack_setup, token).status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
