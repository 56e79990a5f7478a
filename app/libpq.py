"""Prepared statements run through libpq itself, for HotStatement on PostgreSQL.

psycopg's cursor is general: per execution it converts the query, manages its own
prepared-statement cache, drives a generator for the protocol and builds a loader for each
result column. For the heartbeat's two statements that Python-level work cost about twice
what the round trip itself costs the client (a 15-column SELECT: 97 µs of client CPU through
the cursor, 46 µs here). Here each statement is prepared once per connection under a fixed
name and executed with ``PQexecPrepared`` (which releases the GIL while it waits), its
parameters dumped and its result loaded by psycopg's own C Transformer, with the adapters
of the connection, both in text format as a cursor's are: values come and go as through a
cursor.

Only for connections in autocommit mode (the hot path's held connections): psycopg begins
transactions lazily on a cursor's first statement, which a statement sent past it would skip.

Parameters are sent as text with no type, so each placeholder that SQLAlchemy did not cast
itself gets a cast to its column's type (see ``_cast``): the server never has to guess, and a
Python ``int`` given for a float column is still read right.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Any

from psycopg import Connection as PsycopgConnection
from psycopg import errors, pq
from psycopg.adapt import PyFormat, Transformer
from sqlalchemy import Dialect
from sqlalchemy.sql.compiler import Compiled
from sqlalchemy.types import NullType

_PLACEHOLDER = re.compile(r"%\(([^)]+)\)s|%%")
_MODIFIER = re.compile(r"\([^)]*\)")
#: Types whose length or precision only limits what is stored: safe to cast without it.
_MODIFIER_FREE = ("VARCHAR", "NUMERIC", "DECIMAL", "TIMESTAMP", "TIME")
_names = itertools.count(1)

#: Errors after which the statement is prepared again and sent once more, by SQLSTATE and
#: the server function that raised it: it vanished (someone ran DEALLOCATE ALL: psycopg does
#: after a rollback), or a table it reads changed shape under it ("cached plan must not
#: change result type"). Neither ran anything.
_PREPARE_AGAIN = {b"26000": None, b"0A000": b"RevalidateCachedQuery"}


class LibpqStatement:
    """One statement's SQL in PostgreSQL's own ``$n`` form, and where its values go."""

    def __init__(self, compiled: Compiled, dialect: Dialect) -> None:
        types = {name: bind.type for bind, name in compiled.bind_names.items()}
        self.order: list[str] = []  # the value for $1, $2, …

        def placeholder(match: re.Match[str]) -> str:
            name = match.group(1)
            if name is None:  # %% is a literal %
                return "%"
            if name not in self.order:
                self.order.append(name)
            number = self.order.index(name) + 1
            if match.string.startswith("::", match.end()):  # SQLAlchemy cast it already
                return f"${number}"
            cast = _cast(types.get(name), dialect)
            return f"(${number}::{cast})" if cast else f"${number}"

        self.sql = _PLACEHOLDER.sub(placeholder, compiled.string).encode()
        self.name = f"zhixin_hot_{next(_names)}".encode()
        self._formats = [PyFormat.TEXT] * len(self.order)

    def run(self, driver: PsycopgConnection, info: dict[str, Any], values: Sequence[Any]) -> Any:
        """Execute on ``driver`` (in autocommit mode); the PGresult, and the Transformer that
        loads its rows. ``values`` are in ``order``. Raises psycopg's error for the result."""
        state = info.get("libpq")
        if state is None:
            state = info["libpq"] = _ConnectionState(driver)
        params = state.transformer.dump_sequence(values, self._formats)
        if self.name not in state.prepared:
            self._prepare(driver, state)
        result = driver.pgconn.exec_prepared(self.name, params, None, pq.Format.TEXT)
        if result.status == pq.ExecStatus.FATAL_ERROR and _prepare_again(result):
            state.prepared.discard(self.name)
            _check(driver, driver.pgconn.exec_(b"DEALLOCATE " + self.name), ok=False)
            self._prepare(driver, state)
            result = driver.pgconn.exec_prepared(self.name, params, None, pq.Format.TEXT)
        _check(driver, result)
        state.transformer.set_pgresult(result, set_loaders=True, format=pq.Format.TEXT)
        return result, state.transformer

    def _prepare(self, driver: PsycopgConnection, state: _ConnectionState) -> None:
        _check(driver, driver.pgconn.prepare(self.name, self.sql, None))
        state.prepared.add(self.name)


def _prepare_again(result: Any) -> bool:
    code = result.error_field(pq.DiagnosticField.SQLSTATE)
    if code not in _PREPARE_AGAIN:
        return False
    source = _PREPARE_AGAIN[code]
    return source is None or result.error_field(pq.DiagnosticField.SOURCE_FUNCTION) == source


class _ConnectionState:
    """What a connection keeps for these statements: which are prepared, and a Transformer
    made with the connection's adapters (SQLAlchemy's JSON loaders among them)."""

    __slots__ = ("prepared", "transformer")

    def __init__(self, driver: PsycopgConnection) -> None:
        self.prepared: set[bytes] = set()
        self.transformer = Transformer(driver)


def _cast(type_: Any, dialect: Dialect) -> str | None:
    """The SQL type a value is cast to, or None to let the server infer it.

    Without collation (it would override the column's in comparisons), and without length or
    precision where dropping them changes nothing but the check (``VARCHAR(20)`` would
    truncate, ``NUMERIC(6, 2)`` would round); a type whose modifier means more (``BIT(3)``)
    is not cast at all.
    """
    if type_ is None or isinstance(type_, NullType):
        return None
    name = dialect.type_compiler_instance.process(type_.dialect_impl(dialect))
    name = name.split(" COLLATE ", 1)[0]
    if "(" not in name:
        return name
    if name.startswith(_MODIFIER_FREE):
        return _MODIFIER.sub("", name)
    return None


def _check(driver: PsycopgConnection, result: Any, *, ok: bool = True) -> None:
    """Raise the result's error as psycopg would (``ok=False``: ignore a failed command)."""
    if result.status in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK) or not ok:
        return
    if result.status == pq.ExecStatus.FATAL_ERROR:
        raise errors.error_from_result(result, encoding=driver.info.encoding)
    raise errors.InternalError(f"unexpected result {pq.ExecStatus(result.status).name}")
