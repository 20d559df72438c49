"""A tiny directory + patients + appointments written straight with SQL, for notifier tests.

Independent of the booking services on purpose: the notifier's tests must
say whether *delivery* works, whatever state the booking code is in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.notifications import OutboxItem
from emulator.core import EmulatorCore
from storage.repos.base import to_db
from storage.schema import (
    appointments,
    clinics,
    doctor_roles,
    doctors,
    outbox,
    patients,
    regions,
    slots,
    specialties,
    users,
)
from tests.storage.builders import sealed_person

TZ = "Europe/Moscow"


@dataclass
class World:
    engine: AsyncEngine
    now: datetime
    next_slot: int = 1
    next_appt: int = 1

    async def base(self) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(regions).values(id="77", name_ru="Москва", name_en="Moscow", tz=TZ)
            )
            await conn.execute(
                insert(clinics).values(
                    id=1, region_id="77", name="ГП №1", address="ул. Ленина, 1", tz=TZ
                )
            )
            await conn.execute(
                insert(specialties).values(
                    id=1,
                    code="therapist",
                    name_ru="Терапевт",
                    name_en="Therapist",
                    prep_ru="Натощак",
                    prep_en="On an empty stomach",
                )
            )
            await conn.execute(
                insert(doctors).values(id=1, surname="Петрова", name="Анна", patronymic="Сергеевна")
            )
            await conn.execute(
                insert(doctor_roles).values(id=1, doctor_id=1, clinic_id=1, specialty_id=1)
            )

    async def user(self, user_id: int, locale: str = "ru", optout: str = "") -> int:
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(users).values(
                    id=user_id,
                    created_at=to_db(self.now),
                    locale=locale,
                    level="standard",
                    notify_optout=optout,
                )
            )
            await conn.execute(
                insert(patients).values(
                    id=user_id,
                    owner_user_id=user_id,
                    relation="self",
                    **sealed_person("Иванов", "Иван", date(1980, 1, 1)),
                    sex="M",
                    created_at=to_db(self.now),
                )
            )
        return user_id

    async def slot(self, start: datetime, status: str = "free") -> int:
        sid = self.next_slot
        self.next_slot += 1
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(slots).values(
                    id=sid,
                    role_id=1,
                    doctor_id=1,
                    clinic_id=1,
                    specialty_id=1,
                    region_id="77",
                    start_utc=to_db(start),
                    minutes=20,
                    status=status,
                )
            )
        return sid

    async def appointment(
        self, user_id: int, start: datetime, status: str = "pending", reason: str | None = None
    ) -> int:
        slot_id = await self.slot(start, "booked")
        aid = self.next_appt
        self.next_appt += 1
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(appointments).values(
                    id=aid,
                    number=f"A-{aid:06d}",
                    patient_id=user_id,
                    user_id=user_id,
                    slot_id=slot_id,
                    doctor_id=1,
                    clinic_id=1,
                    specialty_id=1,
                    start_utc=to_db(start),
                    minutes=20,
                    status=status,
                    cancelled_by="clinic" if status == "cancelled" else None,
                    cancel_reason=reason,
                    created_at=to_db(self.now),
                    updated_at=to_db(self.now),
                )
            )
        return aid

    async def outbox(self, items: list[OutboxItem]) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(outbox),
                [
                    {
                        "kind": i.kind,
                        "user_id": i.user_id,
                        "due_at": to_db(i.due_at),
                        "payload": __import__("json").dumps(i.payload),
                        "idem_key": i.idem_key,
                        "urgent": i.urgent,
                        "created_at": to_db(self.now),
                    }
                    for i in items
                ],
            )


async def make_world(engine: AsyncEngine, now: datetime) -> World:
    world = World(engine, now)
    await world.base()
    return world


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


async def bulk_booked(
    engine: AsyncEngine, now: datetime, n: int, first_user: int = 100_000
) -> None:
    """``n`` users, each with one appointment and one due «booked» outbox row (fast executemany).

    Appointment numbers are ``A-<n>`` so a test can count deliveries per row
    from the message texts.
    """
    when = to_db(now)
    start = to_db(now + timedelta(days=3))
    uids = [first_user + i for i in range(n)]
    async with engine.begin() as conn:
        await conn.execute(
            insert(users),
            [{"id": u, "created_at": when, "locale": "ru", "level": "standard"} for u in uids],
        )
        await conn.execute(
            insert(patients),
            [
                {
                    "id": u,
                    "owner_user_id": u,
                    "relation": "self",
                    **sealed_person("Иванов", "Иван"),
                    "created_at": when,
                }
                for u in uids
            ],
        )
        await conn.execute(
            insert(slots),
            [
                {
                    "id": 1_000_000 + i,
                    "role_id": 1,
                    "doctor_id": 1,
                    "clinic_id": 1,
                    "specialty_id": 1,
                    "region_id": "77",
                    "start_utc": start,
                    "minutes": 20,
                    "status": "booked",
                }
                for i in range(n)
            ],
        )
        await conn.execute(
            insert(appointments),
            [
                {
                    "id": 1_000_000 + i,
                    "number": f"A-{i}",
                    "patient_id": u,
                    "user_id": u,
                    "slot_id": 1_000_000 + i,
                    "doctor_id": 1,
                    "clinic_id": 1,
                    "specialty_id": 1,
                    "start_utc": start,
                    "minutes": 20,
                    "status": "pending",
                    "created_at": when,
                    "updated_at": when,
                }
                for i, u in enumerate(uids)
            ],
        )
        await conn.execute(
            insert(outbox),
            [
                {
                    "kind": "booked",
                    "user_id": u,
                    "due_at": when,
                    "payload": f'{{"appointment_id": {1_000_000 + i}}}',
                    "idem_key": f"appt:{1_000_000 + i}:booked",
                    "created_at": when,
                }
                for i, u in enumerate(uids)
            ],
        )


def sent_files(core: EmulatorCore, chat_id: int) -> list[tuple[str, bytes]]:
    """(filename, bytes) of every document the bot sent to the chat, oldest first."""
    chat = core.chats.get(chat_id)
    found = []
    for stored in chat.messages.values() if chat else []:
        doc = stored.message.get("document")
        if doc:
            known = core.files.get(str(doc["file_id"]))
            assert known is not None
            found.append((known.filename, known.data))
    return found
