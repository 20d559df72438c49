"""Refusals worded once (flows/refusals.py): a refusal that names the specialty and the
patient gets them from the exception, set by the service that had the objects."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.i18n import build_i18n
from domain import booking
from domain.errors import DomainError, ReferralRequired
from flows.booking_common import refusal_text as booking_alias
from flows.refusals import refusal_text
from storage.crypto import PersonalDataCipher
from storage.uow import UnitOfWorkFactory
from tests.storage.builders import CARDIOLOGIST, NOW, World


async def test_referral_refusal_names_specialty_and_patient(
    sqlite_engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    world = await World.build(sqlite_engine, n_slots=2, n_users=1)
    user = world.user_ids[0]
    async with UnitOfWorkFactory(sqlite_engine, cipher)() as uow:
        with pytest.raises(ReferralRequired) as caught:
            await booking.book(
                uow,
                NOW,
                user,
                world.patient_of(user),
                world.slots(CARDIOLOGIST)[0],
                booking.BookingPolicy(),
            )
    error = caught.value
    assert error.specialty is not None and error.specialty.id == CARDIOLOGIST
    assert error.patient is not None and error.patient.id == world.patient_of(user)
    i18n = build_i18n("ru")
    with i18n.context(), i18n.use_locale("en"):
        text = refusal_text(error)
        assert text.startswith("Cardiologist sees patients only with a referral")
        assert error.patient.full_name in text
        # The booking screens' alias words it the same way.
        assert booking_alias(error, None, None) == text
        # An unknown refusal: the router's last resort, the booking screens' own.
        assert refusal_text(DomainError()) != booking_alias(DomainError(), None, None)
