"""A real OpenID provider for the tests (oidc-provider-mock), shared by the session.

Tests put people on it with `provider.set_person(sub, claims)`, then sign in through it the way a
browser would: our /sign-in redirects to its authorization endpoint, a POST there with `sub`
answers with a redirect to our callback.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask

from app.cli.dev_server import start_provider, stop_provider

_running: dict[str, ProviderHandle] = {}


@dataclass
class ProviderHandle:
    issuer: str

    def set_person(self, sub: str, claims: dict) -> None:
        """Create or replace the person with this subject and these claims."""
        response = requests.put(f"{self.issuer}/users/{sub}", json=claims, timeout=5)
        response.raise_for_status()

    def approve(self, authorization_url: str, sub: str) -> str:
        """Sign in as `sub` at the provider's form; return the redirect back to us."""
        response = requests.post(
            authorization_url, data={"sub": sub}, allow_redirects=False, timeout=5
        )
        assert response.status_code == 302, response.text
        return response.headers["Location"]

    def deny(self, authorization_url: str) -> str:
        response = requests.post(
            authorization_url, data={"action": "deny"}, allow_redirects=False, timeout=5
        )
        assert response.status_code == 302, response.text
        return response.headers["Location"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start() -> ProviderHandle:
    if "provider" not in _running:
        # A child process, started as `flask dev` starts it: its own warnings stay its own.
        process, issuer = start_provider(_free_port(), [])
        _running["provider"] = ProviderHandle(issuer)
        _running["process"] = process  # type: ignore[assignment]
    return _running["provider"]


@pytest.fixture(scope="session")
def oidc_provider(app: Flask):
    """Start the provider (once, whichever test folder asks first) and point the app at it."""
    owner = "provider" not in _running
    handle = _start()
    app.config["OIDC_ISSUER"] = handle.issuer
    app.config["OIDC_CLIENT_SECRET"] = "test-client-secret"
    yield handle
    if owner:
        _running.pop("provider")
        stop_provider(_running.pop("process"))  # type: ignore[arg-type]


def relative(url: str) -> str:
    """Return the path and query of a URL, for the Flask test client."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
