"""Declarative base, naming convention, column types, SQLite connection settings, and
HotStatement for the few statements on a hot path."""

from __future__ import annotations

import contextlib
import fcntl
import sqlite3
import threading
import weakref
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, DateTime, Dialect, Engine, Enum, MetaData, Pool, event, exc
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.expression import Executable
from sqlalchemy.types import TypeDecorator

#: Named constraints so that Alembic batch migrations on SQLite can address them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def china_today() -> date:
    """Today's date in China (Asia/Shanghai), whatever the server's own zone."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC that always comes back timezone-aware.

    SQLite keeps no zone, so values read back are naive; this type restores UTC and refuses
    naive values on the way in, which would otherwise be silently misread.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use app.db.utcnow() or an aware value")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_column(enum_class: type, length: int = 20) -> Enum:
    """A portable enum column: the member's value in a VARCHAR, no native type to migrate."""
    return Enum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    """WAL, foreign keys and a busy timeout; hand transaction control to SQLAlchemy.

    pysqlite's own transaction handling breaks SAVEPOINT, so it is switched off and
    ``_sqlite_on_begin`` emits BEGIN (the recipe from the SQLAlchemy SQLite docs).
    """
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    path = cursor.execute("PRAGMA database_list").fetchone()[2]  # "" for an in-memory db
    cursor.close()
    if path:  # see _write_lock; closed with the connection (_close_write_lock)
        connection_record.info["write_lock"] = open(f"{path}-write.lock", "ab")  # noqa: SIM115


@event.listens_for(Pool, "close")
def _close_write_lock(dbapi_connection: Any, connection_record: Any) -> None:
    """The connection's write-lock file goes with it."""
    lock_file = connection_record.info.pop("write_lock", None)
    if lock_file is not None:
        lock_file.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn: Any) -> None:
    """Start SQLite transactions IMMEDIATE: take the write lock up front.

    A deferred transaction that reads and then writes fails at once with SQLITE_BUSY when
    another writer got in between; waiting for the lock at BEGIN makes concurrent writers
    queue up behind busy_timeout instead.

    Emitted on the driver's connection rather than with ``exec_driver_sql``: every SQLite
    transaction starts here, and a full SQLAlchemy execution for a fixed statement with no
    parameters or result costs more than the BEGIN itself. Errors (a lock not obtained within
    busy_timeout) are raised as SQLAlchemy's, as ``exec_driver_sql`` would.
    """
    if conn.dialect.name != "sqlite":
        return
    _sqlite_driver_call(conn.connection.driver_connection, "BEGIN IMMEDIATE", conn.dialect)


def _sqlite_driver_call(driver: sqlite3.Connection, statement: str, dialect: Dialect) -> None:
    """BEGIN IMMEDIATE or COMMIT on the driver, its errors raised as SQLAlchemy's."""
    try:
        if statement == "COMMIT":
            driver.commit()
        else:
            driver.execute(statement)
    except sqlite3.Error as error:
        raise exc.DBAPIError.instance(
            statement, (), error, sqlite3.Error, dialect=dialect
        ) from error


@contextmanager
def core_transaction(bind: Engine | Connection) -> Iterator[Connection]:
    """A Core connection in a transaction, for a hot path that needs no ORM session.

    Building, beginning, committing and closing an ORM session costs more than a short
    transaction's SQL. ``bind`` is what the ORM session would be bound to (see
    ``app.extensions.session_bind``): normally the engine (a pooled connection, committed on
    success and rolled back on error); or a connection that is already in a transaction (tests
    bind the session so, to roll every test back), whose transaction the work then joins in a
    SAVEPOINT, as the ORM session itself would.
    """
    if isinstance(bind, Engine):
        with bind.begin() as connection:
            yield connection
    elif bind.in_transaction():
        with bind.begin_nested():
            yield bind
    else:
        with bind.begin():
            yield bind


