"""Engine settings that need the engine itself: SQLite pragmas, and checking idle connections."""

from __future__ import annotations

import os
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import g
from sqlalchemy import CompoundSelect, Connection, Dialect, Engine, Select, event, text
from sqlalchemy.exc import DBAPIError, DisconnectionError

from app.extensions import READS_ONLY_KEY, autocommit_engine, db

# Up to this much of the database file is mapped (address space, not memory: the pages are
# the operating system's file cache, shared). Beyond it SQLite reads as usual.
SQLITE_MMAP_BYTES = 1 << 30
# Idle connections a process keeps for HotSelect (ReadConnections): one per thread reading at
# the same moment, and gunicorn runs fewer threads than this per worker.
READ_CONNECTIONS_KEPT = 8
# Renderings a HotSelect remembers (first_rendered): ~2 KB each with the row that keys it.
RENDERED_ROWS_KEPT = 4096


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
    Every page's user load and the detail page's read go this way too (all()): outside a
    session, a page then opens no ORM session at all.
    """

    def __init__(self, statement: Select | CompoundSelect) -> None:
        self.statement = statement
        self._plans: dict[type[Dialect], _Plan] = {}  # one per kind of database
        self._rendered: dict[tuple, bytes] = {}  # the driver's row -> its rendering

    def first(self, **parameters: Any) -> dict[str, Any] | None:
        """Return the first row as {column label: value}, or None when there is none."""
        return self._first(parameters, _Plan.as_dict)

    def first_rendered(
        self, render: Callable[[dict[str, Any]], bytes], **parameters: Any
    ) -> bytes | None:
        """Return render(first row as first() gives it), or None when there is none.

        A row read before, as the driver gave it, is not converted and rendered again: the
        rendering of the last RENDERED_ROWS_KEPT rows is remembered, so render must depend on
        the row alone. Converting a row's values and building its response model and JSON
        (the hottest read's) cost more than twice the statement (SQLite, measured alone).
        """

        def rendered(plan: _Plan, row: tuple, cursor: Any, dialect: Dialect) -> bytes:
            try:
                known = self._rendered.get(row)
            except TypeError:  # a value the driver gives that cannot be a key (JSON, say)
                return render(plan.as_dict(row, cursor, dialect))
            if known is None:
                if len(self._rendered) >= RENDERED_ROWS_KEPT:
                    self._rendered.clear()  # bounded memory; rows are simply rendered again
                known = self._rendered[row] = render(plan.as_dict(row, cursor, dialect))
            return known

        return self._first(parameters, rendered)

    def all(self, **parameters: Any) -> list[list[Any]]:
        """Return every row as its list of values, in the statement's column order."""

        def every_row(plan: _Plan, cursor: Any, dialect: Dialect) -> list[list[Any]]:
            return [plan.values(row, cursor, dialect) for row in cursor.fetchall()]

        return self._run(parameters, every_row)

    def _first(self, parameters: dict[str, Any], convert: Callable[..., Any]) -> Any:
        """Run the statement; return convert(plan, first row, cursor, dialect), or None."""

        def first_row(plan: _Plan, cursor: Any, dialect: Dialect) -> Any:
            row = cursor.fetchone()
            return None if row is None else convert(plan, row, cursor, dialect)

        return self._run(parameters, first_row)

    def _run(self, parameters: dict[str, Any], read: Callable[..., Any]) -> Any:
        """Run the statement; return read(plan, cursor, dialect)."""
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
            return read(plan, cursor, dialect)

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
    constants: dict[str, Any]  # values the statement carries itself (SQLite's OFFSET 0, say)
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
            bind_names=tuple(compiled.positiontup or dict.fromkeys(compiled.bind_names.values())),
            positional=compiled.positional,
            bind_processors=processors,
            constants={
                name: bind.effective_value for name, bind in binds.items() if not bind.required
            },
            labels=tuple(columns.keys()),
            column_types=tuple(column.type for column in columns),
        )

    def arguments(self, parameters: Mapping[str, Any]) -> Any:
        if self.constants:
            parameters = self.constants | parameters
        values = {
            name: (
                processor(parameters[name])
                if (processor := self.bind_processors.get(name))
                else parameters[name]
            )
            for name in self.bind_names
        }
        if self.positional:  # a name used twice in the statement is in bind_names twice
            return tuple(values[name] for name in self.bind_names)
        return values

    def as_dict(self, row: tuple, cursor: Any, dialect: Dialect) -> dict[str, Any]:
        return dict(zip(self.labels, self.values(row, cursor, dialect), strict=True))

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
    """Yield a driver cursor on the request's session connection, or on a read connection.

    Driver errors leave as SQLAlchemy's DBAPIError; a connection they show lost is discarded.
    """
    readers = None if db.session.registry.has() else _READ_CONNECTIONS.get(engine)
    if readers is None:  # the request's session (or an in-memory database's): its changes show
        db.session.flush()
    dialect = engine.dialect
    connection = cursor = None
    try:
        if readers is None:
            connection = db.session.connection().connection.dbapi_connection
        else:
            connection = readers.take()
        cursor = connection.cursor()
        yield cursor
    except dialect.loaded_dbapi.Error as error:
        # Not connected at all, or connected to a server that went away.
        lost = connection is None or dialect.is_disconnect(error, connection, cursor)
        if lost and readers is None:
            db.session.connection().invalidate(error)
        elif lost and connection is not None:
            readers.discard(connection)
            connection = None
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
        if readers is not None and connection is not None:
            readers.put_back(connection)


