"""The «Документы» section's rows: the file stays at Telegram, its metadata here, encrypted.

The title and the original file name say what the document is about («Анализ
на ВИЧ») — personal data — so they are one Fernet-encrypted JSON (``meta_enc``);
the type, size and Telegram's file id are not. Deleting sets ``deleted_at``:
the file at Telegram cannot be deleted by a bot, the row just stops existing
for the patient.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from domain.documents import DocType, Document, Upload
from storage.repos.base import Repository, from_db, to_db
from storage.schema import documents, patients


class DocumentRepository(Repository):
    async def add(
        self, user_id: int, patient_id: int, upload: Upload, title: str, now: datetime
    ) -> Document:
        meta = json.dumps({"title": title, "file_name": upload.file_name}, ensure_ascii=False)
        result = await self.conn.execute(
            insert(documents)
            .values(
                patient_id=patient_id,
                user_id=user_id,
                kind=upload.kind.value,
                sent_as=upload.sent_as,
                tg_file_id=upload.file_id,
                size=upload.size,
                meta_enc=self.cipher.encrypt(meta),
                created_at=to_db(now),
            )
            .returning(documents.c.id)
        )
        document_id = int(result.scalar_one())
        return Document(
            id=document_id,
            patient_id=patient_id,
            user_id=user_id,
            kind=upload.kind,
            sent_as=upload.sent_as,
            file_id=upload.file_id,
            size=upload.size,
            title=title,
            file_name=upload.file_name,
            created_at=now,
        )

    async def get(self, document_id: int) -> Document | None:
        row = (
            await self.conn.execute(
                select(documents).where(
                    documents.c.id == document_id, documents.c.deleted_at.is_(None)
                )
            )
        ).first()
        return None if row is None else self._document(row)

    async def for_user(self, user_id: int, *, patient_id: int | None = None) -> list[Document]:
        """Newest first; only of the account's live patients (a removed relative's go)."""
        query = (
            select(documents)
            .join(patients, patients.c.id == documents.c.patient_id)
            .where(
                documents.c.user_id == user_id,
                documents.c.deleted_at.is_(None),
                patients.c.owner_user_id == user_id,
                patients.c.deleted_at.is_(None),
            )
            .order_by(documents.c.created_at.desc(), documents.c.id.desc())
        )
        if patient_id is not None:
            query = query.where(documents.c.patient_id == patient_id)
        return [self._document(r) for r in await self.conn.execute(query)]

    async def delete(self, document_id: int, now: datetime) -> bool:
        result = await self.conn.execute(
            update(documents)
            .where(documents.c.id == document_id, documents.c.deleted_at.is_(None))
            .values(deleted_at=to_db(now))
        )
        return int(result.rowcount) == 1

    def _document(self, row: Any) -> Document:
        meta = json.loads(self.cipher.decrypt(row.meta_enc) or "{}")
        return Document(
            id=row.id,
            patient_id=row.patient_id,
            user_id=row.user_id,
            kind=DocType(row.kind),
            sent_as=row.sent_as,
            file_id=row.tg_file_id,
            size=row.size,
            title=str(meta.get("title", "")),
            file_name=str(meta.get("file_name", "")),
            created_at=from_db(row.created_at),
        )
