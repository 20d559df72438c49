"""storage/prepared.py: a Prepared statement returns what ``conn.execute`` returns.

On the in-loop SQLite driver inside a transaction it runs on the driver's cursor;
the rows (types processed: datetimes, booleans), the statement events and the
errors' types must be those of SQLAlchemy's own path. On other engines it is that path.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import bindparam, event, exc, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.crypto import PersonalDataCipher
from storage.inloop_async import InloopAsyncConnection
from storage.prepared import Prepared
from storage.schema import journal, users
from storage.uow import UnitOfWorkFactory
from tests.conftest import NOW

_USERS = select(users).where(users.c.id.in_([bindparam("a"), bindparam("b")])).order_by(users.c.id)
_JOURNAL = insert(journal).values(
    user_id=bindparam("user_id"), at=bindparam("at"), action=bindparam("action")
)


async def test_rows_and_events_match_sqlalchemys(
    engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    uows = UnitOfWorkFactory(engine, cipher)
    async with uows() as uow:
        await uow.users.ensure(5, NOW)
        await uow.users.ensure(6, NOW)
        await uow.commit()
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement.split()[0])

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with uows() as uow:
            prepared = Prepared(_USERS)
            mine = await prepared.rows(uow.conn, {"a": 5, "b": 6})
            theirs = [tuple(r) for r in (await uow.conn.execute(_USERS, {"a": 5, "b": 6})).all()]
            assert mine == theirs and len(mine) == 2
            assert all(type(a) is type(b) for a, b in zip(mine[0], theirs[0], strict=True))
            assert isinstance(mine[0][1], datetime)  # created_at: the type's result processor
            records = await prepared.records(uow.conn, {"a": 5, "b": 6})
            mappings = (await uow.conn.execute(_USERS, {"a": 5, "b": 6})).mappings().all()
            assert [dict(r) for r in records] == [dict(m) for m in mappings]
            assert records[0].id == records[0]["id"] == records[0]._mapping["id"] == 5
            at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC).replace(tzinfo=None)
            await Prepared(_JOURNAL).run(uow.conn, {"user_id": 5, "at": at, "action": "x"})
            got = (
                await uow.conn.execute(select(journal.c.at).where(journal.c.action == "x"))
            ).one()
            assert got.at == at
            await uow.commit()
        assert seen.count("INSERT") == 1 and seen.count("SELECT") == 5
        if engine.dialect.driver == "zapis":
            assert seen[0] == "BEGIN"  # the transaction opened as autobegin would
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_direct_path_on_the_inloop_driver_and_wrapped_errors(
    sqlite_engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    uows = UnitOfWorkFactory(sqlite_engine, cipher)
    async with uows() as uow:
        assert isinstance(uow.conn, InloopAsyncConnection)
        await uow.users.ensure(7, NOW)
        duplicate = insert(users).values(
            id=bindparam("id"), created_at=bindparam("at"), level="none"
        )
        with pytest.raises(exc.IntegrityError):
            await Prepared(duplicate).run(uow.conn, {"id": 7, "at": NOW.replace(tzinfo=None)})
        with pytest.raises(exc.ArgumentError):
            await Prepared(_USERS).rows(uow.conn, {"a": 7})


def test_a_compiled_form_is_never_served_to_another_dialect() -> None:
    """The cache is keyed by the dialect's id; an id is reused once its object is gone.
    Seen in the suite: a statement compiled for SQLite («?») was run on asyncpg. The
    entry keeps its dialect and is used only for that very object."""
    from sqlalchemy.dialects import postgresql, sqlite

    lite, pg = sqlite.dialect(), postgresql.dialect(paramstyle="numeric_dollar")
    plain = Prepared(select(users.c.id).where(users.c.id == bindparam("a")))
    on_lite = plain._compiled(lite)
    assert on_lite is not None and "?" in on_lite.sql
    # Make the PostgreSQL dialect's key the one SQLite's entry sits under, as a reused id would.
    plain._by_dialect[(id(pg), False)] = plain._by_dialect[(id(lite), False)]
    on_pg = plain._compiled(pg)
    assert on_pg is not None and "$1" in on_pg.sql and "?" not in on_pg.sql
    assert plain._compiled(pg) is on_pg  # and cached for that dialect


def test_a_datetime_binds_as_sqlalchemys_sqlite_processor_does() -> None:
    """The cheaper processor for SQLite's DATETIME gives SQLAlchemy's text for a naive
    datetime and hands everything else (aware, a date, a subclass) to SQLAlchemy's."""
    from datetime import date, timedelta, timezone

    from sqlalchemy import DateTime
    from sqlalchemy.dialects import sqlite

    from storage.prepared import _fast_bind

    dialect = sqlite.dialect()
    theirs = DateTime().dialect_impl(dialect).bind_processor(dialect)
    mine = _fast_bind(DateTime(), dialect, theirs)
    assert mine is not theirs and mine is not None

    class Moment(datetime):
        pass

    values: list[Any] = [
        datetime(2026, 12, 1, 9, 0),
        datetime(2026, 12, 1, 9, 0, 0, 7),
        datetime(1, 1, 1),
        datetime(999, 3, 4, 5, 6, 7, 890123),
        datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        datetime(2026, 12, 1, 9, 0, tzinfo=timezone(timedelta(hours=3))),
        date(2026, 12, 1),
        Moment(2026, 12, 1, 9, 0, 1, 500),
    ]
    for value in values:
        assert mine(value) == theirs(value), value
    assert mine(values[0]) == "2026-12-01 09:00:00.000000"
    # Another storage format, another dialect: SQLAlchemy's own processor, untouched.
    other = sqlite.DATETIME(truncate_microseconds=True)
    processor = other.bind_processor(dialect)
    assert _fast_bind(other, dialect, processor) is processor


def test_parameters_in_the_compiled_order_with_fixed_values_and_a_missing_one() -> None:
    from sqlalchemy.dialects import sqlite

    from storage.prepared import _Compiled

    statement = select(journal.c.id).where(
        journal.c.at > bindparam("at"), journal.c.user_id == bindparam("user_id")
    )
    compiled = _Compiled(statement, sqlite.dialect())
    at = datetime(2026, 1, 2, 3, 4, 5)
    assert compiled.parameters({"user_id": 7, "at": at}) == ("2026-01-02 03:04:05.000000", 7)
    assert compiled.parameters({"user_id": 7, "at": None}) == (None, 7)
    with pytest.raises(KeyError):
        compiled.parameters({"user_id": 7})
    fixed = _Compiled(select(journal.c.id).where(journal.c.action == "x"), sqlite.dialect())
    assert fixed.parameters({}) == ("x",)
