"""identity: names and birth dates encrypted; erased patients unlinked; register matches the person

Revision ID: 0002_identity
Revises: 0001
Create Date: 2026-11-30

* ``patients.surname/name/patronymic/birth_date`` (plaintext) become
  ``name_enc`` / ``birth_date_enc`` (Fernet). Existing rows are encrypted here
  with the key handed over by storage.migrate.upgrade (or ZAPIS_ENCRYPTION_KEY);
  without a key a database that holds names stops with one clear line.
* Accounts erased earlier are unlinked from their Telegram id here, as
  /delete_me now does: their blank patient rows and kept visits move to the
  placeholder account 0, so they no longer come back on a new registration.
* ``attachments`` gains keyed hashes of the listed person's name, birth date
  and sex. Register rows loaded before this revision have none and so confirm
  nobody until the register is loaded again (``python -m bot seed-demo`` on a
  fresh database for the demo).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import context, op

revision = "0002_identity"
down_revision = "0001"
branch_labels = None
depends_on = None


def _cipher():  # type: ignore[no-untyped-def]
    from storage.crypto import PersonalDataCipher

    key = context.config.attributes.get("encryption_key") or os.environ.get(
        "ZAPIS_ENCRYPTION_KEY"
    )
    if not key:
        raise RuntimeError(
            "migration 0002_identity encrypts stored patient names: set ZAPIS_ENCRYPTION_KEY"
        )
    return PersonalDataCipher(key)


def _drop_columns(table: str, *columns: str) -> None:
    """Drop plain columns without rebuilding the table: on SQLite a rebuild (copy,
    DROP, rename) of ``patients`` fails its foreign keys while appointments point
    at it, so SQLite's own ALTER TABLE … DROP COLUMN (3.35+) is used there."""
    if op.get_bind().dialect.name == "sqlite":
        for column in columns:
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    else:
        for column in columns:
            op.drop_column(table, column)


def upgrade() -> None:
    op.add_column("patients", sa.Column("name_enc", sa.Text(), nullable=True))
    op.add_column("patients", sa.Column("birth_date_enc", sa.Text(), nullable=True))

    bind = op.get_bind()
    # Accounts erased before this revision: their blanked patient rows and kept
    # appointments were still linked to the Telegram id (and came back on a new
    # registration); move them to the placeholder account 0 (ERASED_OWNER in
    # storage/repos/users.py) and drop the untranslated stored reason.
    erased = "SELECT id FROM patients WHERE deleted_at IS NOT NULL AND surname = '' AND name = ''"
    if bind.execute(sa.text(erased)).first() is not None:
        if bind.execute(sa.text("SELECT 1 FROM users WHERE id = 0")).first() is None:
            bind.execute(
                sa.text(
                    "INSERT INTO users (id, created_at, level, status, unreachable, "
                    "notify_optout, no_show_count) VALUES (0, :now, 'none', 'deleted', "
                    ":false, '', 0)"
                ),
                {"now": datetime.now(UTC).replace(tzinfo=None), "false": False},
            )
        bind.execute(sa.text(f"UPDATE appointments SET user_id = 0 WHERE patient_id IN ({erased})"))
        bind.execute(sa.text(f"UPDATE patients SET owner_user_id = 0 WHERE id IN ({erased})"))
    bind.execute(
        sa.text(
            "UPDATE appointments SET cancel_reason = NULL WHERE cancel_reason = 'account deleted'"
        )
    )

    rows = bind.execute(
        sa.text("SELECT id, surname, name, patronymic, birth_date FROM patients")
    ).fetchall()
    to_encrypt = [r for r in rows if r.surname or r.name or r.patronymic or r.birth_date]
    if to_encrypt:
        cipher = _cipher()
        for r in to_encrypt:
            born = r.birth_date
            if isinstance(born, str):  # SQLite hands back text in a raw query
                born = date.fromisoformat(born[:10])
            name = json.dumps([r.surname, r.name, r.patronymic], ensure_ascii=False)
            bind.execute(
                sa.text("UPDATE patients SET name_enc = :n, birth_date_enc = :b WHERE id = :i"),
                {
                    "n": cipher.encrypt(name) if (r.surname or r.name) else None,
                    "b": cipher.encrypt(born.isoformat()) if born else None,
                    "i": r.id,
                },
            )
    _drop_columns("patients", "surname", "name", "patronymic", "birth_date")

    op.add_column("attachments", sa.Column("name_hash", sa.String(length=64), nullable=True))
    op.add_column(
        "attachments", sa.Column("birth_date_hash", sa.String(length=64), nullable=True)
    )
    op.add_column("attachments", sa.Column("sex_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    _drop_columns("attachments", "sex_hash", "birth_date_hash", "name_hash")
    for column in ("surname", "name", "patronymic"):
        op.add_column(
            "patients",
            sa.Column(column, sa.String(length=128), server_default="", nullable=False),
        )
    op.add_column("patients", sa.Column("birth_date", sa.Date(), nullable=True))

    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, name_enc, birth_date_enc FROM patients")).fetchall()
    to_decrypt = [r for r in rows if r.name_enc or r.birth_date_enc]
    if to_decrypt:
        cipher = _cipher()
        for r in to_decrypt:
            parts = json.loads(cipher.decrypt(r.name_enc) or '["", "", ""]')
            born = cipher.decrypt(r.birth_date_enc)
            bind.execute(
                sa.text(
                    "UPDATE patients SET surname = :s, name = :n, patronymic = :p, "
                    "birth_date = :b WHERE id = :i"
                ),
                {
                    "s": parts[0],
                    "n": parts[1],
                    "p": parts[2],
                    "b": date.fromisoformat(born) if born else None,
                    "i": r.id,
                },
            )

    _drop_columns("patients", "birth_date_enc", "name_enc")
