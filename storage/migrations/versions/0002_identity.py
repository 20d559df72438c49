"""identity: names and birth dates encrypted; erased patients unlinked; register matches the person

Revision ID: 0002_identity
Revises: 0001
Create Date: 2026-11-30

* ``patients.surname/name/patronymic/birth_date`` (plaintext) become
  ``name_enc`` / ``birth_date_enc`` (Fernet). Existing rows are encrypted here
  with the key handed over by storage.migrate.upgrade (or ZAPIS_ENCRYPTION_KEY);
  without a key a database that holds names stops with one clear line.
* ``patients.owner_user_id`` becomes nullable: /delete_me unlinks the kept
  appointment records from the Telegram account.
* ``attachments`` gains keyed hashes of the listed person's name, birth date
  and sex. Register rows loaded before this revision have none and so confirm
  nobody until the register is loaded again (``python -m bot seed-demo`` on a
  fresh database for the demo).
"""

from __future__ import annotations

import json
import os
from datetime import date

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


def upgrade() -> None:
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_enc", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("birth_date_enc", sa.Text(), nullable=True))
        batch_op.alter_column("owner_user_id", existing_type=sa.BigInteger(), nullable=True)

    bind = op.get_bind()
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

    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_column("surname")
        batch_op.drop_column("name")
        batch_op.drop_column("patronymic")
        batch_op.drop_column("birth_date")

    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("birth_date_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("sex_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_column("sex_hash")
        batch_op.drop_column("birth_date_hash")
        batch_op.drop_column("name_hash")

    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("surname", sa.String(length=128), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("name", sa.String(length=128), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("patronymic", sa.String(length=128), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("birth_date", sa.Date(), nullable=True))

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

    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_column("birth_date_enc")
        batch_op.drop_column("name_enc")
    # Erased patients (owner NULL) cannot get an owner back: the column stays nullable.
