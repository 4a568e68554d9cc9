"""The guest's hosts page: leaving a host, and the host's notification that follows."""

from __future__ import annotations

from app.extensions import db
from app.models import OutboxMessage
from tests.web.conftest import post_form, text


def test_the_guest_leaves_and_the_host_notifies(app, connected):
    """Does leaving show on the host's page, and its notification go to the outbox?"""
    host_client, host, guest_client, guest = connected
    hosts = f"/orgs/{guest}/hosts"
    detail = f"/orgs/{host}/guest-connections/{guest}"

    post_form(guest_client, f"/orgs/{guest}/hosts/{host}/status", hosts, status="disconnected")
    host_page = text(host_client.get(detail))
    notified = post_form(host_client, f"{detail}/disconnection-notification", detail)
    after = text(host_client.get(detail))
    post_form(guest_client, f"/orgs/{guest}/hosts/{host}/status", hosts, status="connected")

    assert "disconnected from you" in host_page
    assert "Send a disconnection notification" in host_page
    assert notified.headers["Location"] == detail
    assert "A message to finance@alder.example is on its way" in after
    assert "Reconnect" not in text(guest_client.get(hosts))
    with app.app_context():  # besides the invitation's e-mail (the connection came from one)
        kinds = db.session.scalars(db.select(OutboxMessage.kind)).all()
    assert kinds.count("disconnection_notification") == 1


def test_another_organizations_hosts_are_403(host_admin, guest_admin):
    host_client, _ = host_admin
    _, guest = guest_admin
    assert host_client.get(f"/orgs/{guest}/hosts").status_code == 403
