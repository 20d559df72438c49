"""/staff for clinic staff (settings.staff): cancel a doctor's visits with a reason, mark visits.

«Отменить приём»: a doctor of the staff member's clinics (those with upcoming
visits) → a day or all upcoming days → the reason, typed → confirm → every
affected appointment is cancelled by the clinic; each patient gets an urgent
message with the reason and the three nearest alternatives (bot/notifier.py).
The cancelled slots and the rest of those days of the doctor become 'blocked':
the day is off, so nobody can book it and the wait list is not offered it.
«Перенести приём»: one visit to another free time of the same doctor (flows/staff_move.py).
«Отметить визит»: visits of the last day → completed / no-show.
Every id from a button is re-checked against the staff member's clinics; a
forged one gets «Эта кнопка устарела».
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.settings import StaffMember
from domain import booking
from domain.errors import DomainError
from domain.models import AppointmentStatus
from flows import staff_move
from flows.booking_common import refusal_text, refuse, show, stale
from flows.staff_common import StMenu, visit_label
from flows.staff_move import MvList
from flows.ui.callbacks import day_code, day_from_code
from flows.ui.format import fmt_day, fmt_when, local
from flows.ui.menu import not_navigation
from flows.ui.safe_callback import SafeCallback
from flows.ui.support_callbacks import StTk
from storage.repos.staff import StaffRepository, StaffVisit

if TYPE_CHECKING:
    from storage.uow import SqlUnitOfWork

MAX_REASON = 300
FAILED_NOTICES_WINDOW = timedelta(days=7)  # /staff lists failed notices this recent


class StDoc(SafeCallback, prefix="sd"):
    d: int


class StDay(SafeCallback, prefix="sy"):
    d: int
    day: int  # YYYYMMDD, 0 = all upcoming days


class StGo(SafeCallback, prefix="sg"):
    d: int
    day: int


class StVisit(SafeCallback, prefix="sv"):
    a: int


class StMark(SafeCallback, prefix="sk"):
    a: int
    s: str  # c = completed, n = no-show


class StaffStates(StatesGroup):
    reason = State()


def build_router() -> Router:
    router = Router(name="staff")
    router.message.register(on_staff, Command("staff"))
    router.callback_query.register(on_menu, StMenu.filter())
    router.callback_query.register(on_doctor, StDoc.filter())
    router.callback_query.register(on_day, StDay.filter())
    reason = (StateFilter(StaffStates.reason), not_navigation)  # /staff, /menu leave the step
    router.message.register(on_reason, *reason, F.text)
    router.message.register(on_reason_bad, *reason)
    router.callback_query.register(on_go, StGo.filter())
    router.callback_query.register(on_visit, StVisit.filter())
    router.callback_query.register(on_mark, StMark.filter())
    router.include_router(staff_move.build_router())
    return router


def _btn(text: str, cb: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=cb.pack())


def _menu_markup() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_btn(_("Cancel visits"), StMenu(to="cancel"))],
            [_btn(_("Move a visit"), MvList())],
            [_btn(_("Mark a visit"), StMenu(to="mark"))],
            [_btn(_("Requests"), StTk(action="list"))],  # support tickets: flows/staff_tickets.py
        ]
    )


def _repo(uow: SqlUnitOfWork) -> StaffRepository:
    return StaffRepository(uow.conn, uow.cipher)


async def on_staff(message: Message, state: FSMContext, **data: Any) -> None:
    staff: StaffMember | None = data.get("staff")
    if staff is None:
        await message.answer(_("This command is for clinic staff."))
        return
    await state.clear()
    text = _("Clinic staff: what would you like to do?")
    failed = await _repo(data["uow"]).failed_notices(
        staff.clinics, data["clock"].now() - FAILED_NOTICES_WINDOW
    )
    if failed:
        tz = data["settings"].default_tz
        lines = [_("⚠️ Notices Telegram refused to deliver (call these patients):")]
        lines += [
            _("№ {number}, {when}: {error}").format(
                number=n.number, when=fmt_when(n.at, tz, tz), error=n.error
            )
            for n in failed
        ]
        text = "\n".join(lines) + "\n\n" + text
    await message.answer(text, reply_markup=_menu_markup(), parse_mode=None)


async def on_menu(query: CallbackQuery, callback_data: StMenu, **data: Any) -> None:
    staff: StaffMember | None = data.get("staff")
    if staff is None:
        await stale(query)
        return
    uow: SqlUnitOfWork = data["uow"]
    now = data["clock"].now()
    if callback_data.to == "cancel":
        doctors = await _repo(uow).doctors_with_visits(staff.clinics, now)
        if not doctors:
            await show(query, _("No upcoming visits in your clinics."), _menu_markup())
            return
        rows = [
            [_btn(_("{doctor} — {count} visits").format(doctor=name, count=n), StDoc(d=did))]
            for did, name, n in doctors
        ]
        rows.append([_btn(_("Back"), StMenu(to="home"))])
        await show(
            query,
            _("Whose visits are to be cancelled? Choose the doctor."),
            InlineKeyboardMarkup(inline_keyboard=rows),
        )
        return
    if callback_data.to == "mark":
        visits = await _repo(uow).visits(
            staff.clinics, after=now - timedelta(days=1), before=now, limit=30
        )
        if not visits:
            await show(
                query, _("No visits to mark: none started in the last 24 hours."), _menu_markup()
            )
            return
        rows = [[_btn(visit_label(v), StVisit(a=v.id))] for v in visits]
        rows.append([_btn(_("Back"), StMenu(to="home"))])
        await show(query, _("Which visit?"), InlineKeyboardMarkup(inline_keyboard=rows))
        return
    await show(query, _("Clinic staff: what would you like to do?"), _menu_markup())


async def _doctor_visits(
    uow: SqlUnitOfWork, staff: StaffMember, doctor_id: int, now: Any
) -> list[StaffVisit]:
    return await _repo(uow).visits(staff.clinics, after=now, doctor_id=doctor_id, limit=500)


def _on_day(visits: list[StaffVisit], day: date | None) -> list[StaffVisit]:
    if day is None:
        return visits
    return [v for v in visits if local(v.start, v.tz).date() == day]


async def on_doctor(query: CallbackQuery, callback_data: StDoc, **data: Any) -> None:
    staff: StaffMember | None = data.get("staff")
    if staff is None:
        await stale(query)
        return
    visits = await _doctor_visits(data["uow"], staff, callback_data.d, data["clock"].now())
    if not visits:
        await stale(query)  # another clinic's doctor, or nothing left to cancel
        return
    days = sorted({local(v.start, v.tz).date() for v in visits})
    rows = [
        [
            _btn(
                _("{day} — {count} visits").format(day=fmt_day(d), count=len(_on_day(visits, d))),
                StDay(d=callback_data.d, day=day_code(d)),
            )
        ]
        for d in days[:14]
    ]
    rows.append(
        [
            _btn(
                _("All upcoming days — {count} visits").format(count=len(visits)),
                StDay(d=callback_data.d, day=0),
            )
        ]
    )
    rows.append([_btn(_("Back"), StMenu(to="cancel"))])
    await show(
        query,
        _("{doctor}: which day's visits are to be cancelled?").format(doctor=visits[0].doctor_name),
        InlineKeyboardMarkup(inline_keyboard=rows),
    )


async def on_day(
    query: CallbackQuery, callback_data: StDay, state: FSMContext, **data: Any
) -> None:
    staff: StaffMember | None = data.get("staff")
    if staff is None:
        await stale(query)
        return
    try:
        day = day_from_code(callback_data.day) if callback_data.day else None
    except ValueError:  # a forged day code
        await stale(query)
        return
    visits = await _doctor_visits(data["uow"], staff, callback_data.d, data["clock"].now())
    chosen = _on_day(visits, day)
    if not chosen:
        await stale(query)
        return
    await state.set_state(StaffStates.reason)
    await state.update_data(staff_d=callback_data.d, staff_day=callback_data.day)
    await show(
        query,
        _(
            "{count} visits will be cancelled. Type the reason the patients will see, "
            "for example: «врач заболел»."
        ).format(count=len(chosen)),
    )


async def on_reason_bad(message: Message, **data: Any) -> None:
    await message.answer(_("Please type the reason as text (up to 300 characters)."))


async def on_reason(message: Message, state: FSMContext, **data: Any) -> None:
    staff: StaffMember | None = data.get("staff")
    reason = (message.text or "").strip()
    if staff is None:
        await state.clear()
        return
    if not reason or len(reason) > MAX_REASON:
        await message.answer(_("Please type the reason as text (up to 300 characters)."))
        return
    stored = await state.get_data()
    await state.update_data(staff_reason=reason)
    doctor_id, day = int(stored.get("staff_d", 0)), int(stored.get("staff_day", 0))
    visits = await _doctor_visits(data["uow"], staff, doctor_id, data["clock"].now())
    chosen = _on_day(visits, day_from_code(day) if day else None)
    if not chosen:
        await state.clear()
        await message.answer(_("Nothing left to cancel."))
        return
    when = fmt_day(local(chosen[0].start, chosen[0].tz).date()) if day else _("all upcoming days")
    await message.answer(
        _(
            "Cancel {count} visits of {doctor} ({when})?\nReason: {reason}\n"
            "Every patient will be told the reason and offered the nearest free times."
        ).format(count=len(chosen), doctor=chosen[0].doctor_name, when=when, reason=reason),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [_btn(_("Confirm"), StGo(d=doctor_id, day=day))],
                [_btn(_("Back"), StMenu(to="cancel"))],
            ]
        ),
        parse_mode=None,
    )


async def on_go(query: CallbackQuery, callback_data: StGo, state: FSMContext, **data: Any) -> None:
    staff: StaffMember | None = data.get("staff")
    stored = await state.get_data()
    reason = str(stored.get("staff_reason") or "")
    if (
        staff is None
        or not reason
        or int(stored.get("staff_d", -1)) != callback_data.d
        or int(stored.get("staff_day", -1)) != callback_data.day
    ):
        await stale(query)
        return
    uow: SqlUnitOfWork = data["uow"]
    now = data["clock"].now()
    user_id = query.from_user.id
    try:
        day = day_from_code(callback_data.day) if callback_data.day else None
    except ValueError:  # a forged day code
        await stale(query)
        return
    visits = await _doctor_visits(uow, staff, callback_data.d, now)
    chosen = _on_day(visits, day)
    done = 0
    for visit in chosen:
        try:
            await booking.cancel_by_clinic(
                uow, now, user_id, staff.clinics, visit.id, reason, block_slot=True
            )
            done += 1
        except DomainError:
            await uow.rollback()
    await _close_days(uow, staff, callback_data.d, chosen, now)
    await state.clear()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            _(
                "Cancelled {count} visits. Notices to the patients are queued; "
                "/staff lists any that Telegram refuses to deliver."
            ).format(count=done)
        )


async def _close_days(
    uow: SqlUnitOfWork, staff: StaffMember, doctor_id: int, cancelled: list[StaffVisit], now: Any
) -> None:
    """The clinic called these days off («врач заболел»): the rest of each day of the
    doctor is closed too ('blocked'), so nobody books it and the wait list is not
    offered it. Days are the clinic's local days of the cancelled visits."""
    for day, tz in sorted({(local(v.start, v.tz).date(), v.tz) for v in cancelled}):
        zone = ZoneInfo(tz)
        lo = datetime.combine(day, time(0), zone)
        hi = datetime.combine(day + timedelta(days=1), time(0), zone)
        await booking.block_doctor_time(uow, doctor_id, staff.clinics, max(lo, now), hi)


