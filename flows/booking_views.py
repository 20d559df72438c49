"""Screens of the booking dialogue: each returns (text, keyboard) for one step.

Pure rendering on top of the directory's read queries; handlers in
flows/booking.py decide which screen comes next. The same calendar and day
screens serve a reschedule (flows/appointments.py) through the ``make_*``
callback factories, so both dialogues look and behave alike.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from domain.directory import local_date
from domain.models import Clinic, Doctor, Patient, Slot, Specialty
from flows.ui.calendar import calendar_rows, months_caption, window
from flows.ui.callbacks import (
    BkBack,
    BkClinic,
    BkClinicPage,
    BkConfirm,
    BkDoctor,
    BkJump,
    BkPatient,
    BkSlot,
    BkSpec,
    BkSpecPage,
    day_code,
)
from flows.ui.format import (
    Details,
    alternative_button,
    clinic_card,
    current_locale,
    details_text,
    doctor_button,
    doctor_card,
    fmt_day,
    fmt_time,
    kind_label,
    local,
    specialty_name,
)
from flows.ui.keyboards import button, inline
from flows.ui.pager import PER_PAGE, clamp, pager_row, paginate

if TYPE_CHECKING:
    from storage.uow import SqlUnitOfWork

Screen = tuple[str, InlineKeyboardMarkup]
Rows = list[list[InlineKeyboardButton]]
REFERRAL_MARK = "📋"
ATTACHED_MARK = "⭐"
SLOTS_PER_PAGE = 24


def back(to: str) -> list[InlineKeyboardButton]:
    return [button(_("Back"), BkBack(to=to))]


def patients_screen(patients: list[Patient]) -> Screen:
    rows: Rows = [[button(p.full_name, BkPatient(p=p.id))] for p in patients[:20]]
    return _("Who is the appointment for?"), inline(rows)


def specialties_screen(patient: Patient, specs: list[Specialty], page: int, multi: bool) -> Screen:
    loc = current_locale()
    ordered = sorted(specs, key=lambda s: (s.referral_required, s.name(loc)))
    chunk = paginate(ordered, page)
    rows: Rows = []
    for spec in chunk.items:
        label = spec.name(loc) + (f" {REFERRAL_MARK}" if spec.referral_required else "")
        rows.append([button(label, BkSpec(s=spec.id))])
    rows.append(pager_row(chunk.page, chunk.pages, lambda n: BkSpecPage(page=n)))
    if multi:
        rows.append(back("patient"))
    text = _("Patient: {patient}\nChoose a specialty. {mark} — by referral only.").format(
        patient=patient.full_name, mark=REFERRAL_MARK
    )
    return text, inline(rows)


async def clinics_screen(
    uow: SqlUnitOfWork,
    patient: Patient,
    specialty: Specialty,
    region_id: str,
    page: int,
    query: str | None,
) -> Screen:
    directory = uow.directory
    first = await directory.clinics_for_specialty(
        region_id,
        specialty.id,
        query=query,
        attached_clinic_id=patient.attached_clinic_id,
        offset=max(page, 0) * PER_PAGE,
        limit=PER_PAGE,
    )
    page, pages = clamp(page, first.total)
    result = first
    if page * PER_PAGE != max(page, 0) * PER_PAGE or (not first.items and first.total):
        result = await directory.clinics_for_specialty(
            region_id,
            specialty.id,
            query=query,
            attached_clinic_id=patient.attached_clinic_id,
            offset=page * PER_PAGE,
            limit=PER_PAGE,
        )
    rows: Rows = []
    for clinic in result.items:
        mark = f"{ATTACHED_MARK} " if clinic.id == patient.attached_clinic_id else ""
        rows.append([button(f"{mark}{clinic.name}", BkClinic(c=clinic.id))])
    rows.append(pager_row(page, pages, lambda n: BkClinicPage(page=n)))
    if query:
        rows.append([button(_("Clear search"), BkJump(to="clinics"))])
    rows.append(back("spec"))
    lines = [
        _("{specialty}: choose a clinic.").format(specialty=specialty_name(specialty)),
    ]
    if query:
        lines.append(_("Search «{query}»: {count} found.").format(query=query, count=result.total))
    else:
        lines.append(_("Clinics found: {count}.").format(count=result.total))
    if patient.attached_clinic_id is not None and not query:
        lines.append(_("{mark} — the clinic you are attached to.").format(mark=ATTACHED_MARK))
    if not result.total:
        lines.append(_("Nothing found. Try another word or clear the search."))
    lines.append(_("To search, type part of the clinic's name or address."))
    return "\n".join(lines), inline(rows)


async def doctors_screen(
    uow: SqlUnitOfWork,
    clinic: Clinic,
    specialty: Specialty,
    now: datetime,
    home_tz: str,
    user_id: int,
    page: int = 0,
) -> Screen:
    cards = await uow.directory.doctors_in_clinic(clinic.id, specialty.id, now, for_user_id=user_id)
    chunk = paginate(cards, page)
    parts = [clinic_card(clinic), "", _("{specialty}:").format(specialty=specialty_name(specialty))]
    rows: Rows = []
    for card in chunk.items:
        parts.append(doctor_card(card.doctor, card.nearest, clinic.tz, home_tz))
        parts.append("")
        rows.append(
            [
                button(
                    doctor_button(card.doctor, card.nearest, clinic.tz), BkDoctor(d=card.doctor.id)
                )
            ]
        )
    rows.append(pager_row(chunk.page, chunk.pages, lambda n: BkDoctor(d=-(n + 1))))
    anything = any(card.nearest is not None for card in cards)
    if anything:
        rows.insert(0, [button(_("Any doctor — earliest time"), BkDoctor(d=0))])
    else:
        parts.append(nothing_free_text())
        rows += nothing_free_rows()
    rows.append(back("clinics"))
    return "\n".join(parts).strip(), inline(rows)


def nothing_free_text() -> str:
    return _(
        "There is no free time with this specialty here in the next two weeks. "
        "Try another clinic or doctor."
    )


def nothing_free_rows() -> Rows:
    return [[button(_("Other clinics"), BkBack(to="clinics"))], waitlist_row()]


def waitlist_row() -> list[InlineKeyboardButton]:
    """«Встать в лист ожидания»: also beside free time, for a patient who wants an earlier
    time (or another time of day) than what is free now."""
    return [button(_("Join the wait list"), BkJump(to="waitlist"))]


def calendar_screen(
    header: str,
    today: date,
    free: list[date],
    make_day: Callable[[date], CallbackData],
    back_row: list[InlineKeyboardButton],
    extra: Rows | None = None,
) -> Screen:
    """The two-week calendar: pressable days have free time; «·N» days only explain."""
    days = window(today)
    loc = current_locale()
    rows: Rows = calendar_rows(days, free, make_day, loc)
    if extra:
        rows += extra
    rows.append(back_row)
    text = f"{header}\n\n" + _(
        "Choose a day ({months}). Days marked «·» have no free time."
    ).format(months=months_caption(days, loc))
    if not free:
        text = f"{header}\n\n" + nothing_free_text()
    return text, inline(rows)


async def doctor_calendar(
    uow: SqlUnitOfWork,
    doctor: Doctor,
    clinic: Clinic,
    specialty: Specialty,
    now: datetime,
    home_tz: str,
    user_id: int,
    make_day: Callable[[date], CallbackData],
    back_row: list[InlineKeyboardButton],
    extra: Rows | None = None,
    *,
    join_waitlist: bool = False,
) -> Screen:
    free = await uow.directory.free_days(
        doctor.id, clinic.id, specialty.id, now, clinic.tz, for_user_id=user_id
    )
    cards = await uow.directory.doctors_in_clinic(clinic.id, specialty.id, now, for_user_id=user_id)
    nearest = next((c.nearest for c in cards if c.doctor.id == doctor.id), None)
    header = doctor_card(doctor, nearest, clinic.tz, home_tz) + f"\n🏥 {clinic.name}"
    if not free and extra is None:
        extra = nothing_free_rows()
    elif join_waitlist:
        extra = [*(extra or []), waitlist_row()]
    return calendar_screen(header, local_date(now, clinic.tz), free, make_day, back_row, extra)


def day_slots_screen(
    header: str,
    day: date,
    slots: list[Slot],
    tz: str,
    make_slot: Callable[[Slot], CallbackData],
    back_row: list[InlineKeyboardButton],
    page: int = 0,
    make_page: Callable[[int], CallbackData] | None = None,
) -> Screen:
    """A day's free times; when all share duration and type, the buttons show just the time."""
    chunk = paginate(slots, page, SLOTS_PER_PAGE)
    uniform = len({(s.minutes, s.kind) for s in slots}) <= 1
    rows: Rows = []
    per_row = 4 if uniform else 2
    line: list[InlineKeyboardButton] = []
    for slot in chunk.items:
        label = fmt_time(slot.start, tz)
        if not uniform:
            label = f"{label} · {kind_label(slot.kind)}"
        line.append(button(label, make_slot(slot)))
        if len(line) == per_row:
            rows.append(line)
            line = []
    rows.append(line)
    if make_page is not None:
        rows.append(pager_row(chunk.page, chunk.pages, make_page))
    rows.append(back_row)
    parts = [header, "", fmt_day(day)]
    if not slots:
        parts.append(_("No free time left on this day. Choose another day."))
    elif uniform:
        parts.append(
            _("Appointment: {minutes} min, {kind}. Choose a time.").format(
                minutes=slots[0].minutes, kind=kind_label(slots[0].kind)
            )
        )
    else:
        parts.append(_("Choose a time."))
    return "\n".join(parts), inline(rows)


