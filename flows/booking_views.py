"""Screens of the booking wizard: pure renderers, (draft, loaded view) → (text, keyboard).

No I/O here: flows/wizard.py's loaders fetch what a step shows (once) into the
view dataclasses below, and the step table pairs each loader with its renderer.
One renderer serves the three wizards (a booking, the patient's reschedule, the
registrar's move); the mode of the draft decides the few words and the way
out that differ, so the screens look and behave alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import lru_cache

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from domain.models import Appointment, Patient, Slot, Specialty
from flows.booking_draft import BookingDraft, StepName
from flows.ui.calendar import calendar_rows, months_caption, window
from flows.ui.callbacks import (
    ApOpen,
    BkBack,
    BkClinic,
    BkClinicPage,
    BkConfirm,
    BkDay,
    BkDoctor,
    BkDoctorPage,
    BkJump,
    BkPatient,
    BkSlot,
    BkSpec,
    BkSpecPage,
    MvList,
    day_code,
)
from flows.ui.format import (
    alternative_button,
    clinic_card,
    current_locale,
    details_text,
    doctor_button,
    doctor_card,
    fmt_day,
    fmt_when,
    kind_label,
    specialty_name,
    time_text,
)
from flows.ui.i18n import gettext as _
from flows.ui.keyboards import button, rows_markup
from flows.ui.pager import pager_row, paginate
from flows.ui.review_callbacks import RvDoctor
from flows.ui.safe_callback import MAX_INT
from flows.wizard_loaders import (
    CalendarView,
    ClinicsView,
    DoctorsView,
    Looks,
    SlotsView,
    SpecialtiesView,
    SummaryView,
)

Screen = tuple[str, InlineKeyboardMarkup | None]
Row = list[InlineKeyboardButton]
REFERRAL_MARK = "📋"
ATTACHED_MARK = "⭐"
SLOTS_PER_PAGE = 24
MOVE_DOCTORS = 20  # the reschedule's «another doctor» list: one screen, no pager


def markup(rows: Sequence[Sequence[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    """The keyboard of non-empty rows (an absent pager is an empty row)."""
    return rows_markup(rows)


def back(to: StepName) -> Row:
    return [button(_("Back"), BkBack(to=to))]


def exit_row(draft: BookingDraft) -> Row:
    """The way out of a move's first screen: the visit's card, or the registrar's visit list."""
    if draft.mode == "staff":
        return [button(_("Back"), MvList())]
    return [button(_("Back"), ApOpen(appointment_id=draft.appointment_id or 0))]


def visit_header(visit: Appointment, doctor_name: str, tz: str, home_tz: str) -> str:
    """The registrar's move: which visit, and when it is now."""
    return _("Visit № {number}, {doctor}\nNow: {when}").format(
        number=visit.number, doctor=doctor_name, when=fmt_when(visit.start, tz, home_tz)
    )


# --------------------------------------------------------------------------- steps


def patients_screen(draft: BookingDraft, patients: list[Patient], looks: Looks) -> Screen:
    rows = [[button(p.full_name, BkPatient(patient_id=p.id))] for p in patients[:20]]
    return _("Who is the appointment for?"), markup(rows)


def specialties_screen(draft: BookingDraft, view: SpecialtiesView, looks: Looks) -> Screen:
    loc = current_locale()
    listed = _specialty_rows(tuple(view.specialties), draft.spec_page, loc)
    rows: list[Row] = [list(row) for row in listed]
    if draft.multi:
        rows.append(back("patient"))
    text = _("Patient: {patient}\nChoose a specialty. {mark} — by referral only.").format(
        patient=view.patient.full_name, mark=REFERRAL_MARK
    )
    return text, markup(rows)


@lru_cache(maxsize=256)
def _specialty_rows(
    specialties: tuple[Specialty, ...], page: int, loc: str
) -> tuple[tuple[InlineKeyboardButton, ...], ...]:
    """A page of the specialties (referral-only last, by name) and its pager, remembered:
    the same for everyone who opens it in that language (the specialties' every field
    is the key; nothing personal is in these buttons)."""
    ordered = sorted(specialties, key=lambda s: (s.referral_required, s.name(loc)))
    chunk = paginate(ordered, page)
    rows: list[Row] = []
    for spec in chunk.items:
        label = spec.name(loc) + (f" {REFERRAL_MARK}" if spec.referral_required else "")
        rows.append([button(label, BkSpec(specialty_id=spec.id))])
    rows.append(pager_row(chunk.page, chunk.pages, lambda n: BkSpecPage(page=n)))
    return tuple(tuple(row) for row in rows)


