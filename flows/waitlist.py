"""«Лист ожидания»: join when nothing fits, see and leave entries, answer an offer.

Join: from the booking flow (the no-free-time screens and the calendar) —
the specialty, clinic and doctor come from the dialogue; the patient picks a
range (today only / 7 / 14 / 30 days) and a time of day. Offers arrive from the wait-list
job (domain/waitlist.py) as outbox messages with «Записаться» / «Пропустить»
(flows.ui.notify_callbacks.WlOffer). Every id from a button is checked
against the user's own patients / entries; anything else is «устарела».

This module asks and joins; the list of entries is flows/waitlist_mine.py's, the
answer to an offer flows/waitlist_offer.py's.
"""

from __future__ import annotations

from datetime import date, datetime

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain import waitlist
from domain.errors import Duplicate, NotOwner, Stale
from domain.flow_ports import SectionsUnitOfWork
from domain.models import User
from domain.policy import Policy
from domain.waitlist import NewEntry
from flows.booking_common import Event, show
from flows.guards import Registered
from flows.ui.format import current_locale, fmt_day, fmt_short_day, local
from flows.ui.i18n import gettext as _
from flows.ui.keyboards import button
from flows.ui.safe_callback import SafeCallback

router = Router(name="waitlist")

TOD_CODES = {"a": "any", "m": "morning", "d": "day", "e": "evening"}


class WaitListSteps(StatesGroup):
    """Where a typed message lands while the wait-list questions are on screen
    (flows/step_hints.py answers it with this step's hint, not the calendar's)."""

    period = State()
    time_of_day = State()


class WlRange(SafeCallback, prefix="wr"):
    """Step 1 → 2: the period chosen (doctor_id 0 = any doctor of the clinic)."""

    patient_id: int
    specialty_id: int
    clinic_id: int
    doctor_id: int
    days: int


class WlJoin(SafeCallback, prefix="wj"):
    patient_id: int
    specialty_id: int
    clinic_id: int
    doctor_id: int
    days: int
    time_of_day: str  # a|m|d|e (TOD_CODES)


class WlAsk(SafeCallback, prefix="wa"):
    """Back to step 1 with another doctor choice (doctor_id 0: any doctor of the clinic)."""

    patient_id: int
    specialty_id: int
    clinic_id: int
    doctor_id: int


class WlMine(SafeCallback, prefix="wm"):
    pass


class WlLeave(SafeCallback, prefix="wx"):
    entry_id: int


def tod_label(code: str) -> str:
    return {
        "any": _("any time"),
        "morning": _("morning (before 12:00)"),
        "day": _("afternoon (12:00–17:00)"),
        "evening": _("evening (after 17:00)"),
    }.get(code, code)


def range_label(days: int) -> str:
    return _("Today only") if days == 1 else _("{n} days").format(n=days)


def dates_text(start: date, end: date) -> str:
    if start == end:
        return _("only {day}").format(day=fmt_short_day(start))
    return f"{fmt_short_day(start)} – {fmt_short_day(end)}"


async def _what(
    uow: SectionsUnitOfWork, user: User, cb: WlAsk | WlRange | WlJoin
) -> tuple[str, str]:
    """(description, region) of a join request; Stale unless every id is the user's /
    consistent."""
    patient = await uow.users.patient(cb.patient_id)
    spec = await uow.directory.specialty(cb.specialty_id)
    clinic = await uow.directory.clinic(cb.clinic_id)
    if patient is None or patient.owner_user_id != user.id or spec is None or clinic is None:
        raise Stale
    lines = [
        _("Patient: {name}").format(name=patient.full_name),
        _("Specialty: {name}").format(name=spec.name(current_locale())),
        _("Clinic: {name}").format(name=clinic.name),
    ]
    if cb.doctor_id:
        doctor = await uow.directory.doctor(cb.doctor_id)
        if doctor is None or not await uow.directory.has_role(
            cb.doctor_id, cb.clinic_id, cb.specialty_id
        ):
            raise Stale
        lines.append(_("Doctor: {name}").format(name=doctor.full_name))
    else:
        lines.append(_("Doctor: any"))
    return "\n".join(lines), clinic.region_id


async def ask_to_join(
    event: Event,
    uow: SectionsUnitOfWork,
    user: User,
    *,
    patient_id: int,
    specialty_id: int,
    clinic_id: int,
    doctor_id: int,
) -> None:
    """The booking flow's «Встать в лист ожидания»: start from what the dialogue chose
    (0 where it chose nothing yet: a stale button)."""
    if not (patient_id and specialty_id and clinic_id):
        raise Stale
    ask = WlAsk(
        patient_id=patient_id, specialty_id=specialty_id, clinic_id=clinic_id, doctor_id=doctor_id
    )
    await _ask_range(event, uow, user, ask)


