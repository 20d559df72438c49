"""Issue 7.18: the first update after PostgreSQL dropped its connections failed.

The pool kept connections the server had closed (restart, failover, idle
timeout); the engine now pings a pooled connection before handing it out.
"""

from __future__ import annotations

from sqlalchemy import text

from storage.crypto import PersonalDataCipher
from storage.db import create_engine
from storage.uow import UnitOfWorkFactory
from tests.conftest import TEST_KEY, drop_pg_database, make_pg_engine, requires_pg


@requires_pg
async def test_first_use_after_the_server_dropped_every_connection_works() -> None:
    admin, name = await make_pg_engine()
    engine = create_engine(admin.url.render_as_string(hide_password=False), pool_size=2)
    uow = UnitOfWorkFactory(engine, PersonalDataCipher(TEST_KEY))
    try:
        async with uow() as work:  # a connection now sits in the pool
            assert await work.users.get(1) is None
        async with admin.connect() as conn:
            killed = await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            assert any(row[0] for row in killed)
            await conn.commit()
        async with uow() as work:  # used to raise ConnectionDoesNotExistError / InterfaceError
            assert await work.users.get(1) is None
    finally:
        await engine.dispose()
        await admin.dispose()
        await drop_pg_database(name)
