"""Signing keys and the JWTs given to API clients.

Keys live in the database (private part encrypted with a key derived from SECRET_KEY), so every
app server signs and verifies with the same keys; each process caches them in memory and only
goes back to the database when it meets a key id it does not know, or once a minute.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet
from cryptography.fernet import InvalidToken as FernetInvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from joserfc.jwt import JWTClaimsRegistry

from app.errors import InvalidToken
from app.extensions import db
from app.models import SigningKey

ALGORITHM = "ES256"
CURVE = "P-256"
# A key id we do not know sends us to the database at most this often per process.
UNKNOWN_KID_RELOAD_SECONDS = 1.0
# Tokens whose signature this process has checked, remembered so that a client's next calls
# skip the signature check (a fifth of an API call's time) and the checks of claims that cannot
# change (issuer, audience, types); whether now is within the token's lifetime is checked each time.
VERIFIED_TOKENS_KEPT = 10_000


@dataclass
class _KeyCache:
    signing: ECKey | None = None
    verifying: dict[str, ECKey] = field(default_factory=dict)
    loaded_at: float = float("-inf")
    lock: threading.Lock = field(default_factory=threading.Lock)
    # token text -> (kid, claims, whether its claims held): tokens whose signature verified.
    verified: dict[str, tuple[str, dict, bool]] = field(default_factory=dict)
    claims_registry: JWTClaimsRegistry | None = None


def _cache() -> _KeyCache:
    cache = current_app.extensions.get("signing_key_cache")
    if cache is None:  # not setdefault(): that would build a cache (and its lock) every call
        cache = current_app.extensions.setdefault("signing_key_cache", _KeyCache())
    return cache


def _fernet() -> Fernet:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"guest-connections signing keys"
    ).derive(current_app.config["SECRET_KEY"].encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def _cache_seconds() -> float:
    return float(current_app.config["SIGNING_KEY_CACHE_SECONDS"])


def _usable_since(now: datetime) -> datetime:
    """Return the earliest retirement time whose key may still verify an unexpired token."""
    # Another server may go on signing with a retired key until its cache expires.
    return now - timedelta(seconds=current_app.config["TOKEN_TTL_SECONDS"] + _cache_seconds())


def _load_keys() -> None:
    cache = _cache()
    now = datetime.now(UTC)
    rows = db.session.scalars(
        db.select(SigningKey)
        .where((SigningKey.retired_at.is_(None)) | (SigningKey.retired_at > _usable_since(now)))
        .order_by(SigningKey.created_at)
    ).all()
    verifying: dict[str, ECKey] = {}
    signing: ECKey | None = None
    fernet = _fernet()
    for row in rows:
        if row.retired_at is None:
            try:
                pem = fernet.decrypt(row.private_key_encrypted.encode())
            except FernetInvalidToken:
                # Encrypted under another SECRET_KEY: it can still verify, never sign.
                verifying[row.kid] = ECKey.import_key(row.public_jwk)
                continue
            signing = ECKey.import_key(pem, {"kid": row.kid})
            verifying[row.kid] = signing
        else:
            verifying[row.kid] = ECKey.import_key(row.public_jwk)
    cache.signing, cache.verifying, cache.loaded_at = signing, verifying, time.monotonic()


def create_signing_key() -> SigningKey:
    """Generate a key, store it encrypted, and make it the one new tokens are signed with."""
    key = ECKey.generate_key(CURVE, auto_kid=True)
    private_pem = key.as_pem(private=True)
    row = SigningKey(
        kid=key.kid,
        public_jwk=key.as_dict(private=False) | {"alg": ALGORITHM, "use": "sig"},
        private_key_encrypted=_fernet().encrypt(private_pem).decode(),
    )
    db.session.add(row)
    return row


def rotate_signing_key() -> tuple[SigningKey, list[str]]:
    """Add a new signing key and retire the others; return it and the retired key ids."""
    now = datetime.now(UTC)
    current = db.session.scalars(db.select(SigningKey).where(SigningKey.retired_at.is_(None))).all()
    for row in current:
        row.retired_at = now
    new = create_signing_key()
    db.session.commit()
    _cache().loaded_at = float("-inf")
    return new, [row.kid for row in current]


def _signing_key() -> ECKey:
    cache = _cache()
    if cache.signing is None or time.monotonic() - cache.loaded_at > _cache_seconds():
        with cache.lock:
            _load_keys()
            if cache.signing is None:
                create_signing_key()
                db.session.commit()
                _load_keys()
    assert cache.signing is not None  # noqa: S101 - _load_keys just stored the key we created
    return cache.signing


def _verifying_key(kid: str) -> ECKey | None:
    cache = _cache()
    key = cache.verifying.get(kid)
    stale = time.monotonic() - cache.loaded_at
    if (key is None and stale > UNKNOWN_KID_RELOAD_SECONDS) or stale > _cache_seconds():
        with cache.lock:
            _load_keys()
        key = cache.verifying.get(kid)
    return key


def public_jwks() -> dict:
    """Return the JSON Web Key Set of every key that may verify a live token."""
    _signing_key()
    return {
        "keys": [
            key.as_dict(private=False) | {"alg": ALGORITHM, "use": "sig"}
            for key in _cache().verifying.values()
        ]
    }


def issue_access_token(client_id: str, organization_id: uuid.UUID) -> tuple[str, int]:
    """Return a signed JWT for an API client and its lifetime in seconds."""
    config = current_app.config
    ttl = int(config["TOKEN_TTL_SECONDS"])
    now = int(time.time())
    key = _signing_key()
    claims = {
        "iss": config["TOKEN_ISSUER"],
        "aud": config["TOKEN_AUDIENCE"],
        "sub": client_id,
        "org": str(organization_id),
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": secrets.token_urlsafe(12),
    }
    token = jwt.encode({"alg": ALGORITHM, "kid": key.kid, "typ": "JWT"}, claims, key, [ALGORITHM])
    return token, ttl


def verify_access_token(token: str) -> dict:
    """Return the claims of a token we issued, or raise InvalidToken."""
    cache = _cache()
    known = cache.verified.get(token)
    if known is not None and _verifying_key(known[0]) is not None:
        # Same text, same key: the signature verified before.
        kid, claims, claims_held = known
    else:
        (kid, claims), claims_held = _verified_signature(token), False
    if claims_held:
        # Issuer, audience and the claims' types held when it was first checked; time moves.
        if not _within_lifetime(claims):
            raise InvalidToken()
        return claims
    if len(cache.verified) >= VERIFIED_TOKENS_KEPT:
        cache.verified.clear()  # bounded memory; clients simply get checked again
    cache.verified[token] = (kid, claims, False)
    try:
        _claims_registry().validate(claims)
    except (JoseError, ValueError, TypeError):
        raise InvalidToken() from None
    if not isinstance(claims.get("sub"), str):
        raise InvalidToken()
    cache.verified[token] = (kid, claims, True)
    return claims


def _within_lifetime(claims: dict) -> bool:
    """Tell whether now is within the token's lifetime, as the claims registry checks it."""
    now = int(time.time())
    return claims["nbf"] <= now < claims["exp"] and claims.get("iat", now) <= now