_READ_CONNECTIONS: weakref.WeakKeyDictionary[Engine, ReadConnections] = weakref.WeakKeyDictionary()


def keep_read_connections(engine: Engine, ping_idle_seconds: float | None) -> None:
    """Let HotSelect read outside a session on connections kept for it (see ReadConnections).

    Not for an in-memory SQLite database: each connection to it is a database of its own, so
    reads go through the session's connection there.
    """
    if engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:"):
        return
    readers = _READ_CONNECTIONS[engine] = ReadConnections(engine, ping_idle_seconds)
    event.listen(engine, "engine_disposed", readers.discard_all)


class ReadConnections:
    """Database connections kept aside for HotSelect's one-statement reads outside a session.

    Such a read used to check a connection out of SQLAlchemy's pool and back in (its queue and
    lock, its events, a rollback on return) and, on PostgreSQL, switch the connection to
    autocommit and back: a tenth of an API read. These connections are made by the pool (its
    connect events apply: SQLite's pragmas), then detached from it and left in autocommit for
    good, so that a read only takes one off a list and puts it back. Each statement runs on its
    own, as in a transaction of its own. Like the pool (ping_when_idle), a connection idle
    longer than ping_idle_seconds is checked before use, and one found lost is closed.
    """

    def __init__(self, engine: Engine, ping_idle_seconds: float | None) -> None:
        self.engine = engine
        self.ping_idle_seconds = ping_idle_seconds
        self.idle: list[tuple[Any, float]] = []  # (driver connection, when it was put back)
        self.pid = os.getpid()

    def take(self) -> Any:
        """Return an idle connection that answers, or a new one."""
        while True:
            try:
                connection, idle_since = self.idle.pop()  # atomic: threads share the list
            except IndexError:
                return self._open()
            if self._answers(connection, idle_since):
                return connection
            self.discard(connection)

    def put_back(self, connection: Any) -> None:
        if len(self.idle) < READ_CONNECTIONS_KEPT:
            self.idle.append((connection, time.monotonic()))
        else:
            self.discard(connection)

    def discard(self, connection: Any) -> None:
        try:
            connection.close()
        except self.engine.dialect.loaded_dbapi.Error:
            pass  # already unusable: closing is all that was asked

    def discard_all(self, _engine: Engine | None = None) -> None:
        """Forget every idle connection (engine.dispose()); close them if this process made them.

        After a fork the child forgets its parent's connections without closing them, as
        engine.dispose(close=False) does: closing would end the parent's sessions too.
        """
        idle, self.idle = self.idle, []
        inherited, self.pid = os.getpid() != self.pid, os.getpid()
        if not inherited:
            for connection, _idle_since in idle:
                self.discard(connection)

    def _open(self) -> Any:
        pooled = self.engine.raw_connection()
        pooled.detach()  # ours now: the pool forgets it and may open another in its place
        connection = pooled.dbapi_connection
        if self.engine.dialect.name != "sqlite":  # SQLite's driver begins nothing for a SELECT
            self.engine.dialect.set_isolation_level(connection, "AUTOCOMMIT")
        return connection

    def _answers(self, connection: Any, idle_since: float) -> bool:
        if self.ping_idle_seconds is None or time.monotonic() - idle_since < self.ping_idle_seconds:
            return True  # used a moment ago
        try:
            return bool(self.engine.dialect.do_ping(connection))
        except self.engine.dialect.loaded_dbapi.Error:
            return False


def ping() -> None:
    """Run the smallest query; raise whatever the driver raises when the database is away."""
    db.session.execute(text("SELECT 1"))


def rollback_quietly() -> None:
    """Undo the session's partial writes; a dead connection must not hide the first error."""
    try:
        db.session.rollback()
    except Exception:  # noqa: S110 - the original error is the one worth reporting
        pass
