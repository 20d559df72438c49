"""The patients of an account (self and relatives): decrypting, saving, the register.

Names, birth date, SNILS, policy and e-mail are stored encrypted (``*_enc``) with
keyed hashes for equality lookups (``*_hash``); this module is the one place that
turns those columns into a Patient and back, and checks a patient against the
attachment register (hash against hash). A mixin of storage/repos/users.py's
repository (storage/repos/family.py adds the relatives' own writes).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from domain.accounts import RegisterCheck
from domain.errors import Duplicate
from domain.models import Patient, Sex
from storage.memo import read_memo
from storage.prepared import prepared
from storage.repos.base import Repository, to_db
from storage.repos.user_sql import SELF
from storage.schema import attachments, meta, patients

# A live patient by id (the booking's ownership check): built once, not per call.
_LIVE_PATIENT = select(patients).where(
    patients.c.id == bindparam("patient_id"), patients.c.deleted_at.is_(None)
)


class PatientRecords(Repository):
    """Patients (a mixin of UserRepository)."""

    def _patient(self, row: Any) -> Patient:
        surname, name, patronymic = json.loads(self.cipher.decrypt(row.name_enc) or '["","",""]')
        born = self.cipher.decrypt(row.birth_date_enc)
        return Patient(
            id=row.id,
            owner_user_id=row.owner_user_id,
            relation=row.relation,
            surname=surname,
            name=name,
            patronymic=patronymic,
            birth_date=date.fromisoformat(born) if born else None,
            sex=Sex(row.sex) if row.sex else None,
            snils=self.cipher.decrypt(row.snils_enc),
            policy=self.cipher.decrypt(row.policy_enc),
            email=self.cipher.decrypt(row.email_enc),
            attached_clinic_id=row.attached_clinic_id,
            confirmed=row.confirmed,
        )

    def _patient_values(
        self,
        *,
        surname: str,
        name: str,
        patronymic: str,
        birth_date: date | None,
        sex: Sex | None,
        snils: str | None,
        policy: str | None,
        email: str | None,
    ) -> dict[str, Any]:
        full_name = json.dumps([surname, name, patronymic], ensure_ascii=False)
        return {
            "name_enc": self.cipher.encrypt(full_name),
            "birth_date_enc": self.cipher.encrypt(birth_date.isoformat() if birth_date else None),
            "sex": sex.value if sex else None,
            "snils_enc": self.cipher.encrypt(snils),
            "snils_hash": self.cipher.lookup_hash(snils),
            "policy_enc": self.cipher.encrypt(policy),
            "policy_hash": self.cipher.lookup_hash(policy),
            "email_enc": self.cipher.encrypt(email),
        }

    def _memo_patients(self, user_id: int) -> list[Patient] | None:
        """The user's live patients from this unit of work's read memo, if it has them."""
        memo = read_memo(self.conn)
        if memo is None:
            return None
        decoded: list[Patient] | None = memo.get(("patients_of", user_id))
        if decoded is None and ("patient_rows", user_id) in memo:
            decoded = [self._patient(r) for r in memo[("patient_rows", user_id)]]
            memo[("patients_of", user_id)] = decoded
        return decoded

    async def patient(self, patient_id: int) -> Patient | None:
        memo = read_memo(self.conn)
        for key in list(memo or ()):
            if key[0] in ("patient_rows", "patients_of"):
                for known in self._memo_patients(key[1]) or ():
                    if known.id == patient_id:
                        return known
        rows = await prepared(_LIVE_PATIENT).records(self.conn, {"patient_id": patient_id})
        return self._patient(rows[0]) if rows else None

    async def patients_of(self, user_id: int) -> list[Patient]:
        """Self first, then relatives in the order they were added."""
        known = self._memo_patients(user_id)
        if known is not None:
            return list(known)
        rows = await self.conn.execute(
            select(patients)
            .where(patients.c.owner_user_id == user_id, patients.c.deleted_at.is_(None))
            .order_by((patients.c.relation != SELF), patients.c.id)
        )
        return [self._patient(r) for r in rows]

    async def self_patient(self, user_id: int) -> Patient | None:
        known = self._memo_patients(user_id)
        if known is not None:
            return next((p for p in known if p.relation == SELF), None)
        row = (
            await self.conn.execute(
                select(patients).where(
                    patients.c.owner_user_id == user_id,
                    patients.c.relation == SELF,
                    patients.c.deleted_at.is_(None),
                )
            )
        ).first()
        return None if row is None else self._patient(row)

    async def patients_with_snils(self, snils: str) -> list[Patient]:
        """Every live patient row with this SNILS (any account, self or relative)."""
        rows = await self.conn.execute(
            select(patients).where(
                patients.c.snils_hash == self.cipher.lookup_hash(snils),
                patients.c.deleted_at.is_(None),
            )
        )
        return [self._patient(r) for r in rows]

    async def save_self_patient(
        self,
        user_id: int,
        *,
        surname: str,
        name: str,
        patronymic: str,
        birth_date: date | None,
        sex: Sex | None,
        snils: str | None,
        policy: str | None,
        email: str | None,
        now: datetime,
    ) -> Patient:
        """Insert or overwrite the account holder's own patient record.

        Raises Duplicate when the SNILS is already the self patient of another account.
        """
        if snils is not None:
            for other in await self.patients_with_snils(snils):
                if other.relation == SELF and other.owner_user_id != user_id:
                    raise Duplicate("snils")
        values = self._patient_values(
            surname=surname,
            name=name,
            patronymic=patronymic,
            birth_date=birth_date,
            sex=sex,
            snils=snils,
            policy=policy,
            email=email,
        )
        existing = await self.self_patient(user_id)
        if existing is None:
            result = await self.conn.execute(
                insert(patients).values(
                    owner_user_id=user_id, relation=SELF, created_at=to_db(now), **values
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            patient_id = int(key[0])
        else:
            patient_id = existing.id
            await self.conn.execute(
                update(patients).where(patients.c.id == patient_id).values(**values)
            )
        saved = await self.patient(patient_id)
        assert saved is not None
        return saved

    async def set_confirmation(
        self, patient_id: int, *, confirmed: bool, clinic_id: int | None
    ) -> None:
        await self.conn.execute(
            update(patients)
            .where(patients.c.id == patient_id)
            .values(confirmed=confirmed, attached_clinic_id=clinic_id)
        )

    async def register_check(self, patient: Patient) -> RegisterCheck | None:
        """The register's entry for the patient's SNILS + policy, compared field by field
        with the patient (hash against hash: the register holds no plaintext)."""
        row = (
            await self.conn.execute(
                select(attachments).where(
                    attachments.c.snils_hash == self.cipher.lookup_hash(patient.snils),
                    attachments.c.policy_hash == self.cipher.lookup_hash(patient.policy),
                )
            )
        ).first()
        if row is None or row.name_hash is None:
            return None  # not listed, or a register row loaded before 0002 (no person data)
        c = self.cipher
        born = patient.birth_date.isoformat() if patient.birth_date else ""
        sex = patient.sex.value if patient.sex else ""
        return RegisterCheck(
            clinic_id=int(row.clinic_id),
            name_ok=row.name_hash == c.name_hash(patient.surname, patient.name, patient.patronymic),
            birth_date_ok=row.birth_date_hash == c.tagged_hash("birth", born),
            sex_ok=row.sex_hash == c.tagged_hash("sex", sex),
        )

    # Failed register matches per SNILS (keyed by its lookup hash, never the number),
    # kept in ``meta`` as a list of ISO instants within the window.
    def _miss_key(self, snils: str) -> str:
        return "regmiss:" + (self.cipher.lookup_hash(snils) or "")[:40]

    async def _misses(self, key: str) -> list[datetime]:
        value = (await self.conn.execute(select(meta.c.value).where(meta.c.key == key))).scalar()
        return [datetime.fromisoformat(x) for x in json.loads(value)] if value else []

    async def register_misses(self, snils: str, since: datetime) -> int:
        return sum(1 for at in await self._misses(self._miss_key(snils)) if at >= since)

    async def add_register_miss(self, snils: str, now: datetime) -> None:
        key = self._miss_key(snils)
        recent = [at for at in await self._misses(key) if at > now - timedelta(days=1)]
        value = json.dumps([at.isoformat() for at in [*recent, now]])
        await self.conn.execute(delete(meta).where(meta.c.key == key))
        await self.conn.execute(insert(meta).values(key=key, value=value))
