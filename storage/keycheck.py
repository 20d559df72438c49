"""Is the configured encryption key the one this database was written with?

Without this check a wrong ``ZAPIS_ENCRYPTION_KEY`` shows up only at the
first read of personal data — in the middle of some patient's dialogue — and
worse, data written meanwhile is under a second key. So at start a sentinel
(a known text encrypted under the key) is read from ``meta`` and decrypted;
a database without one (new, or from before this check) first proves the key
on one existing ciphertext, then gets the sentinel.
"""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.crypto import PersonalDataCipher
from storage.schema import meta, patients, users

SENTINEL_KEY = "encryption_key_check"
SENTINEL_TEXT = "zapis: the personal data key"


class KeyMismatch(Exception):
    """The configured key cannot read what this database holds."""


def _readable(cipher: PersonalDataCipher, token: str) -> bool:
    try:
        return cipher.decrypt(token) is not None
    except ValueError:
        return False


async def check_encryption_key(engine: AsyncEngine, cipher: PersonalDataCipher) -> None:
    """Raise KeyMismatch unless ``cipher`` holds this database's key (writes the sentinel)."""
    async with engine.connect() as conn:
        stored = (
            await conn.execute(select(meta.c.value).where(meta.c.key == SENTINEL_KEY))
        ).scalar()
        if stored is not None:
            if not _readable(cipher, stored) or cipher.decrypt(stored) != SENTINEL_TEXT:
                raise KeyMismatch("the sentinel does not decrypt")
            return
        for column in (users.c.phone_enc, patients.c.snils_enc, patients.c.policy_enc):
            sample = (
                await conn.execute(select(column).where(column.is_not(None)).limit(1))
            ).scalar()
            if sample is not None and not _readable(cipher, sample):
                raise KeyMismatch(f"existing {column.table.name}.{column.name} does not decrypt")
        try:
            await conn.execute(
                insert(meta).values(key=SENTINEL_KEY, value=cipher.encrypt(SENTINEL_TEXT))
            )
            await conn.commit()
        except IntegrityError:  # another process wrote it first: check theirs
            await conn.rollback()
            return await check_encryption_key(engine, cipher)
