"""«Перенести»: a new time with the same doctor (calendar → day → time), or another
doctor of the same specialty in that clinic; the summary holds the new slot;
«Подтвердить» calls ``booking.reschedule`` (new slot taken before the old one
is released, in one transaction). Every press re-checks the appointment's owner.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiogram import Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from domain import booking
from domain.errors import DomainError, NotOwner, SlotTaken
from domain.models import Appointment, User
from flows import booking_views as views
from flows.booking_common import load_details, policy_from, refusal_text, send_files, show, stale
from flows.ui.callbacks import (
    ApMove,
    ApMoveConfirm,
    ApMoveDay,
    ApMoveDoctor,
    ApMoveOther,
    ApMoveSlot,
    ApOpen,
    day_code,
    day_from_code,
)
from flows.ui.format import details_text, doctor_button, fmt_when, specialty_name
from flows.ui.keyboards import button, inline

if TYPE_CHECKING:
    from storage.uow import SqlUnitOfWork


def register(router: Router) -> None:
    router.callback_query.register(on_move, ApMove.filter())
    router.callback_query.register(on_other, ApMoveOther.filter())
    router.callback_query.register(on_doctor, ApMoveDoctor.filter())
    router.callback_query.register(on_day, ApMoveDay.filter())
    router.callback_query.register(on_slot, ApMoveSlot.filter())
    router.callback_query.register(on_confirm, ApMoveConfirm.filter())


async def _movable(data: dict[str, Any], appointment_id: int) -> tuple[User, Appointment] | None:
    """The user's active future appointment, or None (stale/forged button)."""
    user: User | None = data.get("user")
    if user is None:
        return None
    try:
        appointment = await booking.get_owned_appointment(data["uow"], user.id, appointment_id)
    except NotOwner:
        return None
    return user, appointment


async def _refuse_inactive(query: CallbackQuery, appointment: Appointment, now: Any) -> bool:
    if appointment.status.active and appointment.start > now:
        return False
    from domain.errors import CancelWindowClosed, InvalidTransition

    error: DomainError = (
        InvalidTransition("inactive") if not appointment.status.active else CancelWindowClosed()
    )
    await show(
        query,
        refusal_text(error, None, None),
        inline([[button(_("Back"), ApOpen(appointment_id=appointment.id))]]),
    )
    return True


async def _open(
    query: CallbackQuery, data: dict[str, Any], appointment_id: int
) -> tuple[User, Appointment, datetime] | None:
    """The user's appointment that can still be moved, and now; None when the press has
    been answered already (a stale button, or an appointment no longer active/upcoming)."""
    found = await _movable(data, appointment_id)
    if found is None:
        await stale(query)
        return None
    user, appointment = found
    now = data["clock"].now()
    if await _refuse_inactive(query, appointment, now):
        return None
    return user, appointment, now


async def _calendar(
    query: CallbackQuery, data: dict[str, Any], user: User, appointment: Appointment, doctor_id: int
) -> None:
    uow: SqlUnitOfWork = data["uow"]
    directory = uow.directory
    doctor = await directory.doctor(doctor_id)
    clinic = await directory.clinic(appointment.clinic_id)
    spec = await directory.specialty(appointment.specialty_id)
    if doctor is None or clinic is None or spec is None:
        await stale(query)
        return
    if not await directory.has_role(doctor.id, clinic.id, spec.id):
        await stale(query)
        return
    now = data["clock"].now()
    home_tz = data["settings"].default_tz
    extra = [[button(_("Another doctor of this specialty"), ApMoveOther(a=appointment.id))]]
    text, kb = await views.doctor_calendar(
        uow,
        doctor,
        clinic,
        spec,
        now,
        home_tz,
        user.id,
        lambda day: ApMoveDay(a=appointment.id, d=doctor.id, day=day_code(day)),
        [button(_("Back"), ApOpen(appointment_id=appointment.id))],
        extra,
    )
    intro = _("Moving № {number} ({when}). Choose a new time.").format(
        number=appointment.number, when=fmt_when(appointment.start, clinic.tz, home_tz)
    )
    await show(query, f"{intro}\n\n{text}", kb)


async def on_move(query: CallbackQuery, callback_data: ApMove, **data: Any) -> None:
    opened = await _open(query, data, callback_data.a)
    if opened is None:
        return
    user, appointment, _now = opened
    await _calendar(query, data, user, appointment, appointment.doctor_id)


async def on_other(query: CallbackQuery, callback_data: ApMoveOther, **data: Any) -> None:
    opened = await _open(query, data, callback_data.a)
    if opened is None:
        return
    user, appointment, now = opened
    uow: SqlUnitOfWork = data["uow"]
    clinic = await uow.directory.clinic(appointment.clinic_id)
    spec = await uow.directory.specialty(appointment.specialty_id)
    if clinic is None or spec is None:
        await stale(query)
        return
    cards = await uow.directory.doctors_in_clinic(clinic.id, spec.id, now, for_user_id=user.id)
    rows = [
        [
            button(
                doctor_button(card.doctor, card.nearest, clinic.tz),
                ApMoveDoctor(a=appointment.id, d=card.doctor.id),
            )
        ]
        for card in cards[:20]
    ]
    rows.append([button(_("Back"), ApMove(a=appointment.id))])
    text = _("{specialty}, {clinic}: choose a doctor.").format(
        specialty=specialty_name(spec), clinic=clinic.name
    )
    await show(query, text, inline(rows))


