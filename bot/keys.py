"""Which encryption key a command uses: the configured one, or in dev a key file kept
beside the SQLite database (``console.sqlite3.key``).

Shared by the console (emulator/setup.py) and the operator commands that open the
same database (bot/cli: backup, staff, stats …), so a dev database made by the
console can be read by them. Lives in bot/: the emulator sits above bot in the
layers and may use it; bot never imports the emulator.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url

from bot.app import resolve_encryption_key
from bot.settings import Settings
from storage.db import is_sqlite


def encryption_key(settings: Settings, db_url: str) -> str:
    """ZAPIS_ENCRYPTION_KEY if set; else, for a SQLite file, the key file next to it."""
    if is_sqlite(db_url):
        database = make_url(db_url).database
        if database and database != ":memory:":
            key_file = Path(database).with_name(Path(database).name + ".key")
            return resolve_encryption_key(settings, dev_key_file=key_file)
    return resolve_encryption_key(settings)
