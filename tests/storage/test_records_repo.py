"""FamilyRepository and RecordsRepository on SQLite and PostgreSQL: relatives and consent
requests round-trip encrypted; a visit's result, referral and history rows read back."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy import select

from domain.accounts import Profile
from domain.booking_ports import NewAppointment
from domain.models import AppointmentStatus, Sex
from domain.records import VisitResult
from storage.crypto import PersonalDataCipher
from storage.demo import seed_demo
from storage.schema import relative_requests, slots, visit_results
from storage.uow import UnitOfWorkFactory
from tests.conftest import NOW
from tests.storage.test_users_repo import make_user

CHILD = Profile(
    surname="Иванова",
    name="Мария",
    patronymic="Ивановна",
    birth_date=date(2017, 6, 15),
    sex=Sex.FEMALE,
    snils="157-384-920 01",
    policy="7700001234567895",
    email=None,
)


async def test_relatives_and_requests_round_trip(
    uow_factory: UnitOfWorkFactory, cipher: PersonalDataCipher
) -> None:
    await make_user(uow_factory)
    await make_user(uow_factory, 1002, snils="123-456-789 64")
    async with uow_factory() as uow:
        child = await uow.family.add_relative(1001, "child", CHILD, NOW)
        assert (child.full_name, child.relation, child.birth_date) == (
            "Иванова Мария Ивановна",
            "child",
            date(2017, 6, 15),
        )
        await uow.family.update_relative(child.id, replace(CHILD, name="Мариана"))
        request = await uow.family.add_request(1001, 1002, "spouse", CHILD, NOW)
        await uow.commit()
    async with uow_factory() as uow:
        patients = await uow.family.patients_of(1001)
        assert [p.name for p in patients if p.relation == "child"] == ["Мариана"]
        pending = await uow.family.pending_requests(1001)
        assert [(r.id, r.target_user_id, r.profile) for r in pending] == [(request.id, 1002, CHILD)]
        raw = (await uow.conn.execute(select(relative_requests.c.data_enc))).scalar()
        assert raw is not None and "Иванова" not in raw and "157-384" not in raw
        assert await uow.family.decide_request(request.id, "declined", None, NOW)
        assert not await uow.family.decide_request(request.id, "approved", None, NOW)
        assert await uow.family.remove_relative(child.id, NOW)
        assert not await uow.family.remove_relative(child.id, NOW)
        assert await uow.family.pending_requests(1001) == []
        assert [p.relation for p in await uow.family.patients_of(1001)] == ["self"]


async def test_results_referrals_and_history(
    uow_factory: UnitOfWorkFactory, cipher: PersonalDataCipher
) -> None:
    await seed_demo(uow_factory.engine, cipher, NOW)
    patient_id = await make_user(uow_factory)
    async with uow_factory() as uow:
        slot_id = (
            await uow.conn.execute(
                select(slots.c.id).where(slots.c.clinic_id == 1, slots.c.specialty_id == 1)
            )
        ).scalar()
        assert slot_id is not None
        context = await uow.appointments.slot_context(int(slot_id))
        assert context is not None
        appointment = await uow.appointments.insert(
            NewAppointment(
                patient_id=patient_id,
                user_id=1001,
                slot=context.slot,
                status=AppointmentStatus.PENDING,
                referral_id=None,
                created_at=NOW,
            )
        )
        result = VisitResult("Гипертония", "Контроль давления", "Лозартан")
        later = context.slot.start + timedelta(minutes=30)
        await uow.records.save_result(appointment.id, result, 9001, later)
        await uow.records.save_result(
            appointment.id, replace(result, prescriptions=""), 9001, later
        )
        referral = await uow.records.add_referral(
            patient_id=patient_id,
            specialty_id=9,
            clinic_id=None,
            doctor_id=appointment.doctor_id,
            source_appointment_id=appointment.id,
            issued_by_user_id=9001,
            issued_at=later,
            valid_until=later.date() + timedelta(days=30),
        )
        await uow.commit()
    async with uow_factory() as uow:
        raw = (await uow.conn.execute(select(visit_results.c.data_enc))).scalar()
        assert raw is not None and "Гипертония" not in raw
        [item] = await uow.records.history(1001)
        assert item.result == VisitResult("Гипертония", "Контроль давления", "")
        assert item.patient_name == "Петров Иван Сергеевич" and item.owner_user_id == 1001
        assert [v.referral.id for v in item.referrals] == [referral.id]
        assert (await uow.records.item(appointment.id)) == item
        assert await uow.records.history(1002) == []
        [view] = await uow.records.referrals_of(1001)
        assert (view.specialty_ru, view.referral.number) == ("Кардиолог", referral.number)
        assert view.doctor_name == item.doctor_name
        found = await uow.records.referral(referral.id)
        assert found is not None and found[1] == 1001
        start = item.appointment.start
        visits = await uow.records.clinic_visits((1,), start - timedelta(minutes=1), later)
        assert [v.appointment.id for v in visits] == [appointment.id]
        assert await uow.records.clinic_visits((2,), start - timedelta(minutes=1), later) == []
        assert len(await uow.records.specialties()) == 12
