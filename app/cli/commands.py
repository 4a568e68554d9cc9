"""The flask commands, one group per concept. Bad input prints one line on stderr, exits 1,
and writes nothing."""

from __future__ import annotations

import functools
import json
import math
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import click
from flask.cli import AppGroup, with_appcontext
from pydantic import ValidationError
from sqlalchemy.exc import InterfaceError, OperationalError

from app import schemas
from app.cli import demo_data
from app.database import rollback_quietly
from app.errors import AppError
from app.http import invitation_accept_url
from app.schemas import ConnectionStatus, Role, format_timestamp
from app.services import (
    api_clients,
    audit,
    guest_connections,
    guest_invitations,
    members,
    organizations,
    outbox,
    tokens,
)
from app.services.audit import Actor


class CommandFailed(click.ClickException):
    """Shown as one line on stderr, exit code 1."""

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


def reports_errors(command: Callable) -> Callable:
    """Turn the service's refusals into one clear line, after undoing any partial write."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except AppError as error:
            rollback_quietly()
            raise CommandFailed(error.message) from None
        except (OperationalError, InterfaceError) as error:
            rollback_quietly()
            raise CommandFailed(
                f"The database is unreachable; nothing was changed ({str(error.orig).strip()})."
            ) from None

    return run


def parse_id(value: str | None, option: str) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise CommandFailed(
            f"{option} must be an organization id (a UUID), not {value!r}."
        ) from None


def parse_score(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        score = float(value)
    except ValueError:
        score = math.nan
    if not (math.isfinite(score) and 0 <= score <= schemas.MAX_SCORE):
        raise CommandFailed(f"--score must be a number from 0 to 100, not {value!r}.")
    return score


orgs_cli = AppGroup("orgs", help="Organizations.")
members_cli = AppGroup("members", help="People's access to organizations.")
connections_cli = AppGroup("connections", help="Guest connections.")
clients_cli = AppGroup("api-clients", help="API clients (credentials for the JSON API).")
keys_cli = AppGroup("keys", help="The keys that sign API tokens.")
invitations_cli = AppGroup("invitations", help="Invitations from hosts to guests.")
outbox_cli = AppGroup("outbox", help="Messages waiting to be sent: e-mails and webhooks.")
audit_cli = AppGroup("audit", help="The audit trail: who changed what, and when.")


@orgs_cli.command("create")
@click.option("--name", required=True)
@click.option("--email")
@click.option("--parent", help="The id of the organization's parent (its group).")
@reports_errors
def create_org(name: str, email: str | None, parent: str | None) -> None:
    """Create an organization and print its id."""
    organization = organizations.create_organization(
        name, email, parse_id(parent, "--parent"), actor=Actor.cli()
    )
    click.echo(organization.id)


@orgs_cli.command("link-sso")
@click.option("--org", "org_id", required=True)
@click.option("--issuer", required=True, help="The OpenID provider's issuer URL.")
@click.option("--claim-value", required=True, help="The organization's value in OIDC_ORG_CLAIM.")
@reports_errors
def link_sso(org_id: str, issuer: str, claim_value: str) -> None:
    """Admit people whose ID token from ISSUER names CLAIM_VALUE as members (role member)."""
    link = organizations.link_sso(parse_id(org_id, "--org"), issuer, claim_value, actor=Actor.cli())
    click.echo(f"{link.organization_id} admits {link.issuer} claim value {link.claim_value!r}")


@members_cli.command("add")
@click.option("--org", "org_id", required=True)
@click.option("--email", required=True)
@click.option("--name")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.MEMBER.value)
@reports_errors
def add_member(org_id: str, email: str, name: str | None, role: str) -> None:
    """Give a person (by e-mail) a role in an organization; they sign in with that e-mail."""
    membership = members.add_member(
        parse_id(org_id, "--org"), email, name, Role(role), actor=Actor.cli()
    )
    click.echo(
        f"{membership.user.email} is now {membership.role.value} of {membership.organization_id}"
    )


@members_cli.command("set-role")
@click.option("--org", "org_id", required=True)
@click.option("--email", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@reports_errors
def set_member_role(org_id: str, email: str, role: str) -> None:
    """Change a member's role; it applies from their next request."""
    membership = members.set_role(parse_id(org_id, "--org"), email, Role(role), actor=Actor.cli())
    click.echo(
        f"{membership.user.email} is now {membership.role.value} of {membership.organization_id}"
    )


