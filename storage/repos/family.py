"""Relatives and consent requests («Мои близкие»); personal data encrypted at rest.

A relative is a ``patients`` row with ``relation`` other than self, written the
way storage/repos/users.py writes the holder's own (names, birth date, SNILS,
policy as Fernet ciphertext, SNILS and policy lookups by keyed hash). A consent
request keeps the typed profile as one encrypted JSON until the asked account
decides; only then is the patient row created.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, update

from domain.accounts import Profile
from domain.family import ConsentRequest, RequestStatus
from domain.models import Patient, Sex
from storage.repos.base import from_db, to_db
from storage.repos.users import UserRepository
from storage.schema import patients, relative_requests


class FamilyRepository(UserRepository):
    async def add_relative(
        self, owner_user_id: int, relation: str, profile: Profile, now: datetime
    ) -> Patient:
        values = self._patient_values(
            surname=profile.surname,
            name=profile.name,
            patronymic=profile.patronymic,
            birth_date=profile.birth_date,
            sex=profile.sex,
            snils=profile.snils,
            policy=profile.policy,
            email=None,
        )
        result = await self.conn.execute(
            insert(patients).values(
                owner_user_id=owner_user_id, relation=relation, created_at=to_db(now), **values
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        saved = await self.patient(int(key[0]))
        assert saved is not None
        return saved

    async def remove_relative(self, patient_id: int, now: datetime) -> bool:
        """Soft delete: the row stays under the clinic's kept appointment records."""
        result = await self.conn.execute(
            update(patients)
            .where(
                patients.c.id == patient_id,
                patients.c.relation != "self",
                patients.c.deleted_at.is_(None),
            )
            .values(deleted_at=to_db(now))
        )
        return int(result.rowcount) == 1

    async def update_relative(self, patient_id: int, profile: Profile) -> None:
        values = self._patient_values(
            surname=profile.surname,
            name=profile.name,
            patronymic=profile.patronymic,
            birth_date=profile.birth_date,
            sex=profile.sex,
            snils=profile.snils,
            policy=profile.policy,
            email=None,
        )
        await self.conn.execute(
            update(patients)
            .where(patients.c.id == patient_id, patients.c.relation != "self")
            .values(**values)
        )

    # --- consent requests ----------------------------------------------------

    def _profile_json(self, profile: Profile) -> str:
        return json.dumps(
            {
                "surname": profile.surname,
                "name": profile.name,
                "patronymic": profile.patronymic,
                "birth_date": profile.birth_date.isoformat(),
                "sex": profile.sex.value,
                "snils": profile.snils,
                "policy": profile.policy,
            },
            ensure_ascii=False,
        )

    def _request(self, row: Any) -> ConsentRequest:
        data = json.loads(self.cipher.decrypt(row.data_enc) or "{}")
        profile = Profile(
            surname=data["surname"],
            name=data["name"],
            patronymic=data["patronymic"],
            birth_date=date.fromisoformat(data["birth_date"]),
            sex=Sex(data["sex"]),
            snils=data["snils"],
            policy=data["policy"],
            email=None,
        )
        return ConsentRequest(
            id=row.id,
            owner_user_id=row.owner_user_id,
            target_user_id=row.target_user_id,
            relation=row.relation,
            profile=profile,
            status=row.status,
            created_at=from_db(row.created_at),
            patient_id=row.patient_id,
        )

    async def add_request(
        self,
        owner_user_id: int,
        target_user_id: int,
        relation: str,
        profile: Profile,
        now: datetime,
    ) -> ConsentRequest:
        result = await self.conn.execute(
            insert(relative_requests).values(
                owner_user_id=owner_user_id,
                target_user_id=target_user_id,
                relation=relation,
                data_enc=self.cipher.encrypt(self._profile_json(profile)),
                snils_hash=self.cipher.lookup_hash(profile.snils),
                status=RequestStatus.PENDING,
                created_at=to_db(now),
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        saved = await self.request(int(key[0]))
        assert saved is not None
        return saved

    async def request(self, request_id: int) -> ConsentRequest | None:
        row = (
            await self.conn.execute(
                select(relative_requests).where(relative_requests.c.id == request_id)
            )
        ).first()
        return None if row is None else self._request(row)

    async def pending_requests(self, owner_user_id: int) -> list[ConsentRequest]:
        rows = await self.conn.execute(
            select(relative_requests)
            .where(
                relative_requests.c.owner_user_id == owner_user_id,
                relative_requests.c.status == RequestStatus.PENDING,
            )
            .order_by(relative_requests.c.id)
        )
        return [self._request(r) for r in rows]

    async def decide_request(
        self, request_id: int, status: str, patient_id: int | None, now: datetime
    ) -> bool:
        result = await self.conn.execute(
            update(relative_requests)
            .where(
                relative_requests.c.id == request_id,
                relative_requests.c.status == RequestStatus.PENDING,
            )
            .values(status=status, patient_id=patient_id, decided_at=to_db(now))
        )
        return int(result.rowcount) == 1