def clinics_screen(draft: BookingDraft, view: ClinicsView, looks: Looks) -> Screen:
    patient, query = view.patient, draft.query
    rows: list[Row] = []
    for clinic in view.clinics:
        mark = f"{ATTACHED_MARK} " if clinic.id == patient.attached_clinic_id else ""
        rows.append([button(f"{mark}{clinic.name}", BkClinic(clinic_id=clinic.id))])
    rows.append(pager_row(view.page, view.pages, lambda n: BkClinicPage(page=n)))
    if query:
        rows.append([button(_("Clear search"), BkJump(to="clinics"))])
    rows.append(back("specialty"))
    lines = [_("{specialty}: choose a clinic.").format(specialty=specialty_name(view.specialty))]
    if query:
        lines.append(_("Search «{query}»: {count} found.").format(query=query, count=view.total))
    else:
        lines.append(_("Clinics found: {count}.").format(count=view.total))
    if patient.attached_clinic_id is not None and not query:
        lines.append(_("{mark} — the clinic you are attached to.").format(mark=ATTACHED_MARK))
    if not view.total:
        lines.append(_("Nothing found. Try another word or clear the search."))
    lines.append(_("To search, type part of the clinic's name or address."))
    return "\n".join(lines), markup(rows)


def doctors_screen(draft: BookingDraft, view: DoctorsView, looks: Looks) -> Screen:
    clinic, cards = view.clinic, view.cards
    if draft.mode != "book":  # the reschedule's «another doctor of this specialty»
        rows = [
            [button(doctor_button(c.doctor, c.nearest, clinic.tz), BkDoctor(doctor_id=c.doctor.id))]
            for c in cards[:MOVE_DOCTORS]
        ]
        rows.append(back("day"))
        text = _("{specialty}, {clinic}: choose a doctor.").format(
            specialty=specialty_name(view.specialty), clinic=clinic.name
        )
        return text, markup(rows)
    chunk = paginate(cards, draft.doctor_page)
    parts = [
        clinic_card(clinic),
        "",
        _("{specialty}:").format(specialty=specialty_name(view.specialty)),
    ]
    rows = []
    for card in chunk.items:
        parts += [doctor_card(card.doctor, card.nearest, clinic.tz, looks.home_tz), ""]
        label = doctor_button(card.doctor, card.nearest, clinic.tz)
        rows.append([button(label, BkDoctor(doctor_id=card.doctor.id))])
    rows.append(pager_row(chunk.page, chunk.pages, lambda n: BkDoctorPage(page=n)))
    if any(card.nearest is not None for card in cards):
        rows.insert(0, [button(_("Any doctor — earliest time"), BkDoctor(doctor_id=0))])
    else:
        parts.append(nothing_free_text())
        rows += nothing_free_rows()
    rows.append(back("clinic"))
    return "\n".join(parts).strip(), markup(rows)


def calendar_screen(draft: BookingDraft, view: CalendarView, looks: Looks) -> Screen:
    """The two-week calendar of one doctor (or «any doctor»'s earliest times)."""
    if view.doctor is None:
        return _earliest_screen(draft, view)
    doctor, clinic = view.doctor, view.clinic
    header = doctor_card(doctor, view.nearest, clinic.tz, looks.home_tz) + f"\n🏥 {clinic.name}"
    extra: list[Row] = []
    back_row = back("doctor")
    if draft.mode == "book":
        extra = nothing_free_rows() if not view.free else [waitlist_row()]
        if doctor.rating_count:  # what patients wrote, in a message of its own
            extra.append([button(_("Reviews"), RvDoctor(doctor_id=doctor.id))])
    elif draft.mode == "move":
        extra = [[button(_("Another doctor of this specialty"), BkJump(to="doctors"))]]
        if draft.doctor_id == draft.origin_doctor_id:
            back_row = exit_row(draft)
    else:
        back_row = exit_row(draft)
    if draft.mode == "staff" and view.moving is not None:
        header = visit_header(view.moving, doctor.full_name, clinic.tz, looks.home_tz)
        header += "\n\n" + _("Choose the new day:")
    text, rows = _calendar(header, view.today, list(view.free), doctor.id, extra, back_row)
    if draft.mode == "move" and view.moving is not None:
        intro = _("Moving № {number} ({when}). Choose a new time.").format(
            number=view.moving.number, when=fmt_when(view.moving.start, clinic.tz, looks.home_tz)
        )
        text = f"{intro}\n\n{text}"
    return text, markup(rows)