async def earliest_screen(
    uow: SqlUnitOfWork,
    patient: Patient,
    clinic: Clinic,
    specialty: Specialty,
    now: datetime,
    user_id: int,
) -> Screen:
    """«Any doctor — earliest time»: the soonest free times of the specialty in the clinic."""
    found = await uow.directory.earliest_free(
        specialty.id,
        clinic.region_id,
        now,
        limit=PER_PAGE,
        clinic_id=clinic.id,
        for_user_id=user_id,
    )
    rows: Rows = []
    directory = uow.directory
    names: dict[int, str] = {}
    for slot in found:
        if slot.doctor_id not in names:
            doc = await directory.doctor(slot.doctor_id)
            names[slot.doctor_id] = doc.surname if doc else ""
        label = f"{alternative_button(slot, clinic.tz)} · {names[slot.doctor_id]}"
        rows.append([button(label, BkSlot(p=patient.id, t=slot.id))])
    rows += [waitlist_row()] if found else nothing_free_rows()
    rows.append(back("doctors"))
    text = _("{specialty}, {clinic}: the earliest free times of any doctor.").format(
        specialty=specialty_name(specialty), clinic=clinic.name
    )
    if not found:
        text += "\n\n" + nothing_free_text()
    return text, inline(rows)


def summary_screen(details: Details, home_tz: str, hold_minutes: int, slot_id: int) -> Screen:
    text = (
        _("Please check the booking:")
        + "\n\n"
        + details_text(details, home_tz)
        + "\n\n"
        + _("This time is held for you for {minutes} min. Press «Confirm» to book.").format(
            minutes=hold_minutes
        )
    )
    rows: Rows = [
        [
            button(_("Confirm"), BkConfirm(p=details.patient.id, t=slot_id)),
            button(_("Back"), BkBack(to="slots")),
        ]
    ]
    return text, inline(rows)