@members_cli.command("remove")
@click.option("--org", "org_id", required=True)
@click.option("--email", required=True)
@reports_errors
def remove_member(org_id: str, email: str) -> None:
    """Remove a member from an organization; their browser sessions end at once."""
    organization_id = parse_id(org_id, "--org")
    members.remove_member(organization_id, email, actor=Actor.cli())
    click.echo(f"{email.strip().lower()} is no longer a member of {organization_id}")


@members_cli.command("list")
@click.option("--org", "org_id", required=True)
@reports_errors
def list_members(org_id: str) -> None:
    """Print the organization's members, one per line: e-mail, role, name, last sign-in."""
    for member in members.list_members(parse_id(org_id, "--org")):
        signed_in = format_timestamp(member.last_login_at) if member.last_login_at else "never"
        click.echo(f"{member.email}\t{member.role.value}\t{member.name or ''}\t{signed_in}")


@connections_cli.command("add")
@click.option("--host", required=True)
@click.option("--guest", required=True)
@click.option("--owner-email", required=True)
@click.option(
    "--status", type=click.Choice([s.value for s in ConnectionStatus]), default="connected"
)
@click.option("--score")
@click.option("--parent", help="The parent organization the host records for this guest.")
@click.option("--archived", is_flag=True)
@reports_errors
def add_connection(
    host: str,
    guest: str,
    owner_email: str,
    status: str,
    score: str | None,
    parent: str | None,
    archived: bool,
) -> None:
    """Connect a guest organization to a host."""
    connection = guest_connections.connect(
        parse_id(host, "--host"),
        parse_id(guest, "--guest"),
        owner_email,
        status=ConnectionStatus(status),
        total_score=parse_score(score),
        parent_id=parse_id(parent, "--parent"),
        archived=archived,
        actor=Actor.cli(),
    )
    guest_id, host_id = connection.guest_organization_id, connection.host_organization_id
    click.echo(f"connected guest {guest_id} to host {host_id}")


@clients_cli.command("create")
@click.option("--org", "org_id", required=True)
@click.option("--name", required=True)
@reports_errors
def create_client(org_id: str, name: str) -> None:
    """Create an API client and print its credentials as JSON (the secret is shown only now)."""
    client, secret = api_clients.create_api_client(
        parse_id(org_id, "--org"), name, actor=Actor.cli()
    )
    click.echo(json.dumps({"client_id": client.client_id, "client_secret": secret}))


@clients_cli.command("revoke")
@click.argument("client_id")
@reports_errors
def revoke_client(client_id: str) -> None:
    """Revoke an API client: its tokens stop working at once."""
    client = api_clients.revoke_api_client(client_id, actor=Actor.cli())
    click.echo(f"revoked {client.client_id}")


@keys_cli.command("rotate")
@reports_errors
def rotate_keys() -> None:
    """Sign new tokens with a new key; tokens signed before verify until they expire."""
    new, retired = tokens.rotate_signing_key()
    click.echo(json.dumps({"kid": new.kid, "retired": retired}))


@invitations_cli.command("create")
@click.option("--host", required=True)
@click.option("--email", required=True, help="Whom to invite.")
@click.option("--days", type=click.IntRange(1, 365), default=14, show_default=True)
@click.option("--parent", help="The guest's parent organization, recorded on the connection.")
@click.option("--owner-email", help="The host-side person responsible (default: the host's).")
@reports_errors
def create_invitation(
    host: str, email: str, days: int, parent: str | None, owner_email: str | None
) -> None:
    """Invite an e-mail to connect to a host; print the one-time token and link as JSON."""
    try:
        data = schemas.GuestInvitationCreate(
            email=email,
            expired_at=datetime.now(UTC) + timedelta(days=days),
            parent_organization_id=parse_id(parent, "--parent"),
            owner_email=owner_email,
        )
    except ValidationError as error:
        problem = error.errors(include_url=False)[0]
        raise CommandFailed(f"--{problem['loc'][0]}: {problem['msg']}.".replace("_", "-")) from None
    invitation = guest_invitations.create_invitation(
        parse_id(host, "--host"), data, actor=Actor.cli(), accept_url=invitation_accept_url
    )
    click.echo(
        json.dumps(
            {
                "id": str(invitation.id),
                "status": invitation.status.value,
                "invitation_token": invitation.invitation_token,
                "invitation_url": invitation.invitation_url,
            }
        )
    )


