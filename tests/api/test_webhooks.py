"""Webhooks: endpoints, events written with their change, Standard Webhooks signatures,
retries with backoff, the SSRF guard — against a real receiver on 127.0.0.1."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from app.extensions import db
from app.models import WebhookDelivery
from app.services import webhooks
from tests.conftest import SAFE_SCORE, failing_statement, row_count


@pytest.fixture
def hooks(api, host, host_token):
    """Return a helper calling /v1/webhook-endpoints as the host (its API client is owner)."""

    class Hooks:
        def create(self, url: str, **body):
            return api.call(
                "POST",
                "/v1/webhook-endpoints",
                token=host_token,
                requester=host,
                json={"url": url, **body},
            )

        def list(self):
            return api.get("/v1/webhook-endpoints", token=host_token, requester=host)

        def deliveries(self, endpoint_id: str):
            return api.get(
                f"/v1/webhook-endpoints/{endpoint_id}/deliveries", token=host_token, requester=host
            )

        def ping(self, endpoint_id: str):
            return api.call(
                "POST",
                f"/v1/webhook-endpoints/{endpoint_id}/test",
                token=host_token,
                requester=host,
            )

        def delete(self, endpoint_id: str):
            return api.call(
                "DELETE", f"/v1/webhook-endpoints/{endpoint_id}", token=host_token, requester=host
            )

    return Hooks()


@pytest.fixture
def endpoint(hooks, receiver):
    response = hooks.create(receiver.url)
    assert response.status_code == 201, response.json
    return response.json


def test_registering_shows_the_secret_once(hooks, endpoint, receiver):
    assert set(endpoint) == {
        "id",
        "url",
        "events",
        "enabled",
        "disabled_reason",
        "failing_since",
        "created_at",
        "secret",
    }
    assert endpoint["secret"].startswith("whsec_")
    assert endpoint["url"] == receiver.url and endpoint["enabled"] is True
    assert (
        "ping" not in endpoint["events"] and "guest_connection.score_changed" in endpoint["events"]
    )
    listed = hooks.list().json
    assert listed["total_items"] == 1
    assert "secret" not in listed["items"][0]
    assert endpoint["secret"] not in json.dumps(listed)


def test_events_can_be_chosen_and_unknown_ones_are_422(hooks, receiver):
    chosen = hooks.create(receiver.url, events=["guest_connection.archived"])
    assert chosen.json["events"] == ["guest_connection.archived"]
    wrong = hooks.create(receiver.url, events=["guest_connection.exploded"])
    assert wrong.status_code == 422
    assert wrong.json["detail"][0]["loc"][:2] == ["body", "events"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hooks",
        "http://localhost:8080/",
        "http://10.1.2.3/",
        "http://192.168.0.10/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://100.64.0.1/",  # shared address space (carrier-grade NAT)
        "http://[fe80::1]/",
    ],
)
def test_private_targets_are_refused_at_registration(hooks, app, url):
    """SSRF: does a URL resolving to a non-public address get 422 on url, and no endpoint?"""
    response = hooks.create(url)
    assert response.status_code == 422
    [problem] = response.json["detail"]
    assert problem["loc"] == ["body", "url"]
    assert "not a public address" in problem["msg"]
    assert hooks.list().json["total_items"] == 0


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/", "must start with"),
        ("https://user:pw@example.com/", "user name or password"),
        ("https://no-such-host.invalid/", "cannot be resolved"),
        ("https://example.com:99999/", "port"),
    ],
)
def test_unusable_urls_are_422(hooks, url, message):
    response = hooks.create(url)
    assert response.status_code == 422
    assert message in response.json["detail"][0]["msg"]


def test_production_takes_only_https(hooks, app, monkeypatch, receiver):
    monkeypatch.setitem(app.config, "APP_ENV", "production")
    response = hooks.create(receiver.url)
    assert response.status_code == 422
    assert "https://" in response.json["detail"][0]["msg"]


def test_the_guard_runs_again_at_delivery(hooks, endpoint, receiver, app, monkeypatch, run_worker):
    """An address that became private (or a rule now stricter) fails the attempt, unsent."""
    assert hooks.ping(endpoint["id"]).status_code == 202
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_TARGETS", "false")
    run_worker()
    assert receiver.requests == []
    [delivery] = hooks.deliveries(endpoint["id"]).json["items"]
    assert delivery["status"] == "pending" and delivery["attempts"] == 1
    assert "not a public address" in delivery["last_error"]


def test_a_delivery_is_signed_as_standard_webhooks_says(
    api, pair, host_token, hooks, endpoint, receiver, run_worker
):
    """Does a receiver verifying with the standardwebhooks package accept what we send?"""
    host, guest = pair
    api.call(
        "PATCH",
        f"/v1/guest-connections/{guest}",
        token=host_token,
        requester=host,
        json={"archived": True},
    )
    assert run_worker().sent == 1
    [(headers, body)] = receiver.requests
    verified = Webhook(endpoint["secret"]).verify(body, headers)
    assert verified["type"] == "guest_connection.archived"
    shown = api.get(f"/v1/guest-connections/{guest}", token=host_token, requester=host).json
    assert verified["data"] == shown  # the resource exactly as the API returns it
    assert headers["webhook-id"].startswith("msg_")
    assert headers["content-type"] == "application/json"
    with pytest.raises(Exception):  # noqa: B017 - any verification error
        Webhook("whsec_" + "A" * 44).verify(body, headers)


def test_a_failed_attempt_is_retried_with_the_same_id(hooks, endpoint, receiver, app, run_worker):
    """After a 500, is the next attempt about 5 s later, with the same webhook-id?"""
    receiver.statuses = [500]
    hooks.ping(endpoint["id"])
    assert run_worker().retried == 1
    [delivery] = hooks.deliveries(endpoint["id"]).json["items"]
    assert delivery["status"] == "pending"
    assert delivery["attempts"] == 1 and delivery["last_status_code"] == 500
    assert delivery["last_error"] == "The receiver answered HTTP 500."
    wait = datetime.fromisoformat(delivery["next_attempt_at"]) - datetime.now(UTC)
    assert timedelta(seconds=3) < wait < timedelta(seconds=6)
    with app.app_context():  # at most 1 KB of the answer is kept
        assert len(db.session.scalar(db.select(WebhookDelivery.last_response))) == 1024

    assert run_worker().total() == 0  # not due yet
    assert run_worker(timedelta(seconds=6)).sent == 1
    first, second = receiver.requests
    assert first[0]["webhook-id"] == second[0]["webhook-id"]
    assert first[1] == second[1]
    [delivery] = hooks.deliveries(endpoint["id"]).json["items"]
    assert delivery["status"] == "succeeded" and delivery["attempts"] == 2
    assert delivery["next_attempt_at"] is None


def test_attempts_follow_the_schedule_then_the_delivery_fails(
    hooks, endpoint, receiver, app, run_worker
):
    """5 s, 5 min, 30 min, 2 h, 5 h, 10 h (±10 %): seven attempts, then failed."""
    receiver.statuses = [503] * 10
    hooks.ping(endpoint["id"])
    elapsed = timedelta(0)
    waits = []
    for _ in range(7):
        assert run_worker(elapsed).total() == 1
        with app.app_context():
            row = db.session.scalar(db.select(WebhookDelivery))
            waits.append(row.next_attempt_at - datetime.now(UTC) - elapsed)
        elapsed = row.next_attempt_at - datetime.now(UTC) + timedelta(seconds=1)
    for wait, planned in zip(waits[:6], webhooks_schedule(), strict=True):
        assert planned * 0.89 < wait < planned * 1.11
    [delivery] = hooks.deliveries(endpoint["id"]).json["items"]
    assert delivery["status"] == "failed" and delivery["attempts"] == 7
    assert len(receiver.requests) == 7
    assert run_worker(elapsed + timedelta(days=2)).total() == 0


def webhooks_schedule():
    from app.services.outbox import RETRY_DELAYS

    return RETRY_DELAYS


def test_an_endpoint_failing_for_a_day_is_disabled(hooks, endpoint, receiver, run_worker, app):
    receiver.statuses = [500] * 10
    hooks.ping(endpoint["id"])
    run_worker()
    assert hooks.list().json["items"][0]["failing_since"] is not None
    hooks_ping_later = hooks.ping(endpoint["id"])
    assert hooks_ping_later.status_code == 202
    run_worker(timedelta(hours=25))
    [listed] = hooks.list().json["items"]
    assert listed["enabled"] is False
    assert "every delivery failed for 24 hours" in listed["disabled_reason"]
    again = hooks.ping(endpoint["id"])  # a test event enables it again
    assert again.status_code == 202
    assert hooks.list().json["items"][0]["enabled"] is True


def test_a_receiver_that_does_not_answer_in_time_is_a_failed_attempt(
    hooks, endpoint, receiver, run_worker, monkeypatch
):
    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 0.2)
    receiver.delay = 0.6
    hooks.ping(endpoint["id"])
    assert run_worker().retried == 1
    [delivery] = hooks.deliveries(endpoint["id"]).json["items"]
    assert delivery["last_error"] == "No answer within 0.2 s."


def test_the_event_is_written_with_the_change_or_not_at_all(
    api, app, pair, host_token, hooks, endpoint
):
    """If the delivery cannot be written, the archive does not happen either."""
    host, guest = pair
    with failing_statement(app, "INSERT INTO WEBHOOK_DELIVERIES"):
        response = api.call(
            "PATCH",
            f"/v1/guest-connections/{guest}",
            token=host_token,
            requester=host,
            json={"archived": True},
        )
    assert response.status_code == 503
    shown = api.get(f"/v1/guest-connections/{guest}", token=host_token, requester=host).json
    assert shown["archived"] is False
    assert row_count(app, WebhookDelivery) == 0


def test_every_event_of_the_connection_loop(
    api, hooks, endpoint, receiver, host, host_token, guest, guest_token, run_worker
):
    """Invite, accept, request analytics, score, archive, leave: which events, in order?"""
    guest_hook = api.call(
        "POST",
        "/v1/webhook-endpoints",
        token=guest_token,
        requester=guest,
        json={"url": receiver.url + "/guest"},
    )
    assert guest_hook.status_code == 201
    invitation = api.invite(host_token, host, "finance@alder.example").json
    api.accept(guest_token, guest, host, invitation["invitation_token"])
    api.request_analytics(host_token, host, guest)
    assert api.score(guest_token, guest).status_code == 201
    for archived in (True, False):
        api.call(
            "PATCH",
            f"/v1/guest-connections/{guest}",
            token=host_token,
            requester=host,
            json={"archived": archived},
        )
    api.set_host_status(guest_token, guest, host, "disconnected")
    run_worker()
    host_events = [
        b["type"] for (h, _), b in zip(receiver.requests, receiver.bodies(), strict=True)
    ]
    assert [e for e in host_events if e != "host_connection.status_changed"] == [
        "guest_connection.created",
        "guest_invitation.accepted",
        "analytics_request.created",
        "analytics_request.resolved",
        "guest_connection.score_changed",
        "guest_connection.archived",
        "guest_connection.unarchived",
        "guest_connection.status_changed",
    ]
    assert host_events.count("host_connection.status_changed") == 1  # the guest's endpoint
    by_type = {body["type"]: body["data"] for body in receiver.bodies()}
    assert by_type["guest_connection.score_changed"]["total_score"] == SAFE_SCORE
    assert by_type["guest_invitation.accepted"]["status"] == "accepted_by_guest"
    assert by_type["host_connection.status_changed"]["status"] == "disconnected"
    assert by_type["analytics_request.resolved"]["status"] == "resolved"


def test_an_endpoint_gets_only_the_events_it_chose(
    hooks, receiver, api, pair, host_token, run_worker
):
    hooks.create(receiver.url, events=["guest_connection.unarchived"])
    host, guest = pair
    for archived in (True, False):
        api.call(
            "PATCH",
            f"/v1/guest-connections/{guest}",
            token=host_token,
            requester=host,
            json={"archived": archived},
        )
    run_worker()
    assert [body["type"] for body in receiver.bodies()] == ["guest_connection.unarchived"]


def test_deleting_an_endpoint(hooks, endpoint, run_worker, receiver):
    hooks.ping(endpoint["id"])
    assert hooks.delete(endpoint["id"]).status_code == 204
    assert hooks.list().json["total_items"] == 0
    assert hooks.delete(endpoint["id"]).status_code == 404
    assert hooks.deliveries(endpoint["id"]).status_code == 404
    run_worker()
    assert receiver.requests == []  # its pending deliveries went with it


def test_another_organizations_endpoint_is_404(api, endpoint, make_org, token_for):
    other = make_org("Other Host")
    token = token_for(other)
    for method, suffix in (("GET", "/deliveries"), ("POST", "/test"), ("DELETE", "")):
        response = api.call(
            method, f"/v1/webhook-endpoints/{endpoint['id']}{suffix}", token=token, requester=other
        )
        assert response.status_code == 404, (method, suffix)
        assert response.json["detail"][0]["code"] == "webhook_endpoint_not_found"
    unknown = api.get(
        f"/v1/webhook-endpoints/{uuid.uuid4()}/deliveries", token=token, requester=other
    )
    assert unknown.status_code == 404


def test_the_readme_receiver_accepts_our_delivery_and_refuses_a_forgery(
    api, pair, host_token, hooks, endpoint, receiver, run_worker
):
    """The receiver example in README's "Webhooks" section, run against a real delivery."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Webhooks", 1)[1].split("\n## ", 1)[0]
    [example] = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    handled = []
    namespace = {
        "__name__": "readme_receiver",
        "already_seen": lambda message_id: False,
        "handle": lambda *event: handled.append(event),
    }
    exec(example.replace("whsec_...", endpoint["secret"]), namespace)  # noqa: S102 - our README
    host, guest = pair
    api.call(
        "PATCH",
        f"/v1/guest-connections/{guest}",
        token=host_token,
        requester=host,
        json={"archived": True},
    )
    run_worker()
    headers, body = receiver.requests[-1]
    client = namespace["app"].test_client()
    assert client.post("/hooks/guest-connections", data=body, headers=headers).status_code == 204
    assert handled[-1][0] == "guest_connection.archived"
    forged = body.replace(b'"archived":true', b'"archived":false')
    assert client.post("/hooks/guest-connections", data=forged, headers=headers).status_code == 400


@pytest.mark.parametrize("url", ["https://93.184.216.34/hooks", "https://[2606:4700::1111]/"])
def test_a_public_address_is_accepted(hooks, url):
    """The guard refuses what is not public, not everything: no request is made to register."""
    assert hooks.create(url).status_code == 201
