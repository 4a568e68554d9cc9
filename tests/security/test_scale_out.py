"""Two app servers (gunicorn) on one PostgreSQL and one Redis behave as one service.

A token from one verifies on the other, a browser signed in on one is signed in on the other,
rate-limit counts are shared, and a key rotated once is used by both.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import requests
from joserfc import jws

from tests.conftest import CSRF
from tests.oidc_provider import ProviderHandle

pytestmark = pytest.mark.postgres_only

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PORTS = (5510, 5511)
REDIS_URI = "redis://127.0.0.1:6379/7"


def redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URI, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def server_env(tmp_path, oidc_provider) -> dict[str, str]:
    if not redis_available():
        pytest.skip("needs Redis at 127.0.0.1:6379")
    return {
        **os.environ,
        "APP_ENV": "production",
        "DATABASE_URL": os.environ["TEST_DATABASE_URL"],
        "SECRET_KEY": "scale-out-test-secret-Vq9Zt2Lw0pXr8Ye3NbHc7Ud5Mf",
        "OIDC_ISSUER": oidc_provider.issuer,
        "OIDC_CLIENT_SECRET": "test-client-secret",
        # Both servers sit behind one address; the provider sends people back to the first.
        "PUBLIC_URL": f"http://127.0.0.1:{PORTS[0]}",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "RATELIMIT_STORAGE_URI": REDIS_URI,
        "RATELIMIT_KEY_PREFIX": f"test-security-{uuid.uuid4().hex}",
        "TOKEN_RATE_LIMIT": "6 per hour",
        # Read the keys on every request, so a rotation shows at once (the cache period itself
        # is tested in test_key_rotation.py with a fake clock).
        "SIGNING_KEY_CACHE_SECONDS": "0",
        "FLASK_APP": "app",
    }


def wait_until_serving(base_url: str, process: subprocess.Popen, log: Path) -> None:
    for _ in range(150):
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited:\n{log.read_text()}")
        try:
            if requests.get(f"{base_url}/healthz", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass  # not listening yet, or the worker is still importing the app
        time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer on {base_url}:\n{log.read_text()}")


@contextmanager
def gunicorn(port: int, env: dict[str, str], log: Path) -> Iterator[str]:
    """Serve the app with gunicorn on a port of ours; yield its base URL; stop it afterwards."""
    base_url = f"http://127.0.0.1:{port}"
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
            [
                str(BIN / "gunicorn"),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--threads",
                "2",
                "--no-control-socket",  # its default path is shared by every gunicorn
                "app:create_app()",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_serving(base_url, process, log)
            yield base_url
        finally:
            process.terminate()
            process.wait(timeout=30)


@pytest.fixture
def servers(server_env, tmp_path) -> Iterator[list[str]]:
    with ExitStack() as stack:
        yield [
            stack.enter_context(gunicorn(port, server_env, tmp_path / f"gunicorn-{port}.log"))
            for port in PORTS
        ]


def token_from(base_url: str, credentials: dict) -> requests.Response:
    return requests.post(f"{base_url}/oauth2/token", json=credentials, timeout=10)


def kid_of(token: str) -> str:
    return jws.extract_compact(token.encode()).protected["kid"]


def get_guest(base_url: str, token: str, host, guest) -> requests.Response:
    return requests.get(
        f"{base_url}/v1/guest-connections/{guest}",
        headers={
            "Authorization": f"Bearer {token}",
            "Requester-Organization-ID": str(host),
            "Target-Organization-ID": str(host),
        },
        timeout=10,
    )


def test_two_servers_act_as_one(servers, server_env, make_org, make_connection, make_client):
    """Tokens cross servers, one rotation reaches both, and rate limits count across both?"""
    server_a, server_b = servers
    host, guest = make_org("Host"), make_org("Guest")
    make_connection(host, guest)
    credentials = make_client(host).__dict__

    # Token requests 1 and 2 (of 6 allowed per hour): a token from A verifies on B and back.
    token_a = token_from(server_a, credentials).json()["access_token"]
    token_b = token_from(server_b, credentials).json()["access_token"]
    assert get_guest(server_b, token_a, host, guest).status_code == 200
    assert get_guest(server_a, token_b, host, guest).status_code == 200
    assert kid_of(token_a) == kid_of(token_b)

    # One rotation, run once as an operator would; requests 3 and 4 are signed with the new key.
    rotated = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
        [str(BIN / "flask"), "keys", "rotate"],
        cwd=ROOT,
        env=server_env,
        capture_output=True,
        text=True,
        check=True,
    )
    new_kid = json.loads(rotated.stdout.strip().splitlines()[-1])["kid"]
    assert kid_of(token_from(server_a, credentials).json()["access_token"]) == new_kid
    assert kid_of(token_from(server_b, credentials).json()["access_token"]) == new_kid
    assert get_guest(server_b, token_a, host, guest).status_code == 200  # old tokens still work

    # Requests 5 and 6 pass; the 7th is refused on A although A itself saw only 4 requests.
    assert token_from(server_a, credentials).status_code == 200
    assert token_from(server_b, credentials).status_code == 200
    refused_a = token_from(server_a, credentials)
    refused_b = token_from(server_b, credentials)
    assert refused_a.status_code == refused_b.status_code == 429
    assert refused_a.json()["detail"][0]["code"] == "rate_limited"
    assert int(refused_a.headers["Retry-After"]) >= 1


def session_cookie(response: requests.Response) -> str:
    # Read by hand: the production cookie is Secure, which requests would not send over http.
    return response.cookies["session"]


def sign_in_on(base_url: str, provider: ProviderHandle, sub: str) -> str:
    """Sign in through the real flow on one server; return the session cookie it set."""
    page = requests.get(f"{base_url}/sign-in", timeout=10)
    cookie = session_cookie(page)
    started = requests.post(
        f"{base_url}/sign-in",
        data={"csrf_token": CSRF.search(page.text).group(1)},
        cookies={"session": cookie},
        allow_redirects=False,
        timeout=10,
    )
    assert started.status_code == 302, started.text
    back = provider.approve(started.headers["Location"], sub)
    assert back.startswith(f"{base_url}/auth/callback"), back
    finished = requests.get(
        back,
        cookies={"session": session_cookie(started)},
        allow_redirects=False,
        timeout=10,
    )
    assert finished.status_code == 302, finished.text
    return session_cookie(finished)


def test_a_browser_signed_in_on_one_server_is_signed_in_on_both(
    servers,
    oidc_provider,
    make_org,
    make_member,
    make_connection,
):
    """Can a load balancer send a signed-in person's requests to either server?"""
    server_a, server_b = servers
    host, guest = make_org("Northwind Supplies"), make_org("Alder Foods")
    make_connection(host, guest)
    make_member(host, "nora@northwind.example", role="admin")
    oidc_provider.set_person(
        "sub-nora-scale", {"email": "nora@northwind.example", "email_verified": True}
    )

    cookie = sign_in_on(server_a, oidc_provider, "sub-nora-scale")

    for base_url in (server_a, server_b):
        page = requests.get(
            f"{base_url}/orgs/{host}/guest-connections",
            cookies={"session": cookie},
            allow_redirects=False,
            timeout=10,
        )
        assert page.status_code == 200, (base_url, page.status_code)
        assert "Alder Foods" in page.text
