"""`flask worker` and `flask outbox`: drain, stop on SIGTERM, survive failures, list and retry."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

from app.extensions import db
from app.models import OutboxMessage, OutboxStatus, utcnow
from app.schemas import WebhookEndpointCreate
from app.services import webhooks
from app.services.audit import Actor
from tests.conftest import TEST_SECRET, failing_statement, json_line


def queue_email(app, org, subject: str = "Northwind noticed"):
    with app.app_context():
        message = OutboxMessage(
            kind="disconnection_notification",
            recipient_email="finance@alder.example",
            subject=subject,
            body="Hello.",
            host_organization_id=org,
            created_at=utcnow(),
        )
        db.session.add(message)
        db.session.commit()
        return message.id


def test_worker_once_delivers_e_mails_and_webhooks_then_exits(
    app, runner, host, smtp_server, receiver
):
    queue_email(app, host)
    with app.app_context():
        endpoint = webhooks.create_endpoint(
            host, WebhookEndpointCreate(url=receiver.url), actor=Actor.cli()
        )
        webhooks.send_test(host, endpoint.id, actor=Actor.cli())

    result = runner.invoke(args=["worker", "--once"])

    assert result.exit_code == 0, result.output
    assert json_line(result.stdout) == {"sent": 2, "retried": 0, "failed": 0}
    assert len(smtp_server.messages) == 1
    assert [body["type"] for body in receiver.bodies()] == ["ping"]


def test_worker_survives_a_database_failure(app, runner, host):
    with failing_statement(app, "SELECT"):
        result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0
    assert result.exception is None


def test_outbox_list_failed_and_retry(app, runner, host, smtp_server, run_worker):
    bad = queue_email(app, host, "Bad\r\nsubject")
    later = timedelta(0)
    for _ in range(7):
        run_worker(later)
        later += timedelta(hours=11)

    listed = runner.invoke(args=["outbox", "list", "--failed"])
    assert listed.exit_code == 0
    [line] = listed.stdout.strip().splitlines()
    assert line.startswith(f"{bad}  failed")
    assert "attempts 7" in line and "linefeed" in line

    retried = runner.invoke(args=["outbox", "retry", str(bad)])
    assert retried.exit_code == 0, retried.output
    assert runner.invoke(args=["outbox", "list", "--failed"]).stdout.strip() == (
        "No failed messages."
    )
    with app.app_context():
        assert db.session.get(OutboxMessage, bad).status == OutboxStatus.PENDING
    again = runner.invoke(args=["outbox", "retry", str(bad)])
    assert again.exit_code == 1
    assert again.stderr.strip() == "Error: Only a failed message can be retried."
    assert runner.invoke(args=["outbox", "retry", "nope"]).exit_code == 1


def test_worker_stops_cleanly_on_sigterm(app, tmp_path):
    """A long-running worker: does SIGTERM end it with exit 0 and its summary?"""
    environment = {
        **os.environ,
        "APP_ENV": "testing",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": TEST_SECRET,
        "INSTANCE_PATH": str(tmp_path),
        "FLASK_APP": "app",
    }
    process = subprocess.Popen(  # noqa: S603 - our own command
        [sys.executable, "-m", "flask", "worker", "--interval", "0.1"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first_line = process.stdout.readline()
        assert first_line.startswith("== worker delivering the outbox")
        time.sleep(0.3)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert json.loads(out.strip().splitlines()[-1]) == {"sent": 0, "retried": 0, "failed": 0}
    assert "Traceback" not in err
