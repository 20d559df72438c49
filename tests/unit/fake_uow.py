"""FakeUnitOfWork: what a service sees instead of the update's unit of work (issue 8.2).

It fails the test the moment a service calls ``commit()`` or ``rollback()`` — the
update (bot/middlewares/database.py) or the job ends the transaction, never a
service — and records every such call and savepoint, so a test can also assert
on them afterwards. The repositories are the real ones of the wrapped unit of
work (SQLite), so the services run exactly as in production (cosmicpython's
FakeUnitOfWork records ``committed``; this one forbids it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from storage.uow import SqlUnitOfWork


class ServiceCommitted(AssertionError):
    """A domain service tried to end the update's transaction."""


class FakeUnitOfWork:
    def __init__(self, real: SqlUnitOfWork) -> None:
        self._real = real
        self.calls: list[str] = []  # "commit", "rollback", "savepoint", "savepoint-undone"

    def __getattr__(self, name: str) -> Any:  # the repositories: users, appointments, …
        return getattr(self._real, name)

    async def commit(self) -> None:
        self.calls.append("commit")
        raise ServiceCommitted("a service called uow.commit(): the update commits")

    async def rollback(self) -> None:
        self.calls.append("rollback")
        raise ServiceCommitted("a service called uow.rollback(): the update rolls back")

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        self.calls.append("savepoint")
        try:
            async with self._real.savepoint():
                yield
        except BaseException:
            self.calls.append("savepoint-undone")
            raise

    @property
    def ended(self) -> list[str]:
        """The commit/rollback calls a service made (must stay empty)."""
        return [c for c in self.calls if c in ("commit", "rollback")]
