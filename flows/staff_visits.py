"""/staff «Результаты приёма»: close a visit with its result and, if needed, a referral.

A registrar or doctor picks a visit of their clinics from the last week (one
that has started: active or already completed), types the conclusion,
recommendations and prescriptions («-» for none), chooses whether to issue a
referral (a specialty, then how long it is valid) and saves: the visit becomes
completed, the result is stored encrypted, the patient is told «Результаты
приёма готовы» (domain/records.py ``complete_visit``). Typed texts wait in the
FSM data encrypted. Every id from a button is re-checked against the staff
member's clinics; another clinic's visit is a stale button.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, Protocol

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain import records
from domain.errors import Stale, ValidationFailed
from domain.models import StaffMember
from domain.records import HistoryItem, VisitResult
from flows.booking_common import show
from flows.guards import Staff
from flows.staff_common import StMenu
from flows.ui.format import current_locale, fmt_short_day, fmt_time, local
from flows.ui.i18n import gettext as _
from flows.ui.menu import not_navigation
from flows.ui.safe_callback import SafeCallback

router = Router(name="staff_visits")

LOOK_BACK = timedelta(days=7)
EMPTY = {"-", "—", "–", "нет", "none", "no"}


class Cipher(Protocol):
    def encrypt(self, value: str | None) -> str | None: ...
    def decrypt(self, token: str | None) -> str | None: ...


class SvList(SafeCallback, prefix="svl"):
    pass


class SvOpen(SafeCallback, prefix="svo"):
    appointment_id: int


class SvRef(SafeCallback, prefix="svr"):
    specialty_id: int  # 0 = no referral


class SvValid(SafeCallback, prefix="svv"):
    days: int


class SvSave(SafeCallback, prefix="svs"):
    appointment_id: int


class StaffResult(StatesGroup):
    conclusion = State()
    recommendations = State()
    prescriptions = State()
    referral = State()
    validity = State()
    confirm = State()


def _label(item: HistoryItem) -> str:
    a = item.appointment
    when = f"{fmt_short_day(local(a.start, item.clinic_tz).date())} {fmt_time(a.start, item.clinic_tz)}"
    done = " ✓" if item.result is not None else ""
    return f"{when} · {item.doctor_name.split(' ')[0]} · № {a.number}{done}"


async def _visit(uow: records.RecordsUoW, staff: StaffMember, appointment_id: int) -> HistoryItem:
    item = await uow.records.item(appointment_id)
    if item is None or not staff.covers(item.appointment.clinic_id):
        raise Stale
    return item


async def _texts(state: FSMContext, cipher: Cipher) -> dict[str, Any]:
    token = (await state.get_data()).get("sv_text")
    loaded: dict[str, Any] = json.loads(cipher.decrypt(token) or "{}") if token else {}
    return loaded


async def _put(state: FSMContext, cipher: Cipher, **values: str) -> None:
    texts = await _texts(state, cipher) | values
    await state.update_data(sv_text=cipher.encrypt(json.dumps(texts, ensure_ascii=False)))


@router.callback_query(SvList.filter(), Staff())
async def on_list(
    query: CallbackQuery,
    staff: StaffMember,
    uow: records.RecordsUoW,
    now: datetime,
    state: FSMContext,
) -> None:
    await state.clear()
    visits = await uow.records.clinic_visits(staff.clinics, now - LOOK_BACK, now)
    builder = InlineKeyboardBuilder()
    for item in visits:
        builder.button(text=_label(item), callback_data=SvOpen(appointment_id=item.appointment.id))
    builder.button(text=_("Back"), callback_data=StMenu(to="home"))
    builder.adjust(1)
    text = (
        _("Which visit's results? Visits of the last 7 days; ✓ — results written.")
        if visits
        else _("No visits of the last 7 days to write results for.")
    )
    await show(query, text, builder.as_markup())


@router.callback_query(SvOpen.filter(), Staff())
async def on_open(
    query: CallbackQuery,
    callback_data: SvOpen,
    staff: StaffMember,
    uow: records.RecordsUoW,
    state: FSMContext,
) -> None:
    item = await _visit(uow, staff, callback_data.appointment_id)
    await state.clear()
    await state.set_state(StaffResult.conclusion)
    await state.update_data(sv_a=item.appointment.id)
    await show(
        query,
        _("Visit № {number}, {specialty} — {doctor}. Type the conclusion (diagnosis).").format(
            number=item.appointment.number,
            specialty=item.specialty(current_locale()),
            doctor=item.doctor_name,
        ),
    )


_TEXT = (not_navigation, F.text)


async def _take(message: Message, field: str, *, required: bool) -> str | None:
    raw = (message.text or "").strip()
    if not required and raw.lower() in EMPTY:
        return ""
    try:
        return records.clean_text(raw, field, required=required)
    except ValidationFailed:
        await message.answer(
            _("Please type it as text, up to 2000 characters («-» if there is nothing).")
        )
        return None


@router.message(StateFilter(StaffResult.conclusion), *_TEXT, Staff())
async def on_conclusion(message: Message, state: FSMContext, cipher: Cipher) -> None:
    value = await _take(message, "conclusion", required=True)
    if value is None:
        return
    await _put(state, cipher, conclusion=value)
    await state.set_state(StaffResult.recommendations)
    await message.answer(_("Type the recommendations («-» if none)."))


@router.message(StateFilter(StaffResult.recommendations), *_TEXT, Staff())
async def on_recommendations(message: Message, state: FSMContext, cipher: Cipher) -> None:
    value = await _take(message, "recommendations", required=False)
    if value is None:
        return
    await _put(state, cipher, recommendations=value)
    await state.set_state(StaffResult.prescriptions)
    await message.answer(_("Type the prescriptions («-» if none)."))


@router.message(StateFilter(StaffResult.prescriptions), *_TEXT, Staff())
async def on_prescriptions(
    message: Message, state: FSMContext, cipher: Cipher, uow: records.RecordsUoW
) -> None:
    value = await _take(message, "prescriptions", required=False)
    if value is None:
        return
    await _put(state, cipher, prescriptions=value)
    await state.set_state(StaffResult.referral)
    specs = sorted(await uow.records.specialties(), key=lambda s: (not s.referral_required, s.id))
    builder = InlineKeyboardBuilder()
    builder.button(text=_("No referral"), callback_data=SvRef(specialty_id=0))
    for spec in specs:
        builder.button(text=spec.name(current_locale()), callback_data=SvRef(specialty_id=spec.id))
    builder.adjust(1, 2)
    await message.answer(
        _("Issue a referral? Choose the specialty."), reply_markup=builder.as_markup()
    )


@router.callback_query(SvRef.filter(), StateFilter(StaffResult.referral), Staff())
async def on_referral(
    query: CallbackQuery, callback_data: SvRef, state: FSMContext, uow: records.RecordsUoW
) -> None:
    spec_id = callback_data.specialty_id
    if spec_id and spec_id not in {s.id for s in await uow.records.specialties()}:
        raise Stale
    await state.update_data(sv_s=spec_id)
    if not spec_id:
        await _summary(query, state)
        return
    await state.set_state(StaffResult.validity)
    builder = InlineKeyboardBuilder()
    for days in records.REFERRAL_VALIDITY_DAYS:
        builder.button(text=_("{days} days").format(days=days), callback_data=SvValid(days=days))
    await show(query, _("How long is the referral valid?"), builder.as_markup())


@router.callback_query(SvValid.filter(), StateFilter(StaffResult.validity), Staff())
async def on_validity(query: CallbackQuery, callback_data: SvValid, state: FSMContext) -> None:
    if callback_data.days not in records.REFERRAL_VALIDITY_DAYS:
        raise Stale
    await state.update_data(sv_v=callback_data.days)
    await _summary(query, state)


async def _summary(query: CallbackQuery, state: FSMContext) -> None:
    data = await state.get_data()
    await state.set_state(StaffResult.confirm)
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("Save and notify the patient"),
        callback_data=SvSave(appointment_id=int(data["sv_a"])),
    )
    builder.button(text=_("Cancel"), callback_data=SvList())
    builder.adjust(1)
    referral = (
        _("Referral: yes, valid {days} days.").format(days=data.get("sv_v"))
        if data.get("sv_s")
        else _("Referral: none.")
    )
    await show(query, _("Save the visit's results?") + "\n" + referral, builder.as_markup())


@router.callback_query(SvSave.filter(), StateFilter(StaffResult.confirm), Staff())
async def on_save(
    query: CallbackQuery,
    callback_data: SvSave,
    staff: StaffMember,
    state: FSMContext,
    cipher: Cipher,
    uow: records.RecordsUoW,
    now: datetime,
) -> None:
    data = await state.get_data()
    if int(data.get("sv_a") or 0) != callback_data.appointment_id:
        raise Stale
    texts = await _texts(state, cipher)
    result = VisitResult(
        conclusion=texts.get("conclusion", ""),
        recommendations=texts.get("recommendations", ""),
        prescriptions=texts.get("prescriptions", ""),
    )
    spec_id = int(data.get("sv_s") or 0)
    referral = (spec_id, int(data.get("sv_v") or 0)) if spec_id else None
    appointment = await records.complete_visit(
        uow, now, query.from_user.id, staff.clinics, callback_data.appointment_id, result, referral
    )
    await state.clear()
    await show(
        query,
        _("Visit № {number}: the results are saved and the patient is notified.").format(
            number=appointment.number
        ),
        InlineKeyboardMarkup(  # the way on (the screen had no buttons)
            inline_keyboard=[
                [InlineKeyboardButton(text=_("Visit results"), callback_data=SvList().pack())]
            ]
        ),
    )
