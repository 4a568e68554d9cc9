"""Engine settings that need the engine itself: SQLite pragmas, and checking idle connections."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import g
from sqlalchemy import Connection, Dialect, Engine, Select, event, text
from sqlalchemy.exc import DBAPIError, DisconnectionError

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


class HotSelect:
    """A SELECT run on the hottest paths: compiled once, run on the driver's own cursor.

    For a one-row read by key, SQLAlchemy Core's execute (connection object, execution context,
    result metadata, row object) cost five times the statement itself: about a sixth of an API
    read. This keeps what matters of it: the statement is compiled by SQLAlchemy for the
    engine's dialect, parameters and values go through the columns' own types (UUIDs, aware
    timestamps, booleans), driver errors become SQLAlchemy's (a lost connection is discarded
    and answers 503), and the read uses the request's session when it has one, like reading().
    Listeners of the engine's before/after_cursor_execute events (statement counters, the
    tests' failure injection) see these statements too, with neither Connection nor context.
    """

    def __init__(self, statement: Select) -> None:
        self.statement = statement
        self._plans: dict[type[Dialect], _Plan] = {}  # one per kind of database

    def first(self, **parameters: Any) -> dict[str, Any] | None:
        """Return the first row as {column label: value}, or None when there is none."""
        engine = db.engine  # a lookup of Flask-SQLAlchemy's each time: read once
        dialect = engine.dialect
        plan = self._plans.get(type(dialect))
        if plan is None:
            plan = self._plans[type(dialect)] = _Plan.of(self, dialect)
        arguments = plan.arguments(parameters)
        events = engine.dispatch
        with _driver_cursor(engine, plan.sql, arguments) as cursor:
            for listener in events.before_cursor_execute:
                listener(None, cursor, plan.sql, arguments, None, False)
            cursor.execute(plan.sql, arguments)
            for listener in events.after_cursor_execute:
                listener(None, cursor, plan.sql, arguments, None, False)
            row = cursor.fetchone()
            if row is None:
                return None
            return dict(zip(plan.labels, plan.values(row, cursor, dialect), strict=True))

    def scalar(self, **parameters: Any) -> Any:
        """Return the first column of the first row, or None when there is none."""
        row = self.first(**parameters)
        return None if row is None else next(iter(row.values()))


@dataclass
class _Plan:
    """A HotSelect compiled for one dialect: its SQL, and how values go in and come out."""

    sql: str
    bind_names: tuple[str, ...]  # in the order a positional driver takes them
    positional: bool
    bind_processors: dict[str, Callable[[Any], Any]]
    labels: tuple[str, ...]
    column_types: tuple[Any, ...]
    result_processors: tuple[Callable[[Any], Any] | None, ...] | None = None

    @classmethod
    def of(cls, select: HotSelect, dialect: Dialect) -> _Plan:
        compiled = select.statement.compile(dialect=dialect)
        binds = compiled.binds
        processors = {
            name: processor
            for name, bind in binds.items()
            if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }
        columns = select.statement.selected_columns
        return cls(
            sql=compiled.string,
            bind_names=tuple(compiled.positiontup or binds),
            positional=compiled.positional,
            bind_processors=processors,
            labels=tuple(columns.keys()),
            column_types=tuple(column.type for column in columns),
        )

    def arguments(self, parameters: Mapping[str, Any]) -> Any:
        values = {
            name: (
                processor(parameters[name])
                if (processor := self.bind_processors.get(name))
                else parameters[name]
            )
            for name in self.bind_names
        }
        return tuple(values.values()) if self.positional else values

    def values(self, row: tuple, cursor: Any, dialect: Dialect) -> list[Any]:
        if self.result_processors is None:
            # Built from the first result: some types convert by what the driver reports.
            # (Only then: psycopg builds a cursor's description anew each time it is read.)
            self.result_processors = tuple(
                column_type.dialect_impl(dialect).result_processor(dialect, described[1])
                for column_type, described in zip(
                    self.column_types, cursor.description, strict=True
                )
            )
        return [
            processor(value) if processor is not None else value
            for processor, value in zip(self.result_processors, row, strict=True)
        ]


@contextmanager
def _driver_cursor(engine: Engine, statement: str, arguments: Any) -> Iterator[Any]:
    """Yield a driver cursor on the request's session connection, or on a pooled one alone.

    Driver errors leave as SQLAlchemy's DBAPIError; a connection they show lost is discarded.
    """
    dialect = engine.dialect
    owned = not db.session.registry.has()
    # One statement on a connection of its own sees what it would see in a transaction of its
    # own, without BEGIN and ROLLBACK: two round trips on PostgreSQL, in any request (the token
    # endpoint's, say, which may write later in its own transaction). SQLite's driver begins
    # no transaction for a SELECT.
    autocommit = owned and dialect.name != "sqlite"
    pooled = cursor = None
    try:
        if owned:
            pooled = engine.raw_connection()
            if autocommit:
                dialect.set_isolation_level(pooled.dbapi_connection, "AUTOCOMMIT")
        else:
            db.session.flush()
            pooled = db.session.connection().connection
        cursor = pooled.cursor()
        yield cursor
    except dialect.loaded_dbapi.Error as error:
        # Not connected at all, or connected to a server that went away.
        lost = pooled is None or dialect.is_disconnect(error, pooled.dbapi_connection, cursor)
        if lost and pooled is not None:
            pooled.invalidate(error)
        raise DBAPIError.instance(
            statement,
            arguments,
            error,
            dialect.loaded_dbapi.Error,
            hide_parameters=True,
            connection_invalidated=lost,
            dialect=dialect,
        ) from error
    finally:
        if cursor is not None:
            cursor.close()
        if owned and pooled is not None:
            if autocommit and pooled.dbapi_connection is not None:
                dialect.reset_isolation_level(pooled.dbapi_connection)
            pooled.close()


def ping() -> None:
    """Run the smallest query; raise whatever the driver raises when the database is away."""
    db.session.execute(text("SELECT 1"))


def rollback_quietly() -> None:
    """Undo the session's partial writes; a dead connection must not hide the first error."""
    try:
        db.session.rollback()
    except Exception:  # noqa: S110 - the original error is the one worth reporting
        pass
