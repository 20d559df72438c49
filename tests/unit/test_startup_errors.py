"""Issue 7.18 (operations): start-up failures printed tracebacks, a wrong encryption key was
found only at the first read, ZAPIS_LOG_LEVEL was read by nothing."""

from __future__ import annotations

import argparse
import asyncio
import logging
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import insert

from bot import runner
from storage.crypto import PersonalDataCipher
from storage.db import create_engine
from storage.keycheck import KeyMismatch, check_encryption_key
from storage.migrate import upgrade
from storage.schema import users
from tests.conftest import TEST_KEY
from tests.unit.test_settings import _run_bot, clean_env

__all__ = ["clean_env"]  # autouse: no ZAPIS_ variable of the shell leaks in

OTHER_KEY = PersonalDataCipher.generate_key()
DOWN_PG = "postgresql+asyncpg://postgres@127.0.0.1:9/zapis"


def run_bot(tmp_path: Path, mode: str, **env: str) -> subprocess.CompletedProcess[str]:
    # WARNING: the INFO lines of a normal start (alembic's) are not shown above the error.
    return _run_bot(tmp_path, mode, **{"ZAPIS_LOG_LEVEL": "WARNING", **env})


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_database_down_at_start_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    line = one_line(run_bot(tmp_path, "migrate", ZAPIS_DATABASE_URL=DOWN_PG))
    assert line.startswith("start-up error: cannot use the database (ZAPIS_DATABASE_URL)")
    line = one_line(
        run_bot(
            tmp_path,
            "polling",
            ZAPIS_DATABASE_URL=DOWN_PG,
            ZAPIS_BOT_TOKEN="1:x",
            ZAPIS_ENCRYPTION_KEY=TEST_KEY,
        )
    )
    assert "ZAPIS_DATABASE_URL" in line


def test_wrong_encryption_key_refuses_to_start(tmp_path: Path) -> None:
    async def written_with_test_key() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}")
        await upgrade(engine)
        await check_encryption_key(engine, PersonalDataCipher(TEST_KEY))
        await engine.dispose()

    asyncio.run(written_with_test_key())
    env = {"ZAPIS_BOT_TOKEN": "1:x", "ZAPIS_ENCRYPTION_KEY": OTHER_KEY}
    line = one_line(run_bot(tmp_path, "polling", **env))
    assert "ZAPIS_ENCRYPTION_KEY is not the key this database was written with" in line
    assert OTHER_KEY not in line
    line = one_line(run_bot(tmp_path, "polling", ZAPIS_BOT_TOKEN="1:x", ZAPIS_ENCRYPTION_KEY="x"))
    assert "ZAPIS_ENCRYPTION_KEY" in line


def test_malformed_token_and_log_level_are_named(tmp_path: Path) -> None:
    env = {"ZAPIS_BOT_TOKEN": "no-colon", "ZAPIS_ENCRYPTION_KEY": TEST_KEY}
    line = one_line(run_bot(tmp_path, "polling", **env))
    assert "ZAPIS_BOT_TOKEN" in line
    line = one_line(run_bot(tmp_path, "migrate", ZAPIS_LOG_LEVEL="LOUD"))
    assert "ZAPIS_LOG_LEVEL" in line


async def test_key_sentinel_is_written_once_and_checked(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'k.sqlite3'}")
    await upgrade(engine)
    right, wrong = PersonalDataCipher(TEST_KEY), PersonalDataCipher(OTHER_KEY)
    await check_encryption_key(engine, right)  # writes the sentinel
    await check_encryption_key(engine, right)
    with pytest.raises(KeyMismatch):
        await check_encryption_key(engine, wrong)
    await engine.dispose()


async def test_a_database_from_before_the_sentinel_is_checked_on_its_data(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'k.sqlite3'}")
    await upgrade(engine)
    async with engine.begin() as conn:
        await conn.execute(
            insert(users).values(
                id=1,
                created_at=datetime(2026, 1, 1),
                phone_enc=PersonalDataCipher(TEST_KEY).encrypt("+7900"),
            )
        )
    with pytest.raises(KeyMismatch):
        await check_encryption_key(engine, PersonalDataCipher(OTHER_KEY))
    await check_encryption_key(engine, PersonalDataCipher(TEST_KEY))
    await engine.dispose()


@pytest.fixture
def root_level() -> Iterator[None]:
    before = logging.getLogger().level
    yield
    logging.getLogger().setLevel(before)


@pytest.mark.usefixtures("root_level")
def test_log_level_setting_is_applied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZAPIS_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'l.sqlite3'}")
    monkeypatch.setenv("ZAPIS_LOG_LEVEL", "warning")
    logging.getLogger().setLevel(logging.INFO)
    assert asyncio.run(runner.run(argparse.Namespace(command="migrate"))) == 0
    assert logging.getLogger().level == logging.WARNING
