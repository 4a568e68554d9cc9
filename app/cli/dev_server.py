"""`flask dev`: the development server, with a development sign-in provider when none is set.

With no OIDC_ISSUER (and not in production) it starts the PyPI package oidc-provider-mock —
a real OpenID provider — on 127.0.0.1 as a child process, waits until it answers, points the
app at it and serves the app. The provider stops with the app. The demo people (the users
that have an organization) are offered on the provider's page with a verified e-mail, so
sign-in takes the same code path as in production.

It also starts a worker (`flask worker`) that delivers the outbox, and, with no SMTP_HOST, a
real SMTP server (aiosmtpd) on 127.0.0.1 that catches every e-mail into a Maildir in the
instance folder; /dev/mail lists what it caught. All of them stop with the app.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess  # noqa: S404 - starts our own dependency, with fixed arguments
import sys
import time

import click
import requests
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.serving import run_simple

from app.services import members

PROVIDER_START_SECONDS = 30


@click.command("dev")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on.")
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--provider-port", default=9400, show_default=True, type=int)
@click.option("--mail-port", default=8025, show_default=True, type=int)
@with_appcontext
def dev(host: str, port: int, provider_port: int, mail_port: int) -> None:
    """Serve the app for development, with a development sign-in provider if none is set,
    a worker, and a local SMTP server that catches every e-mail."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    provider = None
    children = []
    if not app.config.get("OIDC_ISSUER"):
        if app.config["APP_ENV"] == "production":
            raise click.ClickException(
                "OIDC_ISSUER must be set in production; the development provider is never used."
            )
        demo = members.demo_sign_in_emails()
        provider, issuer = start_provider(provider_port, demo)
        app.config["OIDC_ISSUER"] = issuer
        # The development provider accepts any client secret, but wants one.
        app.config["OIDC_CLIENT_SECRET"] = app.config.get("OIDC_CLIENT_SECRET") or "development"
        app.config["DEV_SIGN_IN_EMAILS"] = demo
        click.echo(f"== development sign-in provider at {issuer} (oidc-provider-mock)")
    if not app.config.get("SMTP_HOST"):
        if app.config["APP_ENV"] == "production":
            raise click.ClickException("Set SMTP_HOST in production; no mail catcher runs there.")
        children.append(start_mail_catcher(mail_port, app.config["DEV_MAIL_DIR"]))
        app.config["SMTP_HOST"], app.config["SMTP_PORT"] = "127.0.0.1", mail_port
        click.echo(
            f"== e-mail caught by aiosmtpd on 127.0.0.1:{mail_port}: http://{host}:{port}/dev/mail"
        )
    children.append(start_worker(app.config))
    click.echo(f"== open http://{host}:{port}/  (API reference: http://{host}:{port}/docs)")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)
    finally:
        for child in [*children, provider]:
            if child is not None:
                stop_provider(child)


def provider_command(port: int, emails: list[str]) -> list[str]:
    """Return the command line of the development provider, offering these people."""
    command = [
        sys.executable,
        "-m",
        "app.cli.dev_provider",  # oidc_provider_mock, without its dependencies' notices
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    for email in emails:
        claims = {"sub": email, "email": email, "email_verified": True}
        command += ["--user-claims", json.dumps(claims)]
    return command


def start_provider(port: int, emails: list[str]) -> tuple[subprocess.Popen, str]:
    """Start the provider, wait until its discovery document answers, return it and its issuer."""
    issuer = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(  # noqa: S603 - fixed arguments, no shell
        provider_command(port, emails), preexec_fn=_die_with_parent
    )
    deadline = time.monotonic() + PROVIDER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise click.ClickException(
                f"The development sign-in provider stopped (exit {process.returncode}); "
                f"is port {port} free? Try --provider-port."
            )
        try:
            if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1).ok:
                return process, issuer
        except requests.RequestException:
            pass
        time.sleep(0.2)
    stop_provider(process)
    raise click.ClickException("The development sign-in provider did not start in time.")


def start_mail_catcher(port: int, maildir: str) -> subprocess.Popen:
    """Start aiosmtpd on 127.0.0.1, keeping every message in a Maildir; wait until it answers."""
    command = [
        sys.executable,
        "-m",
        "aiosmtpd",
        "-n",
        "-l",
        f"127.0.0.1:{port}",
        "-c",
        "aiosmtpd.handlers.Mailbox",
        maildir,
    ]
    process = subprocess.Popen(command, preexec_fn=_die_with_parent)  # noqa: S603 - fixed
    deadline = time.monotonic() + PROVIDER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise click.ClickException(
                f"The development mail server stopped (exit {process.returncode}); "
                f"is port {port} free? Try --mail-port."
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    stop_provider(process)
    raise click.ClickException("The development mail server did not start in time.")


def start_worker(config: dict) -> subprocess.Popen:
    """Start `flask worker` with this app's database and mail settings."""
    environment = {
        **os.environ,
        "FLASK_APP": "app",
        "SMTP_HOST": str(config["SMTP_HOST"] or ""),
        "SMTP_PORT": str(config["SMTP_PORT"]),
    }
    return subprocess.Popen(  # noqa: S603 - our own command, no shell
        [sys.executable, "-m", "flask", "worker"], preexec_fn=_die_with_parent, env=environment
    )


def stop_provider(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()


def _die_with_parent() -> None:
    """Ask Linux to stop the provider if the app dies without cleaning up (kill -9)."""
    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1  # noqa: N806 - the kernel's name
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