async def alternatives_rows(
    uow: SqlUnitOfWork,
    slot_ids: tuple[int, ...],
    make: Callable[[Slot], CallbackData],
) -> Rows:
    """«Это время уже заняли» → up to three nearest alternatives, each opening its summary."""
    rows: Rows = []
    directory = uow.directory
    for slot_id in slot_ids[:3]:
        slot = await directory.slot(slot_id)
        if slot is None:
            continue
        clinic = await directory.clinic(slot.clinic_id)
        doctor = await directory.doctor(slot.doctor_id)
        if clinic is None or doctor is None:
            continue
        label = f"{alternative_button(slot, clinic.tz)} · {doctor.surname}"
        rows.append([button(label, make(slot))])
    return rows


async def taken_screen(
    uow: SqlUnitOfWork,
    slot_ids: tuple[int, ...],
    make: Callable[[Slot], CallbackData],
    back_row: list[InlineKeyboardButton],
) -> Screen:
    """The slot was lost in a race (booking or a move): the nearest alternatives, if any,
    and the way back."""
    rows = await alternatives_rows(uow, slot_ids, make)
    text = _("This time has just been taken by someone else.") + "\n"
    text += _("The nearest free times:") if rows else _("There are no other free times nearby.")
    rows.append(back_row)
    return text, inline(rows)


def day_of(slot: Slot, tz: str) -> int:
    return day_code(local(slot.start, tz).date())
