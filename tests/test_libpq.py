"""HotStatements on a held PostgreSQL connection run through libpq (app.libpq), and store
and read values exactly as SQLAlchemy does through a cursor."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import (
    JSON,
    REAL,
    Boolean,
    Column,
    Date,
    Enum,
    Float,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    bindparam,
    exc,
    insert,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import BIT

from app.db import HotStatement, UTCDateTime, autocommit_connection, enum_column
from app.extensions import db


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


_PROBE = Table(
    "libpq_probe",
    MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("ratio", Float),
    Column("code", String(5), nullable=False),
    Column("flag", Boolean),
    Column("day", Date),
    Column("at", UTCDateTime),
    Column("doc", JSON),
    Column("colour", enum_column(Colour)),
    Column("amount", Numeric(6, 2)),
    Column("score", REAL),  # float4: text and binary formats read it differently
    Column("bits", BIT(3)),
    Column("mood", Enum(Colour, name="libpq_mood")),  # a native enum type
    Column("name", String(10, collation="C")),
)
_ADD = HotStatement(insert(_PROBE), keys=[c.name for c in _PROBE.columns])
_READ = HotStatement(select(_PROBE).where(_PROBE.c.id == bindparam("id")))
_RENAME = HotStatement(update(_PROBE).where(_PROBE.c.id == bindparam("probe_id")), keys=("code",))
_PERCENT = HotStatement(select(literal_column("'100%'").label("text"), _PROBE.c.code))

_VALUES = {
    "id": 1,
    "ratio": 0.1,
    "code": "abc",
    "flag": True,
    "day": date(2026, 11, 29),
    "at": datetime(2026, 11, 29, 23, 30, 15, 123456, tzinfo=timezone(timedelta(hours=8))),
    "doc": [[0.0, 12.5], [20.0, 31.0]],
    "colour": Colour.BLUE,
    "amount": Decimal("12.34"),
    "score": 1.1,
    "bits": "101",
    "mood": Colour.RED,
    "name": "Zhixin",
}


@pytest.fixture
def engine(app):
    with app.app_context():
        engine = db.engine
        if engine.dialect.name != "postgresql":
            pytest.skip("libpq is PostgreSQL's")
        _PROBE.create(engine)
        try:
            yield engine
        finally:
            with autocommit_connection(engine) as held:  # leave no prepared statement behind
                state = held.connection.info.pop("libpq", None)
                for name in state.prepared if state else ():
                    held.connection.driver_connection.pgconn.exec_(b"DEALLOCATE " + name)
            _PROBE.drop(engine)


def held(engine):
    with autocommit_connection(engine) as connection:
        return connection


def test_a_held_postgresql_connection_runs_them_as_named_prepared_statements(engine):
    connection = held(engine)
    _ADD.execute(connection, _VALUES)
    name = _ADD._compiled["postgresql"].libpq.name.decode()
    prepared = connection.connection.driver_connection.execute(
        "SELECT statement FROM pg_prepared_statements WHERE name = %s", (name,)
    ).fetchone()
    assert prepared is not None
    assert "INSERT INTO libpq_probe" in prepared[0]


def test_values_read_back_are_what_was_stored_and_what_the_orm_reads(engine):
    connection = held(engine)
    assert _ADD.execute(connection, _VALUES) == 1
    row = _READ.first(connection, {"id": 1})
    with engine.connect() as other:  # through SQLAlchemy's own execution
        expected = other.execute(select(_PROBE).where(_PROBE.c.id == 1)).one()
    assert tuple(row) == tuple(expected)
    assert row._asdict() == {**_VALUES, "at": _VALUES["at"].astimezone(UTC)}
    assert row.at.tzinfo is UTC
    assert row.colour is Colour.BLUE
    assert _READ.first(connection, {"id": 2}) is None


def test_nulls_go_both_ways(engine):
    connection = held(engine)
    nulls = dict.fromkeys(_VALUES, None) | {"id": 3, "code": "x"}
    _ADD.execute(connection, nulls)
    assert _READ.first(connection, {"id": 3})._asdict() == nulls


def test_an_integer_for_a_float_column_is_stored_as_the_number_it_is(engine):
    connection = held(engine)
    _ADD.execute(connection, {**_VALUES, "ratio": 3})
    assert _READ.first(connection, {"id": 1}).ratio == 3.0


def test_a_literal_percent_sign_survives(engine):
    connection = held(engine)
    _ADD.execute(connection, _VALUES)
    assert tuple(_PERCENT.first(connection, {})) == ("100%", "abc")


def test_the_number_of_matched_rows_is_returned(engine):
    connection = held(engine)
    _ADD.execute(connection, _VALUES)
    assert _RENAME.execute(connection, {"probe_id": 1, "code": "def"}) == 1
    assert _RENAME.execute(connection, {"probe_id": 9, "code": "def"}) == 0
    assert _READ.first(connection, {"id": 1}).code == "def"


def test_a_too_long_string_is_refused_not_truncated(engine):
    connection = held(engine)
    with pytest.raises(exc.DataError, match="too long"):
        _ADD.execute(connection, {**_VALUES, "code": "abcdefgh"})
    assert _READ.first(connection, {"id": 1}) is None


def test_a_database_error_is_sqlalchemys_and_the_connection_goes_on(engine):
    connection = held(engine)
    _ADD.execute(connection, _VALUES)
    with pytest.raises(exc.IntegrityError) as raised:
        _ADD.execute(connection, _VALUES)  # the same primary key
    assert "libpq_probe" in str(raised.value)
    with pytest.raises(exc.IntegrityError):
        _ADD.execute(connection, {**_VALUES, "id": 2, "code": None})  # NOT NULL
    assert held(engine) is connection
    assert _READ.first(connection, {"id": 1}).code == "abc"


def test_statements_deallocated_by_someone_else_are_prepared_again(engine):
    connection = held(engine)
    _ADD.execute(connection, _VALUES)
    assert _READ.first(connection, {"id": 1}).code == "abc"
    connection.connection.driver_connection.execute("DEALLOCATE ALL", prepare=False)  # psycopg may
    assert _READ.first(connection, {"id": 1}).code == "abc"
    _ADD.execute(connection, {**_VALUES, "id": 2})


def test_a_table_changed_under_a_prepared_statement_is_prepared_again(engine):
    connection = held(engine)
    _ADD.execute(connection, _VALUES)
    assert _READ.first(connection, {"id": 1}).code == "abc"
    with engine.begin() as other:  # PostgreSQL: "cached plan must not change result type"
        other.execute(text("ALTER TABLE libpq_probe ALTER COLUMN code TYPE text"))
    assert _READ.first(connection, {"id": 1}).code == "abc"


def test_a_connection_lost_is_invalidated_and_replaced(engine):
    connection = held(engine)
    _ADD.execute(connection, _VALUES)
    pid = connection.connection.driver_connection.info.backend_pid
    with engine.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    with pytest.raises(exc.DBAPIError) as raised:
        _READ.first(connection, {"id": 1})
    assert raised.value.connection_invalidated
    replacement = held(engine)
    assert replacement is not connection
    assert _READ.first(replacement, {"id": 1}).code == "abc"


def test_inside_a_transaction_the_cursor_is_used_and_the_work_is_undone_with_it(
    engine, monkeypatch
):
    from app.libpq import LibpqStatement

    runs = []
    run = LibpqStatement.run
    monkeypatch.setattr(LibpqStatement, "run", lambda *args: runs.append(args) or run(*args))
    with engine.connect() as connection:
        outer = connection.begin()
        _ADD.execute(connection, _VALUES)
        assert _READ.first(connection, {"id": 1}).code == "abc"
        outer.rollback()
    assert runs == []
    assert _READ.first(held(engine), {"id": 1}) is None
    assert len(runs) == 1