async def _ask_range(event: Event, uow: SectionsUnitOfWork, user: User, cb: WlAsk) -> None:
    what, _region = await _what(uow, user, cb)
    same = cb.model_dump(exclude={"doctor_id"})
    keyboard = InlineKeyboardBuilder()
    ranges = [WlRange(**same, doctor_id=cb.doctor_id, days=n) for n in waitlist.RANGE_DAYS]
    keyboard.row(*(button(range_label(r.days), r) for r in ranges if r.days == 1))
    keyboard.row(*(button(range_label(r.days), r) for r in ranges if r.days > 1))
    if cb.doctor_id:
        any_doctor = WlAsk(**same, doctor_id=0)
        keyboard.row(button(_("Any doctor of this clinic"), any_doctor))
    text = (
        _("Join the wait list")
        + "\n\n"
        + what
        + "\n\n"
        + _(
            "When a matching time frees up, it is offered to the first person on the list and "
            "held for them for a while; then to the next. For which period are you waiting?"
        )
    )
    await show(event, text, keyboard.as_markup(), new=isinstance(event, CallbackQuery))


@router.callback_query(WlAsk.filter(), Registered())
async def on_ask(
    query: CallbackQuery,
    callback_data: WlAsk,
    user: User,
    uow: SectionsUnitOfWork,
    state: FSMContext,
) -> None:
    await state.set_state(WaitListSteps.period)
    await _ask_range(query, uow, user, callback_data)


@router.callback_query(WlRange.filter(), Registered())
async def on_range(
    query: CallbackQuery,
    callback_data: WlRange,
    user: User,
    uow: SectionsUnitOfWork,
    state: FSMContext,
) -> None:
    what, _region = await _what(uow, user, callback_data)
    if callback_data.days not in waitlist.RANGE_DAYS:
        raise Stale
    labels = {"m": "morning", "d": "day", "e": "evening", "a": "any"}
    keyboard = InlineKeyboardBuilder()
    for code in ("m", "d", "e", "a"):
        join = WlJoin(**callback_data.model_dump(), time_of_day=code)
        keyboard.button(text=tod_label(labels[code]), callback_data=join)
    keyboard.adjust(1)
    await state.set_state(WaitListSteps.time_of_day)
    text = what + "\n\n" + _("Which time of day suits you?")
    await show(query, text, keyboard.as_markup())


def _my_wait_list() -> InlineKeyboardBuilder:
    keyboard = InlineKeyboardBuilder()
    keyboard.add(button(_("My wait list"), WlMine()))
    return keyboard


@router.callback_query(WlJoin.filter(), Registered())
async def on_join(
    query: CallbackQuery,
    callback_data: WlJoin,
    user: User,
    uow: SectionsUnitOfWork,
    state: FSMContext,
    now: datetime,
    policy: Policy,
) -> None:
    cb = callback_data
    what, region = await _what(uow, user, cb)
    tod = TOD_CODES.get(cb.time_of_day)
    if tod is None or cb.days not in waitlist.RANGE_DAYS:
        raise Stale
    await state.set_state(None)  # the questions are answered (the draft stays)
    clinic = await uow.directory.clinic(cb.clinic_id)
    assert clinic is not None  # _what found it
    start, end = waitlist.entry_range(local(now, clinic.tz).date(), cb.days)
    entry = NewEntry(
        patient_id=cb.patient_id,
        user_id=user.id,
        specialty_id=cb.specialty_id,
        region_id=region,
        doctor_id=cb.doctor_id or None,
        clinic_id=cb.clinic_id,
        date_from=start,
        date_to=end,
        time_of_day=tod,
        created_at=now,
    )
    try:
        await waitlist.join(uow, entry)
    except NotOwner:
        raise Stale from None
    except Duplicate:  # a screen of its own: the way to «My wait list»
        await show(
            query,
            _(
                "This patient is already on the wait list for this specialty (or has five "
                "entries). See «My wait list» to leave an entry first."
            ),
            _my_wait_list().as_markup(),
        )
        return
    text = (
        _("✅ You are on the wait list.")
        + "\n\n"
        + what
        + "\n"
        + _("Dates: {dates}, {tod}").format(dates=dates_text(start, end), tod=tod_label(tod))
        + "\n\n"
        + _(
            "When a matching time frees up we will send it to you and hold it for {minutes} "
            "minutes: «Book it» or «Skip». The entry ends on {end}."
        ).format(minutes=policy.waitlist_offer_minutes, end=fmt_day(end))
    )
    await show(query, text, _my_wait_list().as_markup())
