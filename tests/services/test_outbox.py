"""The outbox: each message on its own, retried with backoff, set aside after the last attempt,
never holding up the others — through a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import OutboxMessage, OutboxStatus, WebhookDelivery, utcnow
from app.services import outbox, webhooks
from app.services.audit import Actor


def queue(app, org, subject: str = "Northwind noticed", to: str = "finance@alder.example"):
    with app.app_context():
        message = OutboxMessage(
            kind="disconnection_notification",
            recipient_email=to,
            subject=subject,
            body="Hello.",
            host_organization_id=org,
            created_at=utcnow(),
        )
        db.session.add(message)
        db.session.commit()
        return message.id


def stored(app, message_id) -> OutboxMessage:
    with app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        db.session.expunge(message)
        return message


def test_a_message_smtp_cannot_take_does_not_stop_the_others(app, host, smtp_server, run_worker):
    """The reproduction: a subject with CR/LF between two good messages."""
    first = queue(app, host, "First")
    bad = queue(app, host, "Hello\r\nBcc: everyone@example.com")
    last = queue(app, host, "Last")

    done = run_worker()

    assert (done.sent, done.retried) == (2, 1)
    assert [m["Subject"] for m in smtp_server.messages] == ["First", "Last"]
    assert stored(app, first).status == OutboxStatus.SENT
    assert stored(app, last).sent_at is not None
    refused = stored(app, bad)
    assert refused.status == OutboxStatus.PENDING and refused.attempts == 1
    assert "linefeed or carriage return" in refused.last_error


def test_a_failing_message_is_retried_with_backoff_then_set_aside(
    app, host, smtp_server, run_worker
):
    bad = queue(app, host, "Bad\nsubject")
    waits = []
    later = timedelta(0)
    for _ in range(outbox.MAX_ATTEMPTS):
        assert run_worker(later).total() == 1
        message = stored(app, bad)
        waits.append(message.next_attempt_at - utcnow() - later)
        later = message.next_attempt_at - utcnow() + timedelta(seconds=1)
    assert message.status == OutboxStatus.FAILED and message.attempts == 7
    for wait, planned in zip(waits[:6], outbox.RETRY_DELAYS, strict=True):
        assert planned * 0.89 < wait < planned * 1.11
    assert run_worker(later + timedelta(days=3)).total() == 0  # set aside: no more attempts

    with app.app_context():
        [listed] = outbox.list_messages(failed_only=True)
        assert listed.id == bad and listed.attempts == 7
        outbox.retry_message(bad, actor=Actor.cli())
    assert stored(app, bad).status == OutboxStatus.PENDING
    assert stored(app, bad).attempts == 0


def test_an_unreachable_mail_server_is_a_failed_attempt_not_a_crash(
    app, host, run_worker, monkeypatch
):
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", 9)  # discard: nobody listens
    message = queue(app, host)
    assert run_worker().retried == 1
    assert stored(app, message).last_error.startswith("ConnectionRefusedError")


def test_without_a_sender_e_mails_wait_and_webhooks_still_go(app, host, run_worker):
    message = queue(app, host)
    assert run_worker().total() == 0
    assert stored(app, message).attempts == 0


@pytest.mark.postgres_only
def test_two_workers_never_send_one_message_twice(app, host, receiver, make_org):
    """Two workers on one PostgreSQL, 30 deliveries: is each sent exactly once?"""
    from app.schemas import WebhookEndpointCreate

    receiver.delay = 0.02
    with app.app_context():
        endpoint = webhooks.create_endpoint(
            host, WebhookEndpointCreate(url=receiver.url), actor=Actor.cli()
        )
        for _ in range(30):
            webhooks.send_test(host, endpoint.id, actor=Actor.cli())
    barrier = threading.Barrier(2)
    results = []

    def work() -> None:
        with app.app_context():
            barrier.wait()
            results.append(outbox.deliver_due())

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [headers["webhook-id"] for headers, _ in receiver.requests]
    assert len(ids) == 30 and len(set(ids)) == 30
    assert sum(done.sent for done in results) == 30
    assert all(done.sent > 0 for done in results)  # both took part
    with app.app_context():
        assert (
            db.session.scalar(
                db.select(db.func.count())
                .select_from(WebhookDelivery)
                .where(WebhookDelivery.attempts != 1)
            )
            == 0
        )


def test_retrying_a_message_that_did_not_fail_is_refused(app, host):
    message = queue(app, host)
    with app.app_context():
        with pytest.raises(outbox.MessageNotFailed):
            outbox.retry_message(message, actor=Actor.cli())
        with pytest.raises(outbox.MessageNotFound):
            outbox.retry_message(uuid.uuid4(), actor=Actor.cli())
