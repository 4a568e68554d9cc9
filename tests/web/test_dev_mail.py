"""/dev/mail (development only): the e-mails `flask dev`'s local SMTP server caught."""

from __future__ import annotations

import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox

from tests.web.conftest import text


@pytest.fixture
def mail_catcher(app, tmp_path, monkeypatch):
    """aiosmtpd keeping messages in a Maildir, as `flask dev` starts it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    maildir = tmp_path / "dev_mail"
    controller = Controller(Mailbox(maildir), hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", port)
    monkeypatch.setitem(app.config, "DEV_MAIL_DIR", str(maildir))
    yield maildir
    controller.stop()


def test_an_invitation_e_mail_shows_on_the_page(
    client, api, host, host_token, mail_catcher, run_worker
):
    empty = client.get("/dev/mail")
    assert empty.status_code == 200 and "No e-mail caught yet" in text(empty)
    created = api.invite(host_token, host, "cfo@bigcustomer.example").json
    run_worker()
    page = text(client.get("/dev/mail"))
    assert "Northwind Supplies invites you to connect on Guest Connections" in page
    assert "To cfo@bigcustomer.example" in page
    assert created["invitation_url"].replace("&", "&amp;") in page