async def on_doctor(query: CallbackQuery, callback_data: ApMoveDoctor, **data: Any) -> None:
    opened = await _open(query, data, callback_data.a)
    if opened is None:
        return
    user, appointment, _now = opened
    await _calendar(query, data, user, appointment, callback_data.d)


async def on_day(query: CallbackQuery, callback_data: ApMoveDay, **data: Any) -> None:
    opened = await _open(query, data, callback_data.a)
    if opened is None:
        return
    user, appointment, now = opened
    uow: SqlUnitOfWork = data["uow"]
    directory = uow.directory
    doctor = await directory.doctor(callback_data.d)
    clinic = await directory.clinic(appointment.clinic_id)
    if doctor is None or clinic is None:
        await stale(query)
        return
    try:
        day = day_from_code(callback_data.day)
    except ValueError:
        await stale(query)
        return
    slots = await directory.free_slots_on_day(
        doctor.id, clinic.id, appointment.specialty_id, day, clinic.tz, now, for_user_id=user.id
    )
    slots = [s for s in slots if s.id != appointment.slot_id]
    text, kb = views.day_slots_screen(
        f"{doctor.full_name}\n🏥 {clinic.name}",
        day,
        slots,
        clinic.tz,
        lambda s: ApMoveSlot(a=appointment.id, t=s.id),
        [button(_("Back"), ApMoveDoctor(a=appointment.id, d=doctor.id))],
        callback_data.pg,
        lambda n: ApMoveDay(a=appointment.id, d=doctor.id, day=callback_data.day, pg=n),
    )
    await show(query, text, kb)


async def on_slot(query: CallbackQuery, callback_data: ApMoveSlot, **data: Any) -> None:
    """The summary of the move: hold the new slot (rescheduling rules) and show old → new."""
    opened = await _open(query, data, callback_data.a)
    if opened is None:
        return
    user, appointment, now = opened
    uow: SqlUnitOfWork = data["uow"]
    slot = await uow.directory.slot(callback_data.t)
    patient = await uow.users.patient(appointment.patient_id)
    if slot is None or patient is None or slot.specialty_id != appointment.specialty_id:
        await stale(query)
        return
    policy = policy_from(data["settings"])
    back_row = [button(_("Back"), ApMove(a=appointment.id))]
    try:
        await booking.hold_slot(uow, now, user.id, patient.id, slot.id, policy, rescheduling=True)
    except SlotTaken as taken:
        await _taken(query, uow, appointment, taken)
        return
    except NotOwner:
        await stale(query)
        return
    except DomainError as exc:
        await show(query, refusal_text(exc, None, patient), inline([back_row]))
        return
    details = await load_details(uow, patient, slot=slot)
    if details is None:
        await stale(query)
        return
    home_tz = data["settings"].default_tz
    old_when = fmt_when(appointment.start, details.clinic.tz, home_tz)
    text = (
        _("Move the appointment № {number} from {old}?").format(
            number=appointment.number, old=old_when
        )
        + "\n\n"
        + _("New time:")
        + "\n"
        + details_text(details, home_tz)
        + "\n\n"
        + _("This time is held for you for {minutes} min. Press «Confirm» to move.").format(
            minutes=policy.hold_minutes
        )
    )
    rows = [
        [
            button(_("Confirm"), ApMoveConfirm(a=appointment.id, t=slot.id)),
            button(_("Back"), ApMove(a=appointment.id)),
        ]
    ]
    await show(query, text, inline(rows))


async def _taken(
    query: CallbackQuery, uow: SqlUnitOfWork, appointment: Appointment, taken: SlotTaken
) -> None:
    text, kb = await views.taken_screen(
        uow,
        taken.alternatives,
        lambda s: ApMoveSlot(a=appointment.id, t=s.id),
        [button(_("Back"), ApMove(a=appointment.id))],
    )
    await show(query, text, kb, new=True)


async def on_confirm(query: CallbackQuery, callback_data: ApMoveConfirm, **data: Any) -> None:
    found = await _movable(data, callback_data.a)
    if found is None:
        await stale(query)
        return
    user, appointment = found
    now = data["clock"].now()
    uow: SqlUnitOfWork = data["uow"]
    policy = policy_from(data["settings"])
    try:
        new = await booking.reschedule(uow, now, user.id, appointment.id, callback_data.t, policy)
    except SlotTaken as taken:
        await _taken(query, uow, appointment, taken)
        return
    except NotOwner:
        await stale(query)
        return
    except DomainError as exc:
        await show(
            query,
            refusal_text(exc, None, None),
            inline([[button(_("Back"), ApOpen(appointment_id=appointment.id))]]),
            new=True,
        )
        return
    patient = await uow.users.patient(new.patient_id)
    details = await load_details(uow, patient, appointment=new) if patient else None
    home_tz = data["settings"].default_tz
    if query.message is not None and hasattr(query.message, "edit_reply_markup"):
        await query.message.edit_reply_markup(reply_markup=None)
    text = _("Moved! The new appointment number: {number}").format(number=new.number)
    if details is not None:
        text += "\n\n" + details_text(details, home_tz)
    if details is not None:  # files first: the confirmation stays the newest message
        await send_files(query, details, home_tz, now)
    await show(query, text, new=True)