class PooledConnection:
    """A DBAPI connection from the pool, held by one thread for the hot path between uses.

    SQLAlchemy's ``Connection`` costs about as much to build and release as a statement of
    the heartbeat does to run, and checking a connection out of the pool and back in as much
    again; so the hot path runs on the pool's own connection proxy, which each thread checks
    out once and keeps (see ``autocommit_connection``). On PostgreSQL it stays in the driver's
    autocommit mode while held, and leaves it when it goes back to the pool.
    """

    __slots__ = ("connection", "dialect", "pool")

    def __init__(self, engine: Engine) -> None:
        self.dialect = engine.dialect
        self.pool = engine.pool
        #: The pool's proxy: ``cursor()``, ``info``, ``dbapi_connection``, ``invalidate()``.
        self.connection = engine.raw_connection()
        if self.dialect.name != "sqlite":
            self.connection.driver_connection.autocommit = True

    def in_transaction(self) -> bool:
        return False  # never begun through this object: see write_transaction

    def invalidate(self, exception: BaseException | None = None) -> None:
        self.connection.invalidate(exception)

    def usable_for(self, engine: Engine) -> bool:
        """Still connected, and from the engine's current pool (``dispose`` replaces it)."""
        return self.connection.is_valid and self.pool is engine.pool

    def release(self, *, discard: bool = False) -> None:
        """Hand the connection back to its pool as the pool lent it, or with ``discard``
        close it (its engine was disposed: the old pool would keep it until collected)."""
        connection = self.connection
        if connection.is_valid and discard:
            connection.invalidate()  # closes the DBAPI connection
        elif connection.is_valid and self.dialect.name != "sqlite":
            connection.driver_connection.autocommit = False
        connection.close()

    def __del__(self) -> None:  # the thread that held it ended
        with contextlib.suppress(Exception):  # at interpreter exit the process closes it anyway
            self.release()


#: What a HotStatement runs on.
HotConnection = Connection | PooledConnection


class _HeldConnections(threading.local):
    """This thread's hot-path connection for each engine (weakly: engines come and go)."""

    def __init__(self) -> None:
        self.by_engine: weakref.WeakKeyDictionary[Engine, PooledConnection] = (
            weakref.WeakKeyDictionary()
        )


_held = _HeldConnections()


@contextmanager
def autocommit_connection(bind: Engine | Connection) -> Iterator[HotConnection]:
    """A connection on which each statement outside ``write_transaction`` commits on its own.

    For a hot path made of one read and one single-statement write. The connection is this
    thread's own, checked out of the engine's pool on first use and kept (so a process holds
    one more connection per thread than its requests check out; a new one is taken after
    the old one was invalidated or the engine disposed). On PostgreSQL it runs in the driver's
    autocommit mode, which saves the BEGIN and COMMIT round trips. SQLite's driver always runs
    so here (see ``_sqlite_on_connect``), transactions being begun explicitly. A connection
    that is given (tests: one inside a transaction that is rolled back) is used as it is.
    """
    if isinstance(bind, Connection):
        yield bind
        return
    held = _held.by_engine.get(bind)
    if held is None or not held.usable_for(bind):
        if held is not None:
            held.release(discard=held.pool is not bind.pool)
        held = _held.by_engine[bind] = PooledConnection(bind)
    yield held


@event.listens_for(Engine, "engine_disposed")
def _release_held_connection(engine: Engine) -> None:
    """``dispose`` closes the pool's connections: this thread's held one too.

    (Other threads' are closed when they next use it, or end.)
    """
    held = _held.by_engine.pop(engine, None)
    if held is not None:
        held.release(discard=True)


@contextmanager
def write_transaction(connection: HotConnection) -> Iterator[None]:
    """A transaction on ``connection``, or a SAVEPOINT when it is already in one.

    On SQLite, outside a transaction, it is begun and ended on the driver, for the reason
    ``_sqlite_on_begin`` gives: for a hot path's two statements, SQLAlchemy's transaction
    bookkeeping costs more than BEGIN and COMMIT themselves. Elsewhere it needs SQLAlchemy's
    ``Connection`` (a PooledConnection there is for single autocommitted statements).
    """
    if connection.in_transaction():
        with connection.begin_nested():
            yield
    elif connection.dialect.name == "sqlite":
        driver = connection.connection.driver_connection
        with _write_lock(connection.connection.info.get("write_lock")):
            _sqlite_driver_call(driver, "BEGIN IMMEDIATE", connection.dialect)
            try:
                yield
            except BaseException:
                driver.rollback()
                raise
            _sqlite_driver_call(driver, "COMMIT", connection.dialect)
    else:
        if not isinstance(connection, Connection):
            raise TypeError("write_transaction needs a Connection outside SQLite")
        with connection.begin():
            yield


