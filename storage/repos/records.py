"""Visit results, history rows and referrals (issue 9); results encrypted at rest.

A visit's conclusion, recommendations and prescriptions are medical data: they
are stored as one Fernet-encrypted JSON (``visit_results.data_enc``). History
rows join the appointment with its patient (decrypted name), doctor, clinic and
specialty; an account sees its own patients' visits, relatives removed since
included (the visits happened).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, insert, select, update

from domain.models import Referral, Specialty
from domain.records import HistoryItem, ReferralView, VisitResult
from storage.repos.appointment_rows import _appointment
from storage.repos.base import Repository, from_db, to_db
from storage.schema import (
    appointments,
    clinics,
    doctors,
    patients,
    referrals,
    specialties,
    visit_results,
)


def _full(*parts: str | None) -> str:
    return " ".join(p for p in parts if p)


class RecordsRepository(Repository):
    def _name(self, name_enc: str | None) -> str:
        surname, name, patronymic = json.loads(self.cipher.decrypt(name_enc) or '["","",""]')
        return _full(surname, name, patronymic)

    def _visits(self) -> Select[Any]:
        a, p, d, c, s = appointments, patients, doctors, clinics, specialties
        return select(
            a,
            p.c.owner_user_id.label("owner_user_id"),
            p.c.relation.label("relation"),
            p.c.name_enc.label("patient_name_enc"),
            d.c.surname.label("d_surname"),
            d.c.name.label("d_name"),
            d.c.patronymic.label("d_patronymic"),
            c.c.name.label("clinic_name"),
            c.c.tz.label("clinic_tz"),
            s.c.name_ru.label("spec_ru"),
            s.c.name_en.label("spec_en"),
        ).select_from(
            a.join(p, p.c.id == a.c.patient_id)
            .join(d, d.c.id == a.c.doctor_id)
            .join(c, c.c.id == a.c.clinic_id)
            .join(s, s.c.id == a.c.specialty_id)
        )

    async def _items(self, query: Select[Any]) -> list[HistoryItem]:
        rows = list(await self.conn.execute(query))
        ids = [r.id for r in rows]
        results = await self._results(ids)
        refs = await self._referrals(referrals.c.source_appointment_id.in_(ids)) if ids else []
        by_visit: dict[int, list[ReferralView]] = {}
        for view, _owner in refs:
            source = view.referral_source
            by_visit.setdefault(source, []).append(view.view)
        return [
            HistoryItem(
                appointment=_appointment(r),
                owner_user_id=r.owner_user_id,
                patient_name=self._name(r.patient_name_enc),
                relation=r.relation,
                specialty_ru=r.spec_ru,
                specialty_en=r.spec_en,
                doctor_name=_full(r.d_surname, r.d_name, r.d_patronymic),
                clinic_name=r.clinic_name,
                clinic_tz=r.clinic_tz,
                result=results.get(r.id),
                referrals=tuple(by_visit.get(r.id, ())),
            )
            for r in rows
        ]

    async def _results(self, ids: list[int]) -> dict[int, VisitResult]:
        if not ids:
            return {}
        rows = await self.conn.execute(
            select(visit_results).where(visit_results.c.appointment_id.in_(ids))
        )
        found: dict[int, VisitResult] = {}
        for r in rows:
            data = json.loads(self.cipher.decrypt(r.data_enc) or "{}") if r.data_enc else {}
            found[r.appointment_id] = VisitResult(
                conclusion=data.get("conclusion", r.conclusion or ""),
                recommendations=data.get("recommendations", ""),
                prescriptions=data.get("prescriptions", r.prescriptions or ""),
            )
        return found

    async def history(self, user_id: int) -> list[HistoryItem]:
        return await self._items(
            self._visits()
            .where(patients.c.owner_user_id == user_id)
            .order_by(appointments.c.start_utc.desc(), appointments.c.id.desc())
        )

    async def item(self, appointment_id: int) -> HistoryItem | None:
        found = await self._items(self._visits().where(appointments.c.id == appointment_id))
        return found[0] if found else None

    async def clinic_visits(
        self, clinic_ids: Sequence[int], after: datetime, before: datetime
    ) -> list[HistoryItem]:
        """Visits of the clinics that started in (after, before]: active or completed."""
        return await self._items(
            self._visits()
            .where(
                appointments.c.clinic_id.in_(list(clinic_ids)),
                appointments.c.status.in_(("pending", "confirmed", "completed")),
                appointments.c.start_utc > to_db(after),
                appointments.c.start_utc <= to_db(before),
            )
            .order_by(appointments.c.start_utc.desc(), appointments.c.id.desc())
            .limit(30)
        )

    async def save_result(
        self, appointment_id: int, result: VisitResult, staff_user_id: int, now: datetime
    ) -> None:
        data = json.dumps(
            {
                "conclusion": result.conclusion,
                "recommendations": result.recommendations,
                "prescriptions": result.prescriptions,
            },
            ensure_ascii=False,
        )
        values = {
            "data_enc": self.cipher.encrypt(data),
            "conclusion": "",
            "prescriptions": "",
            "created_at": to_db(now),
            "staff_user_id": staff_user_id,
        }
        changed = await self.conn.execute(
            update(visit_results)
            .where(visit_results.c.appointment_id == appointment_id)
            .values(**values)
        )
        if changed.rowcount == 0:
            await self.conn.execute(
                insert(visit_results).values(appointment_id=appointment_id, **values)
            )

    async def add_referral(
        self,
        *,
        patient_id: int,
        specialty_id: int,
        clinic_id: int | None,
        doctor_id: int,
        source_appointment_id: int,
        issued_by_user_id: int,
        issued_at: datetime,
        valid_until: date,
    ) -> Referral:
        number = f"N-{source_appointment_id:07d}-{specialty_id}"
        result = await self.conn.execute(
            insert(referrals).values(
                number=number,
                patient_id=patient_id,
                specialty_id=specialty_id,
                clinic_id=clinic_id,
                issued_at=to_db(issued_at),
                valid_until=valid_until,
                issued_by_user_id=issued_by_user_id,
                source_appointment_id=source_appointment_id,
                doctor_id=doctor_id,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        found = await self.referral(int(key[0]))
        assert found is not None
        return found[0].referral

    # --- referrals -----------------------------------------------------------

    async def _referrals(self, *cond: Any) -> list[tuple[_SourcedView, int]]:
        r, p, s, d = referrals, patients, specialties, doctors
        rows = await self.conn.execute(
            select(
                r,
                p.c.owner_user_id.label("owner_user_id"),
                p.c.name_enc.label("patient_name_enc"),
                s.c.name_ru.label("spec_ru"),
                s.c.name_en.label("spec_en"),
                s.c.referral_required.label("referral_required"),
                d.c.surname.label("d_surname"),
                d.c.name.label("d_name"),
                d.c.patronymic.label("d_patronymic"),
            )
            .select_from(
                r.join(p, p.c.id == r.c.patient_id)
                .join(s, s.c.id == r.c.specialty_id)
                .outerjoin(d, d.c.id == r.c.doctor_id)
            )
            .where(*cond)
            .order_by(r.c.issued_at.desc(), r.c.id.desc())
        )
        out: list[tuple[_SourcedView, int]] = []
        for row in rows:
            referral = Referral(
                id=row.id,
                number=row.number,
                patient_id=row.patient_id,
                specialty_id=row.specialty_id,
                clinic_id=row.clinic_id,
                issued_at=from_db(row.issued_at),
                valid_until=row.valid_until,
                used_appointment_id=row.used_appointment_id,
            )
            view = ReferralView(
                referral=referral,
                patient_name=self._name(row.patient_name_enc),
                specialty_ru=row.spec_ru,
                specialty_en=row.spec_en,
                doctor_name=_full(row.d_surname, row.d_name, row.d_patronymic),
                referral_required=bool(row.referral_required),
            )
            out.append((_SourcedView(view, row.source_appointment_id or 0), row.owner_user_id))
        return out

    async def referrals_of(self, user_id: int) -> list[ReferralView]:
        return [
            v.view
            for v, _o in await self._referrals(
                patients.c.owner_user_id == user_id, patients.c.deleted_at.is_(None)
            )
        ]

    async def referral(self, referral_id: int) -> tuple[ReferralView, int] | None:
        found = await self._referrals(referrals.c.id == referral_id)
        return (found[0][0].view, found[0][1]) if found else None

    async def specialties(self) -> list[Specialty]:
        rows = await self.conn.execute(select(specialties).order_by(specialties.c.id))
        return [
            Specialty(
                id=r.id,
                code=r.code,
                name_ru=r.name_ru,
                name_en=r.name_en,
                referral_required=r.referral_required,
                min_age=r.min_age,
                max_age=r.max_age,
                sex=None,
                prep_ru=r.prep_ru,
                prep_en=r.prep_en,
            )
            for r in rows
        ]


class _SourcedView:
    """A referral view with the visit that issued it (to attach it to that visit)."""

    __slots__ = ("referral_source", "view")

    def __init__(self, view: ReferralView, source: int) -> None:
        self.view = view
        self.referral_source = source
