"""`flask dev`: the development sign-in provider, never in production."""

from __future__ import annotations

import json
import subprocess

from app import create_app
from app.cli.dev_server import provider_command
from tests import conftest


def test_dev_refuses_to_start_a_provider_in_production(tmp_path, monkeypatch):
    monkeypatch.delenv("OIDC_ISSUER", raising=False)
    app = create_app(
        conftest.test_config(
            tmp_path,
            APP_ENV="production",
            OIDC_ISSUER="https://login.example.com",
            PUBLIC_URL="https://connections.example.com",
        )
    )
    app.config["OIDC_ISSUER"] = None  # as if production had started without one

    result = app.test_cli_runner().invoke(args=["dev", "--port", "5199"])

    assert result.exit_code == 1
    assert "OIDC_ISSUER must be set in production" in result.output


def test_provider_offers_the_demo_people_with_verified_emails():
    command = provider_command(9400, ["admin@northwind.example"])
    assert command[1:3] == ["-m", "app.cli.dev_provider"]
    assert command[command.index("--host") + 1] == "127.0.0.1"
    claims = json.loads(command[command.index("--user-claims") + 1])
    assert claims == {
        "sub": "admin@northwind.example",
        "email": "admin@northwind.example",
        "email_verified": True,
    }


def test_the_provider_starts_without_its_dependencies_deprecation_notices():
    """Is `scripts/run`'s console free of the mock's Authlib deprecation warnings?"""
    command = provider_command(9400, [])
    result = subprocess.run(  # noqa: S603 - our own command line
        [*command[:3], "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "Start an OpenID Connect Provider" in result.stdout
    assert "Warning" not in result.stderr, result.stderr