async def on_visit(query: CallbackQuery, callback_data: StVisit, **data: Any) -> None:
    staff: StaffMember | None = data.get("staff")
    uow: SqlUnitOfWork = data["uow"]
    appointment = await uow.appointments.get(callback_data.a)
    if staff is None or appointment is None or appointment.clinic_id not in staff.clinics:
        await stale(query)
        return
    await show(
        query,
        _("Visit № {number}: did the patient come?").format(number=appointment.number),
        InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    _btn(_("Visit took place"), StMark(a=appointment.id, s="c")),
                    _btn(_("No-show"), StMark(a=appointment.id, s="n")),
                ],
                [_btn(_("Back"), StMenu(to="mark"))],
            ]
        ),
    )


async def on_mark(query: CallbackQuery, callback_data: StMark, **data: Any) -> None:
    staff: StaffMember | None = data.get("staff")
    if staff is None or callback_data.s not in ("c", "n"):
        await stale(query)
        return
    status = AppointmentStatus.COMPLETED if callback_data.s == "c" else AppointmentStatus.NO_SHOW
    try:
        appointment = await booking.mark_visit(
            data["uow"],
            data["clock"].now(),
            query.from_user.id,
            staff.clinics,
            callback_data.a,
            status,
        )
    except DomainError as exc:
        from domain.errors import NotOwner

        if isinstance(exc, NotOwner):
            await stale(query)
        else:
            await refuse(query, refusal_text(exc, None, None))
        return
    text = (
        _("Visit № {number} marked as completed.")
        if status is AppointmentStatus.COMPLETED
        else _("Visit № {number} marked as a no-show.")
    )
    await show(query, text.format(number=appointment.number), _menu_markup())
