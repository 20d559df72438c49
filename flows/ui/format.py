"""How booking objects read in a chat: dates and times in the clinic's zone (Babel),
doctor and clinic cards, appointment details and statuses (the .ics/PDF files are
built in flows/ui/files.py).

Everything here runs inside an update (or an explicit i18n context): labels
go through ``_()``, dates through Babel with the current locale. Times are
always the clinic's wall-clock time; the zone is named when it differs from
the patient's home zone (the bot's default zone), so «10:30» is never
ambiguous for a Muscovite booking in Novosibirsk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import get_i18n
from aiogram.utils.text_decorations import html_decoration
from babel.dates import format_date, get_timezone_location

from domain.models import Appointment, AppointmentStatus, Clinic, Doctor, Patient, Slot, Specialty
from flows.ui.directory_text import hours_text, qualification_text
from flows.ui.i18n import current_locale as update_locale
from flows.ui.i18n import gettext as _
from flows.ui.i18n import ngettext

TELEGRAM_TEXT_LIMIT = 4096


def current_locale() -> str:
    found = update_locale()
    if found is not None:
        return found
    try:
        return get_i18n().current_locale
    except LookupError:
        return "ru"


def local(moment: datetime, tz: str) -> datetime:
    return moment.astimezone(ZoneInfo(tz))


# Babel parses the pattern and looks the locale's data up on every call (~20 µs): a
# wizard screen formats a time per slot button and a date per day. The texts depend
# only on the arguments (an instant, a zone name, a locale), so they are remembered.
@lru_cache(maxsize=4096)
def date_text(day: date, pattern: str, loc: str) -> str:
    """Babel's ``format_date(day, pattern, locale=loc)``, remembered."""
    return format_date(day, pattern, locale=loc)


@lru_cache(maxsize=4096)
def _time_text(moment: datetime, tz: str, loc: str) -> str:
    # Babel's "HH:mm" is the 24-hour clock in ASCII digits in every locale (its date
    # formatter pads numbers with "%0*d"), so it is written here without Babel: a
    # slot's time is new on most screens (tests/unit/test_calendar.py compares both).
    clock = local(moment, tz)
    return f"{clock.hour:02d}:{clock.minute:02d}"


@lru_cache(maxsize=256)
def _city(tz: str, loc: str) -> str:
    return str(get_timezone_location(ZoneInfo(tz), locale=loc, return_city=True))


def fmt_day(day: date, loc: str | None = None) -> str:
    """«чт, 3 декабря 2026» / «Thu, 3 December 2026»."""
    return date_text(day, "EEE, d MMMM y", loc or current_locale())


def fmt_short_day(day: date, loc: str | None = None) -> str:
    """«3 дек.» / «3 Dec» — for buttons."""
    return date_text(day, "d MMM", loc or current_locale())


# The remembered «HH:mm» for a caller that has the locale already (a day's time buttons).
time_text = _time_text


def fmt_time(moment: datetime, tz: str, loc: str | None = None) -> str:
    """«09:30» in the clinic's zone (``loc``: the caller's locale, looked up once a screen)."""
    return _time_text(moment, tz, loc or current_locale())


def utc_offset(moment: datetime, tz: str) -> str:
    """«UTC+7», «UTC+3», «UTC+5:30»."""
    offset = local(moment, tz).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def zone_note(moment: datetime, tz: str, home_tz: str) -> str:
    """«» when the clinic is in the home zone, else «(время: Новосибирск, UTC+7)»."""
    if tz == home_tz:
        return ""
    city = _city(tz, current_locale())
    return _("(local time: {city}, {offset})").format(city=city, offset=utc_offset(moment, tz))


def fmt_when(moment: datetime, tz: str, home_tz: str) -> str:
    """«чт, 3 декабря 2026, 10:30 (время: Новосибирск, UTC+7)»."""
    text = f"{fmt_day(local(moment, tz).date())}, {fmt_time(moment, tz)}"
    note = zone_note(moment, tz, home_tz)
    return f"{text} {note}" if note else text


def kind_label(kind: str) -> str:
    return _kind_labels(current_locale()).get(kind, kind)