def _verified_signature(token: str) -> tuple[str, dict]:
    """Return the key id and claims of a token signed by one of our keys, or raise InvalidToken."""
    try:
        header = jws.extract_compact(token.encode()).protected
    except (JoseError, ValueError, UnicodeError):
        raise InvalidToken() from None
    if header.get("alg") != ALGORITHM or not isinstance(header.get("kid"), str):
        raise InvalidToken()
    if "crit" in header:
        # RFC 7515 4.1.11: we understand no extension, so any "crit" (even empty) is refused.
        raise InvalidToken()
    key = _verifying_key(header["kid"])
    if key is None:
        raise InvalidToken()
    try:
        decoded = jwt.decode(token, key, algorithms=[ALGORITHM])
    except (JoseError, ValueError, TypeError):
        raise InvalidToken() from None
    return header["kid"], decoded.claims


def _claims_registry() -> JWTClaimsRegistry:
    cache = _cache()
    if cache.claims_registry is None:
        config = current_app.config
        cache.claims_registry = JWTClaimsRegistry(
            iss={"essential": True, "value": config["TOKEN_ISSUER"]},
            aud={"essential": True, "value": config["TOKEN_AUDIENCE"]},
            sub={"essential": True},
            exp={"essential": True},
            nbf={"essential": True},
        )
    return cache.claims_registry


def new_client_credentials() -> tuple[str, str]:
    """Return a fresh (client_id, client_secret) pair."""
    return f"gc_{secrets.token_urlsafe(18)}", secrets.token_urlsafe(32)


def hash_client_secret(secret: str) -> str:
    # The secret is 256 random bits, not a password: a fast hash is as strong as a slow one
    # here, and keeps the token endpoint fast.
    return hashlib.sha256(secret.encode()).hexdigest()


def client_secret_matches(secret: str, secret_hash: str) -> bool:
    return hmac.compare_digest(hash_client_secret(secret), secret_hash)