@contextmanager
def _write_lock(lock_file: Any) -> Iterator[None]:
    """Queue for SQLite's write lock in the kernel rather than in SQLite's busy handler.

    SQLite's busy handler polls: a writer that finds the lock taken sleeps 1, 2, 5, 10 ms and
    more before it tries again, although another short write frees it within a fraction of a
    millisecond. With several processes writing heartbeats that polling made the slowest one
    in a hundred wait tens of milliseconds. ``flock`` on a file beside the database instead
    wakes the next waiter as soon as the lock is released; BEGIN IMMEDIATE then finds SQLite's
    lock free, unless a transaction outside this path holds it (that one is still waited for
    with busy_timeout). The kernel releases the lock of a process that dies.
    """
    if lock_file is None:  # an in-memory database: one connection, nobody to queue behind
        yield
        return
    fcntl.flock(lock_file, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(lock_file, fcntl.LOCK_UN)


class HotStatement:
    """A Core statement compiled once per dialect and run straight on the DBAPI cursor.

    For the few statements on a path hot enough that SQLAlchemy's per-execution work (cache
    key lookup, execution context, result object, events) costs more than the database's own
    (the study heartbeat: SQLite runs its UPDATE in ~5 µs, SQLAlchemy adds ~25 µs). The SQL,
    the parameter conversion and the result conversion are still SQLAlchemy's, taken from the
    compiled statement and the column types, so values are stored and read exactly as the ORM
    stores and reads them; database errors are raised as SQLAlchemy's exceptions, and a lost
    connection is invalidated as Connection.execute would. Statement events
    (``before_cursor_execute``, echo) are not fired. On a held PostgreSQL connection
    (``autocommit_connection``) it runs as a named prepared statement through libpq instead of
    the cursor (``app.libpq``), with the same conversions.

    ``keys`` names the execution parameters (for an UPDATE: the SET columns, as in
    ``Connection.execute``); every execution must give all of them.
    """

    def __init__(self, statement: Executable, keys: Iterable[str] = ()) -> None:
        self.statement = statement
        self.keys = tuple(keys)
        self._compiled: dict[str, _HotCompiled] = {}

    def execute(self, connection: HotConnection, values: Mapping[str, Any]) -> int:
        """Run the statement in the connection's transaction; the number of rows it matched."""
        if _runs_on_libpq(connection):
            result, _ = self._run_libpq(connection, values)  # type: ignore[arg-type]
            return result.command_tuples or 0
        return self._run(connection, values).rowcount

    def first(self, connection: HotConnection, values: Mapping[str, Any]) -> Any:
        """The first row as a named tuple of converted values, or None.

        Meant for statements of at most a few rows (all are read, which ends SQLite's read of
        them: an unfinished SELECT would keep its snapshot open).
        """
        dialect = connection.dialect
        if _runs_on_libpq(connection):
            result, transformer = self._run_libpq(connection, values)  # type: ignore[arg-type]
            if not result.ntuples:
                return None
            return self._compiled[dialect.name].row(
                transformer.load_row(0, tuple),
                lambda: [result.ftype(i) for i in range(result.nfields)],
                dialect,
            )
        cursor = self._run(connection, values)
        rows = cursor.fetchall()
        if not rows:
            return None
        return self._compiled[dialect.name].row(
            rows[0], lambda: [column[1] for column in cursor.description], dialect
        )

    def _run(self, connection: HotConnection, values: Mapping[str, Any]) -> Any:
        dialect = connection.dialect
        compiled = self._compiled.get(dialect.name) or self._compile(dialect)
        parameters = compiled.parameters(values)
        cursor = _hot_cursor(connection)
        try:
            cursor.execute(compiled.sql, parameters)
        except dialect.loaded_dbapi.Error as error:
            raise _database_error(connection, error, compiled.sql, parameters, cursor) from error
        return cursor

    def _run_libpq(self, connection: PooledConnection, values: Mapping[str, Any]) -> Any:
        """Run on PostgreSQL through ``app.libpq``; its PGresult and row Transformer."""
        dialect = connection.dialect
        compiled = self._compiled.get(dialect.name) or self._compile(dialect)
        parameters = compiled.parameters(values)
        libpq = compiled.libpq
        pooled = connection.connection
        try:
            return libpq.run(
                pooled.driver_connection, pooled.info, [parameters[name] for name in libpq.order]
            )
        except dialect.loaded_dbapi.Error as error:
            raise _database_error(connection, error, libpq.sql.decode(), parameters) from error

    def _compile(self, dialect: Dialect) -> _HotCompiled:
        compiled = _HotCompiled(self.statement, self.keys, dialect)
        self._compiled[dialect.name] = compiled
        return compiled


def _database_error(
    connection: HotConnection, error: Exception, sql: str, parameters: Any, cursor: Any = None
) -> exc.DBAPIError:
    """The driver's error as SQLAlchemy's; a lost connection is invalidated first, as
    ``Connection.execute`` would."""
    dialect = connection.dialect
    lost = dialect.is_disconnect(error, connection.connection.dbapi_connection, cursor)
    if lost:
        connection.invalidate(error)
    return exc.DBAPIError.instance(
        sql,
        parameters,
        error,
        dialect.loaded_dbapi.Error,
        connection_invalidated=lost,
        dialect=dialect,
    )


def _runs_on_libpq(connection: HotConnection) -> bool:
    """A held connection to PostgreSQL through psycopg (always in autocommit mode while
    held): its HotStatements bypass psycopg's cursor (see ``app.libpq``)."""
    return type(connection) is PooledConnection and connection.dialect.driver == "psycopg"


def _hot_cursor(connection: HotConnection) -> Any:
    """The DBAPI connection's cursor for HotStatements, made once and kept with it.

    A new cursor per statement costs psycopg about as much as a third of a round trip. The
    cursor lives in the pooled connection's ``info``, which SQLAlchemy clears when the
    connection is invalidated; a DBAPI connection serves one thread at a time, so does this.
    """
    pooled = connection.connection
    cursor = pooled.info.get("hot_cursor")
    if cursor is None:
        cursor = pooled.info["hot_cursor"] = pooled.dbapi_connection.cursor()
    return cursor


class _HotCompiled:
    """A HotStatement's SQL for one dialect, with its parameter and result converters."""

    def __init__(self, statement: Executable, keys: tuple[str, ...], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        self.sql = compiled.string
        #: The same statement for ``app.libpq`` (PostgreSQL through psycopg only).
        self.libpq: Any = None
        if dialect.driver == "psycopg":
            from app.libpq import LibpqStatement  # psycopg is imported only where it is used

            self.libpq = LibpqStatement(compiled, dialect)
        processors = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for name, bind in compiled.binds.items()
        }
        #: Values fixed in the statement (``status == ACTIVE``), converted once.
        self.fixed: dict[str, Any] = {}
        #: The parameters each execution gives, with their converters (or None).
        self.given: dict[str, Any] = {}
        for name, value in compiled.params.items():
            if compiled.binds[name].required:
                self.given[name] = processors[name]
            else:
                process = processors[name]
                self.fixed[name] = process(value) if process else value
        self.required = frozenset(self.given)
        #: For a positional driver, each placeholder in order: (given?, name, converter, fixed).
        self.slots = (
            tuple(
                (name in self.given, name, self.given.get(name), self.fixed.get(name))
                for name in compiled.positiontup or ()
            )
            if dialect.positional
            else None
        )
        columns = getattr(statement, "exported_columns", None)  # SELECT or RETURNING
        self.types = [column.type for column in columns] if columns is not None else []
        names = list(columns.keys()) if columns is not None else []
        self.row_class = namedtuple("HotRow", names)  # type: ignore[misc]
        #: (position, converter) of the result columns that need converting; known only once
        #: the driver has described a result (PostgreSQL's converters depend on its type codes).
        self.result_processors: list[tuple[int, Any]] | None = None

    def parameters(self, values: Mapping[str, Any]) -> Any:
        """The DBAPI parameters (a tuple or a dict, as the driver's paramstyle wants)."""
        if missing := self.required.difference(values):
            raise exc.ArgumentError(f"values missing for {', '.join(sorted(missing))}")
        if self.slots is not None:
            return tuple(
                [
                    (values[name] if process is None else process(values[name])) if given else fixed
                    for given, name, process, fixed in self.slots
                ]
            )
        params = dict(self.fixed)
        for name, process in self.given.items():
            params[name] = values[name] if process is None else process(values[name])
        return params

    def row(
        self, raw: Sequence[Any], type_codes: Callable[[], Sequence[Any]], dialect: Dialect
    ) -> Any:
        """A result row, converted; ``type_codes`` gives the driver's types of its columns
        (asked once: psycopg builds ``description`` anew on each access)."""
        processors = self.result_processors
        if processors is None:
            processors = self.result_processors = [
                (position, processor)
                for position, (type_, code) in enumerate(zip(self.types, type_codes(), strict=True))
                if (processor := type_.dialect_impl(dialect).result_processor(dialect, code))
            ]
        values = list(raw)
        for position, process in processors:
            values[position] = process(values[position])
        return self.row_class._make(values)
