"""/staff «Перенести приём»: move one visit to another free time of the same doctor.

An upcoming visit of the staff member's clinics → a day with free time of the
same doctor (the booking calendar pieces) → a time → the reason, typed →
confirm → domain.booking.reschedule_by_clinic; the patient gets the urgent
``clinic_moved`` notification with the new time and the reason. Every id is
re-checked against the staff member's clinics; a forged one is «устарела».
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.settings import StaffMember
from domain import booking
from domain.directory import local_date
from domain.errors import DomainError, NotOwner, VisitOverlaps
from domain.models import Appointment
from flows import booking_views as views
from flows.booking_common import clash_line, policy_from, refusal_text, refuse, show, stale
from flows.staff_common import StMenu, visit_label
from flows.ui.callbacks import day_code, day_from_code
from flows.ui.format import fmt_when
from flows.ui.menu import not_navigation
from flows.ui.safe_callback import SafeCallback
from storage.repos.staff import StaffRepository

if TYPE_CHECKING:
    from storage.uow import SqlUnitOfWork

MAX_REASON = 300


class MvList(SafeCallback, prefix="sml"):
    pass


class MvPick(SafeCallback, prefix="smp"):
    a: int


class MvDay(SafeCallback, prefix="smy"):
    a: int
    day: int
    pg: int = 0


class MvSlot(SafeCallback, prefix="sms"):
    a: int
    t: int


class MvGo(SafeCallback, prefix="smg"):
    a: int
    t: int


class MoveStates(StatesGroup):
    reason = State()


def build_router() -> Router:
    router = Router(name="staff_move")
    router.callback_query.register(on_list, MvList.filter())
    router.callback_query.register(on_pick, MvPick.filter())
    router.callback_query.register(on_day, MvDay.filter())
    router.callback_query.register(on_slot, MvSlot.filter())
    reason = (StateFilter(MoveStates.reason), not_navigation)  # /staff, /menu leave the step
    router.message.register(on_reason, *reason, F.text)
    router.message.register(on_reason_bad, *reason)
    router.callback_query.register(on_go, MvGo.filter())
    return router


def _btn(text: str, cb: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=cb.pack())


async def _own(data: dict[str, Any], appointment_id: int) -> tuple[StaffMember, Appointment] | None:
    """The staff member and the appointment if it is an upcoming active visit of their clinic."""
    staff: StaffMember | None = data.get("staff")
    if staff is None:
        return None
    appointment = await data["uow"].appointments.get(appointment_id)
    if (
        appointment is None
        or appointment.clinic_id not in staff.clinics
        or not appointment.status.active
        or appointment.start <= data["clock"].now()
    ):
        return None
    return staff, appointment


async def on_list(query: CallbackQuery, **data: Any) -> None:
    staff: StaffMember | None = data.get("staff")
    if staff is None:
        await stale(query)
        return
    uow: SqlUnitOfWork = data["uow"]
    visits = await StaffRepository(uow.conn, uow.cipher).visits(
        staff.clinics, after=data["clock"].now(), limit=30
    )
    if not visits:
        await show(query, _("No upcoming visits in your clinics."))
        return
    rows = [[_btn(visit_label(v), MvPick(a=v.id))] for v in visits]
    rows.append([_btn(_("Back"), StMenu(to="home"))])
    await show(query, _("Which visit is to be moved?"), InlineKeyboardMarkup(inline_keyboard=rows))


async def _header(uow: SqlUnitOfWork, appointment: Appointment, home_tz: str) -> tuple[str, str]:
    doctor = await uow.directory.doctor(appointment.doctor_id)
    clinic = await uow.directory.clinic(appointment.clinic_id)
    tz = clinic.tz if clinic else home_tz
    text = _("Visit № {number}, {doctor}\nNow: {when}").format(
        number=appointment.number,
        doctor=doctor.full_name if doctor else "",
        when=fmt_when(appointment.start, tz, home_tz),
    )
    return text, tz


async def on_pick(query: CallbackQuery, callback_data: MvPick, **data: Any) -> None:
    owned = await _own(data, callback_data.a)
    if owned is None:
        await stale(query)
        return
    _staff, appointment = owned
    uow: SqlUnitOfWork = data["uow"]
    now = data["clock"].now()
    header, tz = await _header(uow, appointment, data["settings"].default_tz)
    free = await uow.directory.free_days(
        appointment.doctor_id,
        appointment.clinic_id,
        appointment.specialty_id,
        now,
        tz,
        for_user_id=query.from_user.id,
    )
    a = appointment.id
    text, kb = views.calendar_screen(
        header + "\n\n" + _("Choose the new day:"),
        local_date(now, tz),
        free,
        lambda day: MvDay(a=a, day=day_code(day)),
        [_btn(_("Back"), MvList())],
        extra=[],
    )
    await show(query, text, kb)


async def on_day(query: CallbackQuery, callback_data: MvDay, **data: Any) -> None:
    owned = await _own(data, callback_data.a)
    if owned is None:
        await stale(query)
        return
    _staff, appointment = owned
    uow: SqlUnitOfWork = data["uow"]
    header, tz = await _header(uow, appointment, data["settings"].default_tz)
    try:
        day = day_from_code(callback_data.day)
    except ValueError:
        await stale(query)
        return
    slots = await uow.directory.free_slots_on_day(
        appointment.doctor_id,
        appointment.clinic_id,
        appointment.specialty_id,
        day,
        tz,
        data["clock"].now(),
        for_user_id=query.from_user.id,
    )
    a = appointment.id
    text, kb = views.day_slots_screen(
        header,
        day,
        slots,
        tz,
        lambda s: MvSlot(a=a, t=s.id),
        [_btn(_("Back"), MvPick(a=a))],
        callback_data.pg,
        lambda n: MvDay(a=a, day=callback_data.day, pg=n),
    )
    await show(query, text, kb)


async def on_slot(
    query: CallbackQuery, callback_data: MvSlot, state: FSMContext, **data: Any
) -> None:
    owned = await _own(data, callback_data.a)
    slot = await data["uow"].directory.slot(callback_data.t)
    if owned is None or slot is None or slot.doctor_id != owned[1].doctor_id:
        await stale(query)
        return
    await state.set_state(MoveStates.reason)
    await state.update_data(mv_a=callback_data.a, mv_t=callback_data.t)
    await show(
        query,
        _("Type the reason the patient will see, for example: «врач на учёбе»."),
    )


async def on_reason_bad(message: Message, **data: Any) -> None:
    await message.answer(_("Please type the reason as text (up to 300 characters)."))


async def on_reason(message: Message, state: FSMContext, **data: Any) -> None:
    stored = await state.get_data()
    reason = (message.text or "").strip()
    owned = await _own(data, int(stored.get("mv_a") or 0))
    slot = await data["uow"].directory.slot(int(stored.get("mv_t") or 0))
    if owned is None or slot is None:
        await state.clear()
        await message.answer(_("This button is out of date."))
        return
    if not reason or len(reason) > MAX_REASON:
        await message.answer(_("Please type the reason as text (up to 300 characters)."))
        return
    await state.update_data(mv_reason=reason)
    appointment = owned[1]
    header, tz = await _header(data["uow"], appointment, data["settings"].default_tz)
    await message.answer(
        header
        + "\n"
        + _("New: {when}\nReason: {reason}\nThe patient will be told at once.").format(
            when=fmt_when(slot.start, tz, data["settings"].default_tz), reason=reason
        ),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [_btn(_("Confirm"), MvGo(a=appointment.id, t=slot.id))],
                [_btn(_("Back"), MvPick(a=appointment.id))],
            ]
        ),
        parse_mode=None,
    )


async def on_go(query: CallbackQuery, callback_data: MvGo, state: FSMContext, **data: Any) -> None:
    stored = await state.get_data()
    reason = str(stored.get("mv_reason") or "")
    owned = await _own(data, callback_data.a)
    if (
        owned is None
        or not reason
        or int(stored.get("mv_a") or 0) != callback_data.a
        or int(stored.get("mv_t") or 0) != callback_data.t
    ):
        await stale(query)
        return
    staff, _appointment = owned
    try:
        new = await booking.reschedule_by_clinic(
            data["uow"],
            data["clock"].now(),
            query.from_user.id,
            staff.clinics,
            callback_data.a,
            callback_data.t,
            policy_from(data["settings"]),
            reason,
        )
    except NotOwner:
        await stale(query)
        return
    except VisitOverlaps as exc:  # worded for the registrar, not the patient
        await refuse(
            query,
            _("The patient has another visit at that time: {visit}. Choose another time.").format(
                visit=clash_line(exc.clash)
            ),
        )
        return
    except DomainError as exc:
        await refuse(query, refusal_text(exc, None, None))
        return
    await state.clear()
    await show(
        query,
        _(
            "Moved: the new appointment number is {number}. A notice to the patient is queued; "
            "/staff lists any that Telegram refuses to deliver."
        ).format(number=new.number),
    )
