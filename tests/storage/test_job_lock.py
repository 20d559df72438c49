"""storage.locks: one runner of a periodic job at a time across processes (issue 12)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from storage.locks import exclusive_job


async def test_a_second_runner_is_told_to_skip_until_the_first_is_done(
    engine: AsyncEngine,
) -> None:
    async with exclusive_job(engine, "waitlist") as first:
        assert first
        async with exclusive_job(engine, "waitlist") as second:
            # PostgreSQL: another session is refused; SQLite is one process: always yes.
            assert second is (engine.dialect.name == "sqlite")
        async with exclusive_job(engine, "other job") as other:
            assert other
    async with exclusive_job(engine, "waitlist") as again:
        assert again
