"""«Направления»: the referrals of the user and their relatives, and booking with one.

Each shows its specialty, the doctor who issued it, validity, status (active,
used, expired) and the legal waiting time — a specialist within 14 working days
of issue under the state guarantee programme (domain/records.py). When that
time is nearly out the patient is told what they can do. «Записаться» opens the
booking dialogue at that specialty for that patient; booking a referral-only
specialty uses the referral (domain/booking_take.py spends it).
"""

from __future__ import annotations

from datetime import datetime

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain import records
from domain.errors import Stale
from domain.models import User
from domain.records import ReferralView, RefStatus
from flows.booking import BookingStates
from flows.booking_common import show
from flows.booking_draft import DRAFT_KEY, BookingDraft
from flows.guards import Registered
from flows.history_text import ref_status_label
from flows.ui.callbacks import BkSpec
from flows.ui.format import current_locale
from flows.ui.i18n import gettext as _
from flows.ui.records_callbacks import HiList, RfList
from flows.ui.safe_callback import SafeCallback

router = Router(name="referrals")


class RfBook(SafeCallback, prefix="rfb"):
    referral_id: int


def _name(view: ReferralView) -> str:
    return view.specialty_en if current_locale() == "en" else view.specialty_ru


def referral_block(view: ReferralView, today: datetime) -> str:
    r = view.referral
    day = today.date()
    status = records.referral_status(r, day)
    lines = [
        _("№ {number} — {specialty}").format(number=r.number, specialty=_name(view)),
        _("Patient: {name}").format(name=view.patient_name),
        _("Issued by: {doctor}, {day}").format(
            doctor=view.doctor_name or "—", day=r.issued_at.strftime("%d.%m.%Y")
        ),
        _("Valid until: {day}").format(day=r.valid_until.strftime("%d.%m.%Y")),
        _("Status: {status}").format(status=ref_status_label(status)),
    ]
    if status == RefStatus.ACTIVE:
        deadline = records.legal_deadline(r.issued_at.date())
        lines.append(
            _("Legal waiting time: a visit by {day} (14 working days from issue).").format(
                day=deadline.strftime("%d.%m.%Y")
            )
        )
        if records.wait_warning(r, day):
            lines.append(
                _(
                    "The legal waiting time is nearly over. If no time is free by then: join "
                    "the wait list, choose another clinic, or complain to your insurance "
                    "company (its phone is on the OMS policy)."
                )
            )
    return "\n".join(lines)


@router.callback_query(RfList.filter(), Registered())
async def on_referrals(
    query: CallbackQuery, user: User, uow: records.RecordsUoW, now: datetime
) -> None:
    views = await uow.records.referrals_of(user.id)
    builder = InlineKeyboardBuilder()
    if not views:
        text = _("You have no referrals. A doctor issues them after a visit.")
    else:
        text = "\n\n".join([_("Referrals:"), *(referral_block(v, now) for v in views[:10])])
        for view in views[:10]:
            if records.referral_status(view.referral, now.date()) == RefStatus.ACTIVE:
                surname = view.patient_name.split(" ")[0]
                builder.button(
                    text=_("Book: {specialty} ({patient})").format(
                        specialty=_name(view), patient=surname
                    )[:60],
                    callback_data=RfBook(referral_id=view.referral.id),
                )
    builder.button(text=_("Visit history"), callback_data=HiList(page=0))
    builder.adjust(1)
    await show(query, text, builder.as_markup())


@router.callback_query(RfBook.filter(), Registered())
async def on_book(
    query: CallbackQuery,
    callback_data: RfBook,
    user: User,
    uow: records.RecordsUoW,
    now: datetime,
    state: FSMContext,
) -> None:
    view = await records.owned_referral(uow, user.id, callback_data.referral_id)
    if records.referral_status(view.referral, now.date()) != RefStatus.ACTIVE:
        raise Stale
    # The booking wizard at its specialty step for this patient (flows/booking_draft.py);
    # the button below is the wizard's own specialty button.
    patients = await uow.appointments.patient_ids_of(user.id)
    draft = BookingDraft(multi=len(patients) > 1).at(
        "specialty", patient_id=view.referral.patient_id
    )
    await state.set_state(BookingStates.specialty)
    await state.update_data({DRAFT_KEY: draft.dump()})
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("Choose a clinic and time"),
        callback_data=BkSpec(specialty_id=view.referral.specialty_id),
    )
    builder.adjust(1)
    await show(
        query,
        _(
            "Referral № {number}: {specialty} for {patient}. The referral is applied when you book."
        ).format(number=view.referral.number, specialty=_name(view), patient=view.patient_name),
        builder.as_markup(),
    )