@outbox_cli.command("send")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@reports_errors
def send_outbox(limit: int) -> None:
    """Try the e-mails due now over SMTP (needs SMTP_HOST); print what happened."""
    done = outbox.send_pending(limit)
    result = {"sent": done.sent, "waiting": outbox.waiting_count()}
    if done.retried or done.failed:
        result |= {"retried": done.retried, "failed": done.failed}
    click.echo(json.dumps(result))


@outbox_cli.command("list")
@click.option("--failed", is_flag=True, help="Only the messages set aside after their last try.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@reports_errors
def list_outbox(failed: bool, limit: int) -> None:
    """Print outbox e-mails and webhook deliveries, newest first, one per line."""
    messages = outbox.list_messages(failed_only=failed, limit=limit)
    if not messages:
        click.echo("No failed messages." if failed else "The outbox is empty.")
    for message in messages:
        click.echo(
            f"{message.id}  {message.status:<9} {message.kind}  to {message.recipient}  "
            f"attempts {message.attempts}  {message.last_error or ''}".rstrip()
        )


@outbox_cli.command("retry")
@click.argument("message_id")
@reports_errors
def retry_outbox(message_id: str) -> None:
    """Try a failed message again, with a fresh set of attempts, from now."""
    try:
        parsed = uuid.UUID(message_id)
    except ValueError:
        raise CommandFailed(f"The message id must be a UUID, not {message_id!r}.") from None
    outbox.retry_message(parsed, actor=Actor.cli())
    click.echo(f"{parsed} will be tried again.")


@audit_cli.command("list")
@click.option("--org", "org_id", required=True, help="The organization whose trail to print.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@reports_errors
def list_audit_events(org_id: str, limit: int) -> None:
    """Print the organization's audit events, newest first, one per line."""
    organization = organizations.get_organization(parse_id(org_id, "--org"))
    events = audit.list_events(organization.id, limit=limit)
    if not events:
        click.echo(f"No audit events for {organization.name} ({organization.id}).")
    for event in events:
        click.echo(
            f"{format_timestamp(event.created_at)}  {event.actor_kind.value} {event.actor_label}"
            f"  {event.action} {event.subject_type} {event.subject_id}"
            f"  {audit.describe_changes(event.changes, arrow='->')}"
        )


@click.command("seed-demo")
@with_appcontext
@reports_errors
def seed_demo() -> None:
    """Create the demo organizations, guests and users (again safely: it is idempotent)."""
    click.echo(json.dumps(demo_data.seed_demo(), indent=2))


@click.command("seed-scale")
@with_appcontext
@click.option("--host", required=True)
@click.option("--count", type=click.IntRange(1, 2_000_000), required=True)
@reports_errors
def seed_scale(host: str, count: int) -> None:
    """Add COUNT generated guests to a host, for load tests; their scores are set directly
    (bulk data: no financial statement or analytics run stands behind them)."""
    host_id = parse_id(host, "--host")
    organizations.get_organization(host_id)
    with click.progressbar(length=count, label="Adding guests", file=sys.stderr) as bar:
        demo_data.seed_scale(host_id, count, progress=bar.update)
    click.echo(
        json.dumps(
            {
                "host_organization_id": str(host_id),
                "guests_added": count,
                "scores": "set directly, as bulk data: no statements or analytics runs",
            }
        )
    )


COMMANDS = (
    orgs_cli,
    members_cli,
    connections_cli,
    clients_cli,
    keys_cli,
    invitations_cli,
    outbox_cli,
    audit_cli,
    seed_demo,
    seed_scale,
)
