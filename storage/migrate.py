"""Alembic driven from code, so `python -m bot migrate`, the console and tests share one path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


async def upgrade(
    engine: AsyncEngine, revision: str = "head", *, encryption_key: str | None = None
) -> None:
    """Migrate to ``revision``; ``encryption_key`` lets a data migration encrypt
    personal data already stored (0002_identity: patient names and birth dates)."""
    cfg = alembic_config()
    if encryption_key:
        cfg.attributes["encryption_key"] = encryption_key

    def _run(sync_conn: Any) -> None:
        cfg.attributes["connection"] = sync_conn
        command.upgrade(cfg, revision)

    async with engine.connect() as conn:
        await conn.run_sync(_run)
        await conn.commit()


async def check(engine: AsyncEngine) -> list[Any]:
    """Differences between the migrated database and storage/schema.py (empty when in sync)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from storage.schema import metadata

    def _diff(sync_conn: Any) -> list[Any]:
        ctx = MigrationContext.configure(sync_conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, metadata))

    async with engine.connect() as conn:
        return await conn.run_sync(_diff)


async def revision(engine: AsyncEngine, message: str) -> None:
    """Autogenerate a revision against a database migrated to head (operator tool)."""
    cfg = alembic_config()

    def _run(sync_conn: Any) -> None:
        cfg.attributes["connection"] = sync_conn
        command.revision(cfg, message=message, autogenerate=True)

    async with engine.connect() as conn:
        await conn.run_sync(_run)
