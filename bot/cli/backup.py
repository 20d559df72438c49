"""backup / restore with SQLite's online backup API (a consistent copy while the bot runs).

PostgreSQL is not copied here: ``pg_dump`` is the tool, and it must be at least
the server's major version, so the command says which server it found and
which ``pg_dump`` is on PATH.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

PAGES_PER_STEP = 1024


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or not parsed.database:
        return None
    return Path(parsed.database)


def _copy(src: sqlite3.Connection, dst: sqlite3.Connection) -> None:
    def progress(status: int, remaining: int, total: int) -> None:
        done = total - remaining
        _say(f"  {done}/{total} pages")

    src.backup(dst, pages=PAGES_PER_STEP, progress=progress)


def _rows(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return sum(conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables)


def _backup_sync(db: Path, dest: Path) -> int:
    src = sqlite3.connect(db)
    dst = sqlite3.connect(dest)
    try:
        _copy(src, dst)
    finally:
        dst.close()
        src.close()
    return _rows(dest)


def _restore_sync(src_path: Path, db: Path) -> int:
    src = sqlite3.connect(f"file:{src_path}?mode=ro", uri=True)
    try:
        if src.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise ValueError("the backup fails SQLite's integrity check")
        dst = sqlite3.connect(db)
        try:
            _copy(src, dst)
        finally:
            dst.close()
    finally:
        src.close()
    return _rows(db)


async def postgres_advice(url: str) -> int:
    from sqlalchemy import text

    from storage.db import create_engine

    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            server = str(await conn.scalar(text("SHOW server_version")))
    finally:
        await engine.dispose()
    tool = shutil.which("pg_dump")
    found = (
        subprocess.run([tool, "--version"], capture_output=True, text=True).stdout.strip()
        if tool
        else "no pg_dump on PATH"
    )
    print(
        f"backup: PostgreSQL {server} — use pg_dump (major version ≥ {server.split('.')[0]}; "
        f"found: {found}), e.g. pg_dump -Fc -f zapis.dump DBNAME; restore with pg_restore"
    )
    return 2


async def backup(url: str, dest: Path) -> int:
    db = sqlite_path(url)
    if db is None:
        return await postgres_advice(url)
    if not db.exists():
        print(f"backup: {db} does not exist")
        return 1
    _say(f"backup: {db} → {dest}")
    rows = await asyncio.to_thread(_backup_sync, db, dest)
    print(f"backup: {rows} rows written to {dest} ({dest.stat().st_size} bytes)")
    return 0


async def restore(url: str, src: Path, *, confirmed: bool) -> int:
    db = sqlite_path(url)
    if db is None:
        return await postgres_advice(url)
    if not src.exists():
        print(f"restore: {src} does not exist")
        return 1
    if not confirmed:
        print(f"restore: this replaces every row of {db}; run again with --yes")
        return 1
    _say(f"restore: {src} → {db}")
    try:
        rows = await asyncio.to_thread(_restore_sync, src, db)
    except (ValueError, sqlite3.DatabaseError) as exc:
        print(f"restore: {src}: {exc}; the database is unchanged")
        return 1
    print(f"restore: {rows} rows restored into {db}")
    return 0