def _calendar(
    header: str, today: date, free: list[date], doctor_id: int, extra: list[Row], back_row: Row
) -> tuple[str, list[Row]]:
    """Pressable days have free time; «·N» days only explain."""
    loc = current_locale()
    grid, months = _calendar_grid(today, tuple(free), doctor_id, loc)
    rows = [*(list(row) for row in grid), *extra, back_row]
    text = f"{header}\n\n" + _(
        "Choose a day ({months}). Days marked «·» have no free time."
    ).format(months=months)
    if not free:
        text = f"{header}\n\n" + nothing_free_text()
    return text, rows


@lru_cache(maxsize=2048)
def _calendar_grid(
    today: date, free: tuple[date, ...], doctor_id: int, loc: str
) -> tuple[tuple[tuple[InlineKeyboardButton, ...], ...], str]:
    """A doctor's two weeks (the weekday header and the day buttons) and the months they
    span, remembered: they depend on nothing else, and everyone looking at the same
    doctor's same free days on the same day sees the same (the buttons are the shared
    ones, flows/ui/keyboards.py ``shared_button``; the rows are copied for each screen).
    """
    days = window(today)

    def make(day: date) -> str:
        return BkDay.packed(doctor_id=doctor_id, day=day_code(day))

    rows = calendar_rows(days, free, make, loc)
    return tuple(tuple(row) for row in rows), months_caption(days, loc)


def _earliest_screen(draft: BookingDraft, view: CalendarView) -> Screen:
    """«Any doctor — earliest time»: the soonest free times of the specialty in the clinic."""
    patient_id = draft.patient_id or 0
    rows: list[Row] = []
    for slot, surname in view.earliest:
        label = f"{alternative_button(slot, view.clinic.tz)} · {surname}"
        rows.append([button(label, BkSlot(patient_id=patient_id, slot_id=slot.id))])
    rows += [waitlist_row()] if view.earliest else nothing_free_rows()
    rows.append(back("doctor"))
    text = _("{specialty}, {clinic}: the earliest free times of any doctor.").format(
        specialty=specialty_name(view.specialty), clinic=view.clinic.name
    )
    if not view.earliest:
        text += "\n\n" + nothing_free_text()
    return text, markup(rows)


def slots_screen(draft: BookingDraft, view: SlotsView, looks: Looks) -> Screen:
    """A day's free times; when all share duration and type, the buttons show just the time."""
    doctor, clinic, day, slots = view.doctor, view.clinic, view.day, view.slots
    header = f"{doctor.full_name}\n🏥 {clinic.name}"
    if draft.mode == "staff" and view.moving is not None:
        header = visit_header(view.moving, doctor.full_name, clinic.tz, looks.home_tz)
    chunk = paginate(slots, draft.slot_page, SLOTS_PER_PAGE)
    uniform = len({(s.minutes, s.kind) for s in slots}) <= 1
    per_row = 4 if uniform else 2
    patient_id = draft.patient_id or 0
    rows: list[Row] = [[]]
    loc, tz = current_locale(), clinic.tz
    head = _slot_head(patient_id)
    for slot in chunk.items:
        label = time_text(slot.start, tz, loc)  # fmt_time with the locale known
        if not uniform:
            label = f"{label} · {kind_label(slot.kind)}"
        if len(rows[-1]) == per_row:
            rows.append([])
        slot_id = slot.id
        if slot_id.__class__ is int and 0 <= slot_id <= MAX_INT:
            data = head + str(slot_id)
        else:
            data = BkSlot.packed(patient_id=patient_id, slot_id=slot_id)
        rows[-1].append(button(label, data))
    code = day_code(day)
    rows.append(
        pager_row(chunk.page, chunk.pages, lambda n: BkDay(doctor_id=doctor.id, day=code, page=n))
    )
    rows.append(back("day"))
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
    return "\n".join(parts), markup(rows)