@lru_cache(maxsize=32)
def _kind_labels(loc: str) -> dict[str, str]:
    """The visit types in the locale ``loc`` (the update's: translated in it), remembered.
    Read-only: callers only look a kind up."""
    return {
        "consultation": _("consultation"),
        "examination": _("examination"),
        "procedure": _("procedure"),
    }


def status_label(appointment: Appointment, now: datetime | None = None) -> str:
    """Status in words; a cancellation says who cancelled and why. With ``now``: a visit
    whose time is over but that the clinic has not marked yet says so, not «awaiting»."""
    status = appointment.status
    if (
        now is not None
        and status.active
        and appointment.start + timedelta(minutes=appointment.minutes) <= now
    ):
        return _("the time is over; the clinic has not marked the visit yet")
    if status is AppointmentStatus.CANCELLED:
        who = {
            "patient": _("by you"),
            "clinic": _("by the clinic"),
            "system": _("automatically"),
        }.get(appointment.cancelled_by or "", "")
        text = _("cancelled {who}").format(who=who).strip()
        if appointment.cancel_reason:
            text += _(": {reason}").format(reason=appointment.cancel_reason)
        return text
    # (Only the status's own words are translated: a confirmation shows one of five.)
    if status is AppointmentStatus.PENDING:
        return _("booked, awaiting your visit")
    if status is AppointmentStatus.CONFIRMED:
        return _("confirmed")
    if status is AppointmentStatus.RESCHEDULED:
        return _("rescheduled")
    if status is AppointmentStatus.COMPLETED:
        return _("visit took place")
    if status is AppointmentStatus.NO_SHOW:
        return _("missed (no-show)")
    raise KeyError(status)


def specialty_name(specialty: Specialty) -> str:
    return specialty.name(current_locale())


def preparation(specialty: Specialty) -> str:
    return specialty.prep_en if current_locale() == "en" else specialty.prep_ru


def rating_text(value: float | None) -> str:
    return f"★ {value:.1f}" if value else _("no rating yet")


def clinic_card(clinic: Clinic) -> str:
    """Name, address, phone, hours, rating — the clinic card of SPEC §2."""
    lines = [f"🏥 {clinic.name}", f"📍 {clinic.address}"]
    if clinic.phone:
        lines.append(f"☎ {clinic.phone}")
    if clinic.hours:
        lines.append(_("Hours: {hours}").format(hours=hours_text(clinic.hours)))
    lines.append(_("Rating: {rating}").format(rating=rating_text(clinic.rating or None)))
    return "\n".join(lines)


def doctor_card(doctor: Doctor, nearest: Slot | None, tz: str, home_tz: str) -> str:
    """Qualification, experience, rating and the nearest free time."""
    start = None if nearest is None else nearest.start
    return _doctor_card(doctor, start, tz, home_tz, current_locale())


# Remembered: the text depends only on these (the doctor's own fields, the rating among
# them; the nearest time; the zones; the locale it is said in), and a clinic's doctors
# and each doctor's calendar show the same cards to everyone choosing there.
@lru_cache(maxsize=4096)
def _doctor_card(
    doctor: Doctor, start: datetime | None, tz: str, home_tz: str, loc: str | None
) -> str:
    lines = [f"🩺 {doctor.full_name}"]
    facts = []
    if doctor.qualification:
        facts.append(qualification_text(doctor.qualification))
    years = doctor.experience_years
    facts.append(
        ngettext("{years} year of experience", "{years} years of experience", years).format(
            years=years
        )
    )
    rating = rating_text(doctor.rating)
    if doctor.rating_count:  # the patients' reviews (flows/reviews.py) make the average
        rating += " " + ngettext(
            "({count} review)", "({count} reviews)", doctor.rating_count
        ).format(count=doctor.rating_count)
    facts.append(rating)
    lines.append(" · ".join(facts))
    if start is not None:
        lines.append(_("Nearest free time: {when}").format(when=fmt_when(start, tz, home_tz)))
    else:
        lines.append(_("No free time in the next two weeks"))
    return "\n".join(lines)


def short_doctor_name(doctor: Doctor) -> str:
    """«Петрова А. С.» for buttons."""
    initials = " ".join(f"{p[0]}." for p in (doctor.name, doctor.patronymic) if p)
    return f"{doctor.surname} {initials}".strip()


