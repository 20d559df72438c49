"""Migrations build the whole schema from empty on every engine, and match storage/schema.py."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.migrate import check
from storage.schema import metadata


async def test_migrations_create_every_table(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert set(metadata.tables) <= names


async def test_migrated_schema_matches_models(engine: AsyncEngine) -> None:
    assert await check(engine) == []