def _slot_head(patient_id: int) -> str:
    """``BkSlot.packed(patient_id=…, slot_id=…)`` up to the slot's id («bt:<patient>:»):
    packed (and checked) once a screen instead of once a time button — the slot id is the
    last field, an exact int in range packs as its digits (tests/unit/test_calendar.py
    compares both for every kind of value)."""
    packed = BkSlot.packed(patient_id=patient_id, slot_id=0)
    assert packed.endswith(":0")
    return packed[:-1]


def reason_screen(draft: BookingDraft, view: None, looks: Looks) -> Screen:
    """The registrar's move: the reason is typed (flows/staff_move.py takes it)."""
    return _("Type the reason the patient will see, for example: «врач на учёбе»."), None


def summary_screen(draft: BookingDraft, view: SummaryView, looks: Looks) -> Screen:
    details, moving = view.details, view.moving
    slot_id = draft.slot_id or 0
    confirm = button(_("Confirm"), BkConfirm(patient_id=details.patient.id, slot_id=slot_id))
    if draft.mode == "staff" and moving is not None:
        tz = details.clinic.tz
        text = visit_header(moving, details.doctor.full_name, tz, looks.home_tz) + "\n"
        text += _("New: {when}\nReason: {reason}\nThe patient will be told at once.").format(
            when=fmt_when(details.start, tz, looks.home_tz), reason=draft.reason or ""
        )
        return text, markup([[confirm], back("slot")])
    held = details_text(details, looks.home_tz)
    if draft.mode == "move" and moving is not None:
        old = fmt_when(moving.start, details.clinic.tz, looks.home_tz)
        text = _("Move the appointment № {number} from {old}?").format(
            number=moving.number, old=old
        )
        text += "\n\n" + _("New time:") + "\n" + held + "\n\n"
    else:
        text = _("Please check the booking:") + "\n\n" + held + "\n\n"
    text += hold_line(draft.mode, looks.hold_minutes)
    return text, markup([[confirm, *back("slot")]])


def hold_line(mode: str, minutes: int) -> str:
    """The summary's last line; taken off the summary once «Подтвердить» is done
    (flows/ui/reply.py close_summary): «держим 5 мин» under a made booking was false."""
    if mode == "move":
        return _("This time is held for you for {minutes} min. Press «Confirm» to move.").format(
            minutes=minutes
        )
    return _("This time is held for you for {minutes} min. Press «Confirm» to book.").format(
        minutes=minutes
    )


# --------------------------------------------------------------------------- not steps


def nothing_free_text() -> str:
    return _(
        "There is no free time with this specialty here in the next two weeks. "
        "Try another clinic or doctor."
    )


def nothing_free_rows() -> list[Row]:
    return [[button(_("Other clinics"), BkBack(to="clinic"))], waitlist_row()]


def waitlist_row() -> Row:
    """«Встать в лист ожидания»: also beside free time, for a patient who wants an earlier
    time (or another time of day) than what is free now."""
    return [button(_("Join the wait list"), BkJump(to="waitlist"))]


def taken_screen(
    draft: BookingDraft, patient_id: int, alternatives: list[tuple[Slot, str, str]]
) -> Screen:
    """The slot was lost in a race (booking or a move): up to three nearest alternatives
    (slot, clinic zone, doctor's surname), each opening its summary, and the way back."""
    rows: list[Row] = []
    for slot, tz, surname in alternatives[:3]:
        label = f"{alternative_button(slot, tz)} · {surname}"
        rows.append([button(label, BkSlot(patient_id=patient_id, slot_id=slot.id))])
    text = _("This time has just been taken by someone else.") + "\n"
    text += _("The nearest free times:") if rows else _("There are no other free times nearby.")
    rows.append(back("day"))
    return text, markup(rows)
