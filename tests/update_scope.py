"""Tests run services the way an update (or a job) runs them: the block is the transaction.

Services never commit (issue 8.2): bot/middlewares/database.py commits when the
handler returns and rolls back when it raises. ``as_update(factory)`` gives tests
the same story — ``async with uows() as uow:`` commits on a normal exit (also
after a ``pytest.raises`` inside it: a refusal must have written nothing) and
rolls back on an exception.
"""

from __future__ import annotations

from types import TracebackType

from storage.uow import SqlUnitOfWork, UnitOfWorkFactory


class _Scope:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self.uow = uow

    async def __aenter__(self) -> SqlUnitOfWork:
        return await self.uow.__aenter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            await self.uow.commit()
        await self.uow.__aexit__(exc_type, exc, tb)


class AsUpdate:
    def __init__(self, factory: UnitOfWorkFactory) -> None:
        self.factory = factory
        self.engine = factory.engine
        self.cipher = factory.cipher

    def __call__(self) -> _Scope:
        return _Scope(self.factory())


def as_update(factory: UnitOfWorkFactory) -> AsUpdate:
    return AsUpdate(factory)
