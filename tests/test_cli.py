"""The flask commands: what they print, and how they refuse bad input without writing."""

import json
import uuid

import pytest

from app.extensions import db
from app.models import ApiClient, GuestConnection, Membership, Organization, User
from tests.conftest import json_line

TABLES = (Organization, User, Membership, ApiClient, GuestConnection)


@pytest.fixture
def row_counts(app):
    def counts() -> dict[str, int]:
        with app.app_context():
            return {
                model.__tablename__: db.session.scalar(
                    db.select(db.func.count()).select_from(model)
                )
                for model in TABLES
            }

    return counts


@pytest.fixture
def cli(runner):
    def invoke(*args: str):
        return runner.invoke(args=list(args))

    return invoke


def test_orgs_create_prints_the_new_id_alone(cli, app):
    result = cli(
        "orgs", "create", "--name", "Northwind Supplies", "--email", "Hi@Northwind.example"
    )
    assert result.exit_code == 0
    org_id = uuid.UUID(result.stdout.strip())
    with app.app_context():
        organization = db.session.get(Organization, org_id)
        assert (organization.name, organization.email) == (
            "Northwind Supplies",
            "hi@northwind.example",
        )


def test_members_add_and_connections_add(cli, make_org, app):
    host, guest, group = make_org("Host"), make_org("Guest"), make_org("Group")
    result = cli(
        "members", "add", "--org", str(host), "--email", "Ann@Host.example", "--role", "admin"
    )
    assert result.exit_code == 0, result.output
    assert "ann@host.example is now admin" in result.stdout

    result = cli(
        "connections", "add", "--host", str(host), "--guest", str(guest),
        "--owner-email", "sales@host.example", "--score", "87.5", "--parent", str(group),
        "--status", "disconnected", "--archived",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with app.app_context():
        connection = db.session.scalar(db.select(GuestConnection))
        assert connection.total_score == 87.5
        assert connection.parent_organization_id == group
        assert connection.status == "disconnected"
        assert connection.archived and connection.archived_at is not None


def test_api_clients_create_prints_one_json_line_and_stores_no_clear_secret(cli, make_org, app):
    result = cli("api-clients", "create", "--org", str(make_org("Host")), "--name", "ERP")
    assert result.exit_code == 0
    credentials = json.loads(result.stdout)
    assert set(credentials) == {"client_id", "client_secret"}
    with app.app_context():
        stored = db.session.scalar(db.select(ApiClient))
        assert stored.client_id == credentials["client_id"]
        assert credentials["client_secret"] not in stored.secret_hash


def test_api_clients_revoke(cli, make_org, make_client):
    credentials = make_client(make_org("Host"))
    result = cli("api-clients", "revoke", credentials.client_id)
    assert result.exit_code == 0
    again = cli("api-clients", "revoke", credentials.client_id)
    assert again.exit_code == 1
    assert (
        again.stderr.strip() == f"Error: There is no active API client '{credentials.client_id}'."
    )


def bad_inputs(host: uuid.UUID, guest: uuid.UUID) -> dict[str, list[str]]:
    unknown = str(uuid.uuid4())
    connect = ["connections", "add", "--host", str(host), "--guest", str(guest), "--owner-email"]
    return {
        "malformed parent": ["orgs", "create", "--name", "X", "--parent", "nope"],
        "unknown parent": ["orgs", "create", "--name", "X", "--parent", unknown],
        "empty name": ["orgs", "create", "--name", "  "],
        "name too long": ["orgs", "create", "--name", "x" * 301],
        "bad org e-mail": ["orgs", "create", "--name", "X", "--email", "not-an-email"],
        "member of unknown org": ["members", "add", "--org", unknown, "--email", "a@b.example"],
        "member with bad e-mail": ["members", "add", "--org", str(host), "--email", "a@"],
        "unknown guest": [*connect[:5], unknown, "--owner-email", "o@h.example"],
        "malformed host": ["connections", "add", "--host", "1", "--guest", str(guest),
                           "--owner-email", "o@h.example"],
        "own guest": [*connect[:5], str(host), "--owner-email", "o@h.example"],
        "negative score": [*connect, "o@h.example", "--score", "-1"],
        "non-numeric score": [*connect, "o@h.example", "--score", "high"],
        "infinite score": [*connect, "o@h.example", "--score", "inf"],
        "NaN score": [*connect, "o@h.example", "--score", "nan"],
        "bad owner e-mail": [*connect, "owner"],
        "unknown connection parent": [*connect, "o@h.example", "--parent", unknown],
        "client of unknown org": ["api-clients", "create", "--org", unknown, "--name", "X"],
        "client of malformed org": ["api-clients", "create", "--org", "x", "--name", "X"],
        "client with empty name": ["api-clients", "create", "--org", str(host), "--name", " "],
        "revoke unknown client": ["api-clients", "revoke", "gc_nobody"],
        "scale for unknown host": ["seed-scale", "--host", unknown, "--count", "5"],
    }  # fmt: skip


BAD_INPUTS = list(bad_inputs(uuid.uuid4(), uuid.uuid4()))


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_prints_one_line_exits_1_and_writes_nothing(cli, make_org, row_counts, case):
    host, guest = make_org("Host"), make_org("Guest")
    before = row_counts()

    result = cli(*bad_inputs(host, guest)[case])

    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert row_counts() == before


def test_duplicates_are_refused(cli, make_org, make_connection, make_member, row_counts):
    host, guest = make_org("Host"), make_org("Guest")
    make_connection(host, guest)
    make_member(host, "ann@host.example")
    before = row_counts()

    connect = cli("connections", "add", "--host", str(host), "--guest", str(guest),
                  "--owner-email", "o@h.example")  # fmt: skip
    member = cli("members", "add", "--org", str(host), "--email", "ANN@host.example")

    assert connect.exit_code == member.exit_code == 1
    assert connect.stderr.strip() == "Error: These organizations are already connected."
    assert (
        member.stderr.strip() == "Error: ann@host.example is already a member of this organization."
    )
    assert row_counts() == before


def test_seed_demo_is_idempotent(cli, row_counts):
    first = cli("seed-demo")
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    counts = row_counts()
    second = cli("seed-demo")
    assert second.exit_code == 0
    assert json.loads(second.stdout) == summary
    assert row_counts() == counts
    assert len(summary["hosts"]) == 3
    assert sum(host["guests"] for host in summary["hosts"]) == counts["guest_connections"] == 40


def test_seed_demo_data_has_the_variety_a_demo_needs(cli, app):
    cli("seed-demo")
    with app.app_context():
        rows = db.session.scalars(db.select(GuestConnection)).all()
    assert any(row.archived for row in rows)
    assert any(row.status == "disconnected" for row in rows)
    assert any(row.total_score is None for row in rows)
    assert any(row.active_action_type is not None for row in rows)
    assert any(row.parent_organization_id is not None for row in rows)


def test_seed_scale_adds_guests_and_reports_progress(cli, make_org, row_counts):
    host = make_org("Host")
    result = cli("seed-scale", "--host", str(host), "--count", "12")
    assert result.exit_code == 0, result.output
    assert json_line(result.stdout) == {"host_organization_id": str(host), "guests_added": 12}
    assert "Adding guests" in result.stderr
    assert row_counts()["guest_connections"] == 12


def test_keys_rotate_prints_the_new_key(cli, client, make_org, make_client):
    client.post("/oauth2/token", json=make_client(make_org("Host")).__dict__)
    first_kid = client.get("/.well-known/jwks.json").json["keys"][0]["kid"]
    result = cli("keys", "rotate")
    assert result.exit_code == 0
    rotated = json.loads(result.stdout)
    assert rotated["retired"] == [first_kid]
    assert rotated["kid"] != first_kid
