"""Settings → Webhooks: owners add endpoints (secret shown once), test them, read the log."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.web.conftest import post_form, text

SETTINGS = "/orgs/{host}/settings/webhooks"


@pytest.fixture
def owner(signed_in, host):
    return signed_in(host, "owner@northwind.example", role="owner"), host


def add(client, host, url: str, **form):
    path = SETTINGS.format(host=host)
    return post_form(client, path, path, url=url, **form)


@pytest.mark.parametrize("role", ["admin", "member"])
def test_only_owners_manage_webhooks(signed_in, host, role):
    client = signed_in(host, role=role)
    assert "/settings/webhooks" not in text(client.get(f"/orgs/{host}/guest-connections"))
    assert client.get(SETTINGS.format(host=host)).status_code == 403


def test_an_owner_adds_an_endpoint_and_sees_the_secret_once(owner, receiver):
    client, host = owner
    assert f'href="/orgs/{host}/settings/webhooks"' in text(
        client.get(f"/orgs/{host}/guest-connections")
    )
    response = add(client, host, receiver.url, events=["guest_connection.archived"])
    assert response.status_code == 201
    secret = re.search(r'id="new-secret"[^>]*value="(whsec_[^"]+)"', text(response)).group(1)
    assert response.headers["Cache-Control"] == "no-store"
    page = text(client.get(SETTINGS.format(host=host)))
    assert receiver.url in page and secret not in page
    assert "1 event type" in page and "Enabled" in page


def test_a_private_address_is_refused_with_a_clear_message(owner):
    client, host = owner
    response = add(client, host, "http://169.254.169.254/latest")
    assert response.status_code == 422
    assert "not a public address" in text(response)
    assert 'aria-invalid="true"' in text(response)
    assert "No endpoints yet" in text(response)


def test_test_event_and_delivery_log(owner, receiver, run_worker):
    client, host = owner
    add(client, host, receiver.url)
    endpoint_path = re.search(
        r'href="(/orgs/[^"]+/settings/webhooks/[0-9a-f-]{36})"',
        text(client.get(SETTINGS.format(host=host))),
    ).group(1)
    sent = post_form(client, endpoint_path + "/test", endpoint_path)
    assert sent.status_code == 302
    receiver.statuses = [500]
    run_worker()
    log = text(client.get(endpoint_path))
    assert "ping" in log and "HTTP 500" in log and "Pending" in log
    run_worker(timedelta(seconds=10))
    assert "Succeeded" in text(client.get(endpoint_path))


def test_a_disabled_endpoint_says_so(owner, receiver, run_worker):
    client, host = owner
    add(client, host, receiver.url)
    endpoint_path = re.search(
        r'href="(/orgs/[^"]+/settings/webhooks/[0-9a-f-]{36})"',
        text(client.get(SETTINGS.format(host=host))),
    ).group(1)
    receiver.statuses = [500] * 5
    post_form(client, endpoint_path + "/test", endpoint_path)
    run_worker()
    post_form(client, endpoint_path + "/test", endpoint_path)
    run_worker(timedelta(hours=25))
    assert "every delivery failed for 24 hours" in text(client.get(SETTINGS.format(host=host)))
    assert "Disabled" in text(client.get(endpoint_path))


def test_removing_an_endpoint(owner, receiver):
    client, host = owner
    add(client, host, receiver.url)
    page = text(client.get(SETTINGS.format(host=host)))
    action = re.search(r'action="(/orgs/[^"]+/delete)"', page).group(1)
    removed = post_form(client, action, SETTINGS.format(host=host))
    assert removed.status_code == 302
    assert "No endpoints yet" in text(client.get(SETTINGS.format(host=host)))
