"""Certificate requests (domain/certificates.py): every typed text and the issued data encrypted.

A status change is one conditional UPDATE (``WHERE status = expected``): two
registrars pressing at once, or a second tap, move a request once.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from domain.certificates import (
    CertificateRequest,
    CertKind,
    CertStatus,
    NewRequest,
    Sheet,
)
from domain.staff_notices import Subject, Waiting
from storage.repos.base import Repository, from_db, to_db
from storage.schema import certificate_requests as cr
from storage.schema import clinics, patients

OPEN = (CertStatus.SUBMITTED.value, CertStatus.IN_REVIEW.value, CertStatus.MORE_INFO.value)


# The support job's read of requests to tell the staff about, built once (every minute).
_WAITING_FOR_STAFF = (
    select(cr.c.id, cr.c.clinic_id, cr.c.kind, cr.c.status, cr.c.staff_notice_at, clinics.c.tz)
    .join(clinics, clinics.c.id == cr.c.clinic_id)
    .where(cr.c.staff_notice_at.is_not(None))
    .order_by(cr.c.staff_notice_at, cr.c.id)
    .limit(bindparam("limit"))
)


class CertificateRepository(Repository):
    async def add(self, new: NewRequest, now: datetime) -> CertificateRequest:
        moment = to_db(now)
        result = await self.conn.execute(
            insert(cr)
            .values(
                patient_id=new.patient_id,
                user_id=new.user_id,
                clinic_id=new.clinic_id,
                kind=new.kind.value,
                status=CertStatus.SUBMITTED.value,
                purpose_enc=self.cipher.encrypt(new.purpose),
                document_ids=json.dumps(list(new.document_ids)),
                created_at=moment,
                updated_at=moment,
                staff_notice_at=moment,  # a new request waits for the staff
            )
            .returning(cr.c.id)
        )
        return CertificateRequest(
            id=int(result.scalar_one()),
            patient_id=new.patient_id,
            user_id=new.user_id,
            clinic_id=new.clinic_id,
            kind=new.kind,
            status=CertStatus.SUBMITTED,
            purpose=new.purpose,
            document_ids=tuple(new.document_ids),
            created_at=now,
            updated_at=now,
        )

    async def get(self, request_id: int) -> CertificateRequest | None:
        row = (await self.conn.execute(select(cr).where(cr.c.id == request_id))).first()
        return None if row is None else self._request(row)

    async def for_user(self, user_id: int) -> list[CertificateRequest]:
        """Newest first; only of the account's live patients (a removed relative's go, as their
        buttons are out of date)."""
        rows = await self.conn.execute(
            select(cr)
            .join(patients, patients.c.id == cr.c.patient_id)
            .where(cr.c.user_id == user_id, patients.c.deleted_at.is_(None))
            .order_by(cr.c.id.desc())
        )
        return [self._request(r) for r in rows]

    async def open_for_clinics(self, clinic_ids: tuple[int, ...]) -> list[CertificateRequest]:
        """Requests the clinics still have to act on, oldest first."""
        if not clinic_ids:
            return []
        rows = await self.conn.execute(
            select(cr)
            .where(cr.c.clinic_id.in_(clinic_ids), cr.c.status.in_(OPEN))
            .order_by(cr.c.id)
        )
        return [self._request(r) for r in rows]

    async def update(
        self,
        request_id: int,
        expected: CertStatus,
        status: CertStatus,
        now: datetime,
        *,
        question: str | None = None,
        answer: str | None = None,
        refusal: str | None = None,
        sheet: Sheet | None = None,
    ) -> bool:
        # The patient's answer waits for the staff; any other change (a staff step, a
        # withdrawal) means nothing does.
        values: dict[str, Any] = {
            "status": status.value,
            "updated_at": to_db(now),
            "staff_notice_at": to_db(now) if answer is not None else None,
        }
        if question is not None:
            values["question_enc"] = self.cipher.encrypt(question)
            values["answer_enc"] = None  # a new question waits for a new answer
        if answer is not None:
            values["answer_enc"] = self.cipher.encrypt(answer)
        if refusal is not None:
            values["refusal_enc"] = self.cipher.encrypt(refusal)
        if sheet is not None:
            values["sheet_enc"] = self.cipher.encrypt(_sheet_json(sheet))
            values["issued_at"] = to_db(now)
        result = await self.conn.execute(
            update(cr).where(cr.c.id == request_id, cr.c.status == expected.value).values(**values)
        )
        return int(result.rowcount) == 1

    async def waiting_for_staff(self, limit: int) -> list[Waiting]:
        rows = await self.conn.execute(_WAITING_FOR_STAFF, {"limit": limit})
        return [
            Waiting(
                subject=Subject.CERTIFICATE,
                item_id=int(r.id),
                clinic_id=int(r.clinic_id),
                label=str(r.kind),
                reply=r.status != CertStatus.SUBMITTED.value,
                marked_at=from_db(r.staff_notice_at),
                tz=r.tz,
            )
            for r in rows
        ]

    async def clear_staff_notice(self, item_id: int, marked_at: datetime) -> bool:
        return await self.clear_staff_notice_of(cr, item_id, marked_at)

    async def clinic_choices(self) -> list[tuple[int, str]]:
        """(id, name) of every clinic, for a patient with no attached clinic."""
        rows = await self.conn.execute(select(clinics.c.id, clinics.c.name).order_by(clinics.c.id))
        return [(int(r.id), str(r.name)) for r in rows]

    def _request(self, row: Any) -> CertificateRequest:
        sheet_raw = self.cipher.decrypt(row.sheet_enc)
        return CertificateRequest(
            id=row.id,
            patient_id=row.patient_id,
            user_id=row.user_id,
            clinic_id=row.clinic_id,
            kind=CertKind(row.kind),
            status=CertStatus(row.status),
            purpose=self.cipher.decrypt(row.purpose_enc) or "",
            document_ids=tuple(int(i) for i in json.loads(row.document_ids or "[]")),
            created_at=from_db(row.created_at),
            updated_at=from_db(row.updated_at),
            question=self.cipher.decrypt(row.question_enc) or "",
            answer=self.cipher.decrypt(row.answer_enc) or "",
            refusal=self.cipher.decrypt(row.refusal_enc) or "",
            sheet=_sheet(sheet_raw) if sheet_raw else None,
        )


def _sheet_json(sheet: Sheet) -> str:
    return json.dumps(
        {
            "patient_name": sheet.patient_name,
            "birth_date": sheet.birth_date.isoformat() if sheet.birth_date else None,
            "clinic_name": sheet.clinic_name,
            "clinic_address": sheet.clinic_address,
            "issued_on": sheet.issued_on.isoformat(),
        },
        ensure_ascii=False,
    )


def _sheet(raw: str) -> Sheet:
    data = json.loads(raw)
    born = data.get("birth_date")
    return Sheet(
        patient_name=str(data["patient_name"]),
        birth_date=date.fromisoformat(born) if born else None,
        clinic_name=str(data["clinic_name"]),
        clinic_address=str(data.get("clinic_address", "")),
        issued_on=date.fromisoformat(data["issued_on"]),
    )
