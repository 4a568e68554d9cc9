"""`flask worker`: deliver the outbox — e-mails and webhooks — until told to stop.

Run one or more next to the app servers; on PostgreSQL several workers share the outbox
without ever sending one message twice at the same time (see app/services/outbox.py). SIGTERM
or Ctrl-C lets the message in hand finish, then the worker exits 0. `--once` drains what is
due now and exits. A failure — of a message, of the mail server, even of the database — is
logged in one line and the worker carries on.
"""

from __future__ import annotations

import json
import logging
import signal
import threading

import click
from flask.cli import with_appcontext

from app.database import rollback_quietly
from app.services import outbox

log = logging.getLogger(__name__)


@click.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option(
    "--interval",
    type=click.FloatRange(0.05, 3600),
    default=1.0,
    show_default=True,
    help="Seconds between looks at the outbox when nothing is due.",
)
@with_appcontext
def worker(once: bool, interval: float) -> None:
    """Deliver the outbox (e-mails and webhooks), with retries, until SIGTERM."""
    stop = threading.Event()
    previous = {
        number: signal.signal(number, lambda *_: stop.set())
        for number in (signal.SIGTERM, signal.SIGINT)
    }
    total = outbox.Delivered()
    try:
        if not once:
            click.echo(f"== worker delivering the outbox every {interval:g} s (SIGTERM stops it)")
        while not stop.is_set():
            try:
                done = outbox.deliver_due(should_stop=stop.is_set)
                total.sent, total.retried, total.failed = (
                    total.sent + done.sent,
                    total.retried + done.retried,
                    total.failed + done.failed,
                )
            except Exception as error:  # noqa: BLE001 - e.g. the database is down: wait, retry
                rollback_quietly()
                log.error("worker pass failed: %s: %s", type(error).__name__, error)
            if once:
                break
            stop.wait(interval)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    click.echo(json.dumps({"sent": total.sent, "retried": total.retried, "failed": total.failed}))