def doctor_button(doctor: Doctor, nearest: Slot | None, tz: str) -> str:
    start = None if nearest is None else nearest.start
    return _doctor_button(
        doctor.surname, doctor.name, doctor.patronymic, start, tz, current_locale()
    )


@lru_cache(maxsize=4096)  # (as _doctor_card: the text depends only on these)
def _doctor_button(
    surname: str, name: str, patronymic: str, start: datetime | None, tz: str, loc: str | None
) -> str:
    short = short_doctor_name(Doctor(0, surname, name, patronymic, "", 0))
    if start is None:
        return _("{doctor} — no free time").format(doctor=short)
    when = f"{fmt_short_day(local(start, tz).date(), loc)} {fmt_time(start, tz, loc)}"
    return f"{short} · {when}"


def slot_button(slot: Slot, tz: str) -> str:
    """«10:30 · 20 мин · консультация»."""
    return _("{time} · {minutes} min · {kind}").format(
        time=fmt_time(slot.start, tz), minutes=slot.minutes, kind=kind_label(slot.kind)
    )


def alternative_button(slot: Slot, tz: str) -> str:
    """An alternative offered after «уже заняли»: the day as well as the time."""
    return f"{fmt_short_day(local(slot.start, tz).date())} {fmt_time(slot.start, tz)}"


@dataclass(frozen=True, slots=True)
class Details:
    """Everything a summary, a confirmation or a document shows about one visit."""

    patient: Patient
    doctor: Doctor
    clinic: Clinic
    specialty: Specialty
    start: datetime
    minutes: int
    kind: str
    number: str | None = None
    appointment: Appointment | None = None


@lru_cache(maxsize=32)
def _detail_labels(loc: str) -> tuple[str, ...]:
    """``details_rows``' labels in the locale ``loc`` (the update's: the words are
    translated in it), remembered: a summary and a confirmation say a dozen of them."""
    return (
        _("Appointment number"),
        _("Patient"),
        _("Doctor"),
        _("Clinic"),
        _("Address"),
        _("Date"),
        _("Time"),
        _("Duration"),
        _("Type"),
        _("Clinic phone"),
        _("Status"),
        _("{minutes} min"),
    )


def details_rows(d: Details, home_tz: str) -> list[tuple[str, str]]:
    loc = current_locale()
    number, patient, doctor, clinic, address, day, time, duration, kind, phone, status, mins = (
        _detail_labels(loc)
    )
    tz = d.clinic.tz
    rows = []
    if d.number:
        rows.append((number, d.number))
    rows += [
        (patient, d.patient.full_name),
        (doctor, f"{d.doctor.full_name} ({d.specialty.name(loc)})"),
        (clinic, d.clinic.name),
        (address, d.clinic.address),
        (day, fmt_day(local(d.start, tz).date(), loc)),
        (
            time,
            " ".join(p for p in (fmt_time(d.start, tz, loc), zone_note(d.start, tz, home_tz)) if p),
        ),
        (duration, mins.format(minutes=d.minutes)),
        (kind, kind_label(d.kind)),
    ]
    if d.clinic.phone:
        rows.append((phone, d.clinic.phone))
    if d.appointment is not None:
        rows.append((status, status_label(d.appointment)))
    return rows


def details_text(d: Details, home_tz: str) -> str:
    text = "\n".join(f"{label}: {value}" for label, value in details_rows(d, home_tz))
    prep = preparation(d.specialty)
    if prep:
        text += "\n\n" + _("Preparation: {notes}").format(notes=prep)
    return text


def clip(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> str:
    """Never send more than Telegram takes; a clipped text says so with «…»."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def esc(text: str) -> str:
    """Typed or directory text (names, reasons, addresses) inside an HTML-parsed message.

    The bot's default parse mode is HTML: an unescaped «врач < 1 ставки» or
    «</code>» makes Telegram refuse the whole message. Screens sent with
    ``parse_mode=None`` (booking_common.show) must not use this.
    """
    return html_decoration.quote(text)


def clip_html(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> str:
    """``clip`` for escaped text: never cut an entity such as ``&lt;`` in half."""
    if len(text) <= limit:
        return text
    return _PARTIAL_ENTITY.sub("", text[: limit - 1]) + "…"


_PARTIAL_ENTITY = re.compile(r"&[#a-zA-Z0-9]*$")
