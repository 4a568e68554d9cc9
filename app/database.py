"""Engine settings that need the engine itself: SQLite pragmas, and checking idle connections."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask import g
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import DisconnectionError

from app.extensions import READS_ONLY_KEY, autocommit_engine, db

# Up to this much of the database file is mapped (address space, not memory: the pages are
# the operating system's file cache, shared). Beyond it SQLite reads as usual.
SQLITE_MMAP_BYTES = 1 << 30


def use_sqlite_pragmas(engine: Engine) -> None:
    event.listen(engine, "connect", _sqlite_pragmas)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")  # SQLite ignores foreign keys unless asked
    cursor.execute("PRAGMA journal_mode = WAL")  # readers need not wait for the writer
    cursor.execute("PRAGMA synchronous = NORMAL")
    # Read the file through a memory map shared by every connection and process, instead of
    # copying pages into each connection's own 2 MB cache: a list over 100 000 guests probes
    # thousands of pages, which that cache cannot hold (see SQLITE_MMAP_BYTES).
    cursor.execute(f"PRAGMA mmap_size = {SQLITE_MMAP_BYTES}")
    cursor.close()
    # SQLite's own lower() folds ASCII only; searches must be case-insensitive for "Ä" too.
    dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)


def _unicode_lower(value):
    return value.lower() if isinstance(value, str) else value


def ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Check a pooled connection before use when it sat idle longer than idle_seconds.

    A connection the server closed (restart, failover, idle timeout) is found and replaced
    before a request uses it, as pool_pre_ping would; but a busy pool, whose connections
    were in use a moment ago, is not pinged: pool_pre_ping's extra round trip on every
    request cost a third of the time of a simple API call. A connection that breaks while
    busy fails its request (503) and SQLAlchemy then replaces the whole pool.
    """

    @event.listens_for(engine, "checkin")
    def remember_checkin(_dbapi_connection, record) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection, record, _proxy) -> None:
        checked_in_at = record.info.get("checked_in_at")
        if checked_in_at is None or time.monotonic() - checked_in_at < idle_seconds:
            return  # new, or used a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # whatever the driver raises, the connection is unusable
            # The pool discards this connection and checks out (or opens) another.
            raise DisconnectionError() from error


def read_without_transaction() -> None:
    """Let this request's reads run without BEGIN and ROLLBACK (PostgreSQL; GET requests only).

    Under READ COMMITTED, PostgreSQL's default, each statement sees its own snapshot inside a
    transaction too, so the reads see exactly the same data; the request saves two of its four
    round trips. Only for requests that never write: a write here would commit at once. It
    applies when the request first connects, through the session or reading(); the pool
    restores the normal level when the connection is returned.
    """
    if db.engine.dialect.name == "postgresql":
        setattr(g, READS_ONLY_KEY, True)


@contextmanager
def reading() -> Iterator[Connection]:
    """Yield a connection for a few Core reads, without the ORM session when it can.

    Once this request has used the session, read through it, flushed, so its own changes
    show. Otherwise a pooled connection serves just these reads (in autocommit after
    read_without_transaction()): creating, beginning and closing a session around one
    statement cost more than the statement.
    """
    if db.session.registry.has():
        db.session.flush()
        yield db.session.connection()
        return
    engine = autocommit_engine(db.engine) if g.get(READS_ONLY_KEY) else db.engine
    with engine.connect() as connection:
        yield connection


def ping() -> None:
    """Run the smallest query; raise whatever the driver raises when the database is away."""
    db.session.execute(text("SELECT 1"))


def rollback_quietly() -> None:
    """Undo the session's partial writes; a dead connection must not hide the first error."""
    try:
        db.session.rollback()
    except Exception:  # noqa: S110 - the original error is the one worth reporting
        pass
