"""Production refuses to start with settings that would make it unsafe."""

import importlib

import pytest

from app import create_app
from app.config import ConfigError

STRONG_SECRET = "kq3V9-ZtLw0pXr8Ye2NbHc7Ud5Mf1Ja4Gs6Qo_Ti"


def production(tmp_path, **overrides) -> dict:
    return {
        "APP_ENV": "production",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}",
        "SECRET_KEY": STRONG_SECRET,
        "OIDC_ISSUER": "https://login.example.com",
        "PUBLIC_URL": "https://connections.example.com",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        **overrides,
    }


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch):
    for name in ("SECRET_KEY", "OIDC_ISSUER", "DATABASE_URL", "APP_ENV"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY must be set in production"),
        ({"SECRET_KEY": ""}, "SECRET_KEY must be set in production"),
        ({"SECRET_KEY": "change-me"}, "SECRET_KEY must be at least 32 characters"),
        ({"SECRET_KEY": "dev"}, "SECRET_KEY must be at least 32 characters"),
        ({"SECRET_KEY": "x" * 64}, "SECRET_KEY looks like a placeholder"),
        ({"SECRET_KEY": "change-me" * 4}, "SECRET_KEY looks like a placeholder"),
        ({"OIDC_ISSUER": None}, "OIDC_ISSUER must be set in production"),
        ({"OIDC_ISSUER": ""}, "OIDC_ISSUER must be set in production"),
        ({"DATABASE_URL": None}, "DATABASE_URL must be set in production"),
    ],
)
def test_production_refuses_unsafe_settings(tmp_path, overrides, message):
    """Does production stop at start-up, saying which setting to fix?"""
    with pytest.raises(ConfigError, match=message):
        create_app(production(tmp_path, **overrides))


def test_production_never_generates_a_secret(tmp_path):
    """Is no development secret written (and silently used) in production?"""
    with pytest.raises(ConfigError):
        create_app(production(tmp_path, SECRET_KEY=None))
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_production_starts_with_safe_settings(tmp_path):
    """Does a complete production configuration start, with secure cookies?"""
    app = create_app(production(tmp_path))

    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["TESTING"] is False


def test_environment_settings_are_checked_too(tmp_path, monkeypatch):
    """Is a short SECRET_KEY from the environment refused like one from a file?"""
    monkeypatch.setenv("SECRET_KEY", "short")
    overrides = production(tmp_path)
    del overrides["SECRET_KEY"]
    with pytest.raises(ConfigError, match="at least 32 characters"):
        create_app(overrides)


def test_the_development_mail_page_does_not_exist_in_production(tmp_path):
    """/dev/mail lists caught e-mail in development; production never registers it."""
    app = create_app(production(tmp_path))
    assert "/dev/mail" not in {rule.rule for rule in app.url_map.iter_rules()}
    assert app.test_client().get("/dev/mail").status_code == 404


def test_production_needs_public_url(tmp_path):
    """Does production refuse to start without the address its links are built on?"""
    with pytest.raises(ConfigError, match="PUBLIC_URL must be set in production"):
        create_app(production(tmp_path, PUBLIC_URL=None))


def test_links_come_from_public_url_never_from_the_host_header(tmp_path):
    """Does a forged Host header leave the links we hand out (sign-in redirect) alone?"""
    app = create_app(production(tmp_path))
    with app.test_request_context("/", headers={"Host": "evil.example"}):
        from app.http import external_url

        assert external_url("auth.callback") == "https://connections.example.com/auth/callback"


@pytest.mark.parametrize(("proxies", "allowed"), [("0", ""), ("", ""), ("1", "*"), ("2", "*")])
def test_gunicorn_believes_forwarded_headers_only_behind_trusted_proxies(
    monkeypatch, proxies, allowed
):
    """With TRUSTED_PROXIES=0, does gunicorn ignore X-Forwarded-Proto even from 127.0.0.1?"""
    monkeypatch.setenv("TRUSTED_PROXIES", proxies)
    import app.gunicorn_conf as conf

    assert importlib.reload(conf).forwarded_allow_ips == allowed


class FakeServer:
    def __init__(self, application, workers: int) -> None:
        self.app = type("Loaded", (), {"wsgi": lambda _self: application})()
        self.cfg = type("Cfg", (), {"workers": workers})()
        self.warnings: list[str] = []
        self.log = type("Log", (), {"warning": lambda _s, msg, *a: self.warnings.append(msg % a)})()


@pytest.mark.parametrize(
    ("storage", "workers", "warned"),
    [("memory://", 4, True), ("memory://", 1, False), ("redis://127.0.0.1:6379/0", 4, False)],
)
def test_memory_rate_limits_with_several_workers_are_warned_about(
    tmp_path, storage, workers, warned
):
    """Does gunicorn say at start that per-worker memory counts multiply the limits?"""
    import app.gunicorn_conf as conf

    server = FakeServer(create_app(production(tmp_path, RATELIMIT_STORAGE_URI=storage)), workers)
    conf.when_ready(server)
    assert bool(server.warnings) == warned
    if warned:
        assert "multiply by 4" in server.warnings[0]
        assert "redis://" in server.warnings[0]


def test_workers_fork_with_the_loaded_app_frozen_out_of_the_collector(tmp_path):
    """Does the master freeze what it loaded, so a worker's full collections skip it?"""
    import gc

    import app.gunicorn_conf as conf

    create_app(production(tmp_path))
    tracked_before = len(gc.get_objects())
    try:
        conf.pre_fork(server=None, worker=None)
        # What a full collection in the worker would walk: only what it makes from now on.
        assert len(gc.get_objects()) < tracked_before / 100
    finally:
        gc.unfreeze()
