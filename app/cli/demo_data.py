"""Demo data for trying the product, and bulk data for load tests.

The demo's connections are made by the one connect() service, then dated into the past; each
scored guest has yearly financial statements, each scored by an analytics run with the Altman Z″
model, so every demo score has a basis. The scale data is inserted in bulk (a hundred thousand
guests in seconds), bypassing the services: its scores are set directly, with no statement, run
or history behind them.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert, text

from app import schemas
from app.extensions import db
from app.models import (
    ActionStatus,
    ActionType,
    AnalyticsRun,
    AnalyticsRunStatus,
    ConnectionAction,
    ConnectionStatus,
    FinancialStatement,
    GuestConnection,
    Membership,
    Organization,
    Role,
    ScoreChange,
    ScoreSource,
    User,
    utcnow,
)
from app.services import guest_connections, scoring
from app.services.audit import Actor

# Fixed ids (derived from names), so that seeding twice finds what the first run made.
DEMO_NAMESPACE = uuid.UUID("5d1f3c3e-8a47-4b8e-9a53-3d6c1e0f9b21")

HOSTS = [
    ("Northwind Supplies", "hello@northwind.example", "admin@northwind.example", "Nora Admin"),
    ("Bluewater Freight", "ops@bluewater.example", "admin@bluewater.example", "Ben Admin"),
    ("Cedar Lending", "credit@cedar.example", "admin@cedar.example", "Carla Admin"),
]
GROUPS = ["Helios Holdings", "Meridian Group", "Oakridge Industries"]
GUEST_WORDS = (
    "Alder Apex Birch Cobalt Delta Ember Fjord Granite Harbor Iris Juniper Kestrel Lumen Maple "
    "Nimbus Orchid Pioneer Quartz Redwood Summit Tidal Umber Vertex Willow Zephyr Atlas Beacon "
    "Crescent Dune Evergreen Falcon Glacier Horizon Indigo Jasper Keystone Lantern Mosaic Nova "
    "Onyx"
).split()
GUEST_KINDS = ["Foods", "Logistics", "Retail", "Manufacturing", "Trading", "Textiles", "Labs"]


def demo_id(name: str) -> uuid.UUID:
    return uuid.uuid5(DEMO_NAMESPACE, name)


def _organization(name: str, email: str | None, parent_id: uuid.UUID | None = None) -> Organization:
    organization = db.session.get(Organization, demo_id(name))
    if organization is None:
        organization = Organization(id=demo_id(name), name=name, email=email, parent_id=parent_id)
        db.session.add(organization)
    return organization


def _member(organization_id: uuid.UUID, email: str, name: str, role: Role) -> None:
    user = db.session.scalar(db.select(User).where(User.email == email))
    if user is None:
        user = User(id=demo_id(email), email=email, name=name)
        db.session.add(user)
    if db.session.get(Membership, (user.id, organization_id)) is None:
        db.session.add(Membership(user_id=user.id, organization_id=organization_id, role=role))


def seed_demo() -> dict:
    """Create (or find) the demo data and return a summary with the ids."""
    rng = random.Random(42)  # the same data every time  # noqa: S311 - not security-relevant
    now = utcnow()
    groups = [_organization(name, f"group@{name.split()[0].lower()}.example") for name in GROUPS]
    summary: dict = {"hosts": [], "groups": [{"id": str(g.id), "name": g.name} for g in groups]}
    guest_ids: list[uuid.UUID] = []
    for host_index, (host_name, host_email, admin_email, admin_name) in enumerate(HOSTS):
        host = _organization(host_name, host_email)
        _member(host.id, admin_email, admin_name, Role.OWNER)
        _member(host.id, f"analyst@{host_email.split('@')[1]}", "Ann Analyst", Role.MEMBER)
        db.session.flush()
        guest_count = [20, 12, 8][host_index]
        for guest_index in range(guest_count):
            word = GUEST_WORDS[(guest_index * 3 + host_index * 7) % len(GUEST_WORDS)]
            guest_name = f"{word} {GUEST_KINDS[guest_index % len(GUEST_KINDS)]}"
            parent = groups[guest_index % 3] if guest_index % 4 == 0 else None
            guest = _organization(
                guest_name, f"finance@{word.lower()}.example", parent.id if parent else None
            )
            db.session.flush()
            _connection(host.id, guest.id, guest_index, host_email, groups, rng, now)
            guest_ids.append(guest.id)
        summary["hosts"].append(
            {
                "id": str(host.id),
                "name": host.name,
                "admin_email": admin_email,
                "guests": guest_count,
            }
        )
    for guest_id in dict.fromkeys(guest_ids):  # once each, in order
        _analytics(guest_id, now)
    db.session.commit()
    summary["users"] = [admin for _, _, admin, _ in HOSTS]
    return summary


def _connection(host_id, guest_id, index, host_email, groups, rng, now) -> None:
    exists = db.session.scalar(
        db.select(GuestConnection.id).where(
            GuestConnection.host_organization_id == host_id,
            GuestConnection.guest_organization_id == guest_id,
        )
    )
    if exists is not None:
        return
    created = now - timedelta(days=rng.randint(20, 400), minutes=rng.randint(0, 1440))
    rng.randint(1, 19)  # was the score's date: drawn still, so the other values stay the same
    archived = index % 9 == 8
    requested = index % 6 == 1
    connection = guest_connections.connect(
        host_id,
        guest_id,
        ["sales", "credit", "accounts"][index % 3] + "@" + host_email.split("@")[1],
        status=ConnectionStatus.DISCONNECTED if index % 7 == 5 else ConnectionStatus.CONNECTED,
        archived=archived,
        # Some hosts record a group for a guest that has none of its own.
        parent_id=groups[(index + 1) % 3].id if index % 10 == 3 else None,
        actor=Actor.cli(),
        commit=False,
    )
    # Dated into the past, as if the demo had been in use for a while. Scores come from the
    # guests' analytics runs (_analytics), once every connection exists.
    connection.archived_at = now - timedelta(days=rng.randint(1, 10)) if archived else None
    connection.active_action_type = ActionType.ANALYTICS_REQUEST if requested else None
    connection.active_action_updated_at = (
        now - timedelta(hours=rng.randint(1, 72)) if requested else None
    )
    connection.created_at = created
    # The last update is the latest of the connection's own dates: never before a change it shows.
    connection.updated_at = max(
        stamp
        for stamp in (
            created + timedelta(days=rng.randint(0, 19)),
            connection.score_updated_at,
            connection.archived_at,
            connection.active_action_updated_at,
        )
        if stamp is not None
    )
    db.session.flush()  # the action refers to the connection
    if requested:
        db.session.add(
            ConnectionAction(
                host_organization_id=host_id,
                guest_organization_id=guest_id,
                action_type=ActionType.ANALYTICS_REQUEST,
                status=ActionStatus.ACTIVE,
                created_at=connection.active_action_updated_at,
                updated_at=connection.active_action_updated_at,
            )
        )


def _analytics(guest_id: uuid.UUID, now: datetime) -> None:
    """Give a guest yearly financial statements, each scored by a successful analytics run,
    so that every demo score has a basis; its connections take the latest score."""
    exists = db.session.scalar(
        db.select(FinancialStatement.id).where(FinancialStatement.organization_id == guest_id)
    )
    if exists is not None:
        return
    rng = random.Random(str(guest_id))  # noqa: S311 - its own, so other demo values stay put
    if rng.random() < 0.2:
        return  # some guests have not run analytics yet
    connections = db.session.scalars(
        db.select(GuestConnection).where(GuestConnection.guest_organization_id == guest_id)
    ).all()
    years = rng.randint(2, 5)
    start = min(connection.created_at for connection in connections) + timedelta(days=1)
    last = now - timedelta(days=rng.randint(1, 19), minutes=rng.randint(0, 1440))
    health = rng.uniform(-0.2, 1.2)  # how strong the firm is, drifting a little each year
    for year in range(years):
        health += rng.uniform(-0.25, 0.25)
        figures = _statement_figures(rng, health)
        statement = FinancialStatement(
            id=uuid.uuid5(guest_id, f"statement {year}"),
            organization_id=guest_id,
            period_end=date(now.year - years + year, 12, 31),
            currency="EUR",
            created_at=start + (last - start) * year / years,
            **figures,
        )
        db.session.add(statement)
        db.session.flush()
        ran_at = start + (last - start) * (year + 1) / years if year < years - 1 else last
        score = scoring.altman_z_double_prime(schemas.FinancialStatement.model_validate(statement))
        run = AnalyticsRun(
            id=uuid.uuid5(guest_id, f"run {year}"),
            organization_id=guest_id,
            status=AnalyticsRunStatus.SUCCESS,
            statement_id=statement.id,
            statement_period_end=statement.period_end,
            model=score.model,
            model_value=score.model_value,
            zone=score.zone,
            total_score=score.total_score,
            created_at=ran_at - timedelta(seconds=3),
            processing_at=ran_at - timedelta(seconds=2),
            updated_at=ran_at,
            analyzed_on=ran_at,
        )
        db.session.add(run)
        db.session.flush()
        for connection in connections:
            if connection.created_at > ran_at:
                continue
            db.session.add(
                ScoreChange(
                    host_organization_id=connection.host_organization_id,
                    guest_organization_id=guest_id,
                    total_score=score.total_score,
                    source=ScoreSource.ANALYTICS,
                    run_id=run.id,
                    model=score.model,
                    changed_at=ran_at,
                )
            )
            connection.total_score = score.total_score
            connection.score_updated_at = ran_at
            # The last update is never older than the score it shows.
            connection.updated_at = max(connection.updated_at, ran_at)


def _statement_figures(rng: random.Random, health: float) -> dict[str, Decimal]:
    """Return a plausible balance sheet and EBIT; the stronger the health, the higher Z″."""
    assets = rng.uniform(0.5e6, 40e6)
    liabilities = assets * max(0.2, min(1.4, 0.75 - 0.35 * health + rng.uniform(-0.1, 0.1)))
    current_assets = assets * rng.uniform(0.25, 0.6)
    current_liabilities = min(liabilities, assets * max(0.05, 0.45 - 0.2 * health))
    figures = {
        "total_assets": assets,
        "total_liabilities": liabilities,
        "current_assets": current_assets,
        "current_liabilities": current_liabilities,
        "retained_earnings": assets * (0.05 + 0.25 * health + rng.uniform(-0.05, 0.05)),
        "ebit": assets * (0.02 + 0.08 * health + rng.uniform(-0.02, 0.02)),
        "equity": assets - liabilities,
    }
    return {name: Decimal(f"{value:.2f}") for name, value in figures.items()}


def seed_scale(
    host_id: uuid.UUID,
    count: int,
    progress: Callable[[int], None] = lambda _: None,
    batch: int = 5000,
) -> None:
    """Insert COUNT guest organizations and their connections to the host, in bulk."""
    rng = random.Random()  # noqa: S311 - load-test data
    now = utcnow()
    for start in range(0, count, batch):
        size = min(batch, count - start)
        guests, connections = [], []
        for offset in range(size):
            number = start + offset
            guest_id = uuid.uuid4()
            word = GUEST_WORDS[number % len(GUEST_WORDS)]
            guests.append(
                {
                    "id": guest_id,
                    "name": f"{word} {GUEST_KINDS[number % len(GUEST_KINDS)]} {number:06d}",
                    "email": f"finance{number}@{word.lower()}.example",
                    "created_at": now,
                    "updated_at": now,
                }
            )
            created = now - timedelta(minutes=number)
            scored = number % 5 != 0
            connections.append(
                {
                    "id": uuid.uuid4(),
                    "host_organization_id": host_id,
                    "guest_organization_id": guest_id,
                    "status": ConnectionStatus.DISCONNECTED
                    if number % 11 == 0
                    else ConnectionStatus.CONNECTED,
                    "owner_email": f"owner{number % 50}@host.example",
                    "archived": False,
                    "total_score": round(rng.uniform(0, 100), 1) if scored else None,
                    "score_updated_at": created if scored else None,
                    "created_at": created,
                    "updated_at": created,
                }
            )
        db.session.execute(insert(Organization), guests)
        db.session.execute(insert(GuestConnection), connections)
        db.session.commit()
        progress(size)
    if db.engine.dialect.name == "postgresql":
        # The state autovacuum brings a table to, now rather than in a minute or so: fresh
        # statistics (planned with the old row counts, a search over 100 000 guests took
        # 800 ms instead of tens), the trigram indexes' pending lists merged (until then every
        # search reads them through: 2.3 instead of 0.3 ms for "maple"), and the visibility
        # map set, so that the list's count reads the (host, guest) index alone.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(
                text("VACUUM (ANALYZE) organizations, guest_connections, guest_connection_search")
            )
