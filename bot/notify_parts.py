"""The building blocks every outbox notice is rendered from, and its result types.

``RenderContext`` (what a batch loaded), ``Rendered`` / ``Unrenderable`` (the
outcome), and the visit's lines, calendar file and preparation notes that the
booking, reminder, clinic, wait-list and records notices share. A module of its
own so each kind's renderer (bot/notify_render.py, bot/notify_clinic.py,
bot/notify_certs.py, bot/notify_records.py, bot/support_render.py) imports them
without importing one another. Runs in the recipient's i18n context; every
name, address and note goes through ``esc`` (HTML parse mode).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from domain.models import AppointmentStatus
from domain.notifications import OutboxRow
from flows.ui.files import VisitFile, visit_ics
from flows.ui.format import Details, esc, fmt_when
from storage.repos.notify_context import VisitInfo


@dataclass
class RenderContext:
    """What a batch needs, loaded in a few queries before rendering."""

    home_tz: str
    now: datetime
    button_offset: (
        int  # the reminder offset (minutes) that carries «Приду» / «Перенести» / «Отменить»
    )
    appointments: dict[int, VisitInfo] = field(default_factory=dict)
    slots: dict[int, VisitInfo] = field(default_factory=dict)
    alternatives: dict[int, list[VisitInfo]] = field(default_factory=dict)  # by row id
    offer_until: dict[int, datetime] = field(default_factory=dict)  # by entry id
    visits: dict[int, Details] = field(default_factory=dict)  # booking_files rows, by row id
    # A relative request: the full name of the account that asks, by row id (the asked
    # person must know who would see their visits before they allow it).
    requesters: dict[int, str] = field(default_factory=dict)


class Unrenderable(Exception):
    """The row's objects are gone or changed: it is cancelled with this reason."""


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    markup: InlineKeyboardMarkup | None = None
    document: VisitFile | None = None  # the visit's .ics, sent just before the text
    # booking_files: builds the documents (in a worker thread: the PDF is ~40 ms of CPU);
    # such a row has no text of its own.
    files: Callable[[], list[VisitFile]] | None = None


@lru_cache(maxsize=4096)
def _when(start: datetime, tz: str, home_tz: str, locale: str) -> str:
    """Babel formatting is the costliest step of rendering; a batch repeats the same times.

    ``locale`` is part of the key (the translation comes from the caller's i18n context)."""
    return _("🗓 {when}").format(when=fmt_when(start, tz, home_tz))


@lru_cache(maxsize=4096)
def _place(specialty: str, doctor: str, clinic: str, address: str, locale: str) -> tuple[str, str]:
    """The doctor and clinic lines: a batch of thousands names a handful of places, so
    they are translated and escaped once per place and language, not once per row."""
    return (
        _("👩‍⚕️ {specialty} — {doctor}").format(specialty=esc(specialty), doctor=esc(doctor)),
        _("🏥 {clinic}, {address}").format(clinic=esc(clinic), address=esc(address)),
    )


def visit_lines(v: VisitInfo, ctx: RenderContext, locale: str) -> list[str]:
    lines = [
        _when(v.start, v.clinic_tz, ctx.home_tz, locale),
        *_place(v.specialty(locale), v.doctor_name, v.clinic_name, v.clinic_address, locale),
    ]
    if v.patient_name and v.patient_relation != "self":
        lines.append(_("Patient: {name}").format(name=esc(v.patient_name)))
    if v.number:
        lines.append(_number_line(locale).format(number=esc(v.number)))
    return lines


@lru_cache(maxsize=64)
def _number_line(locale: str) -> str:
    """Constant per language (``locale`` is the key; the translation comes from the
    caller's i18n context, as for ``_when``): one gettext per language, not per row."""
    return _("Appointment number: {number}")


def calendar_file(v: VisitInfo, ctx: RenderContext, locale: str) -> VisitFile | None:
    """The visit's calendar event as it stands now: the moved visit published again
    (same UID, higher SEQUENCE), a cancelled one withdrawn (METHOD:CANCEL)."""
    cancelled = v.status is AppointmentStatus.CANCELLED
    if v.appointment_id is None or v.status is None or not (v.status.active or cancelled):
        return None
    return visit_ics(
        number=v.number,
        uid=v.calendar_uid,
        sequence=v.calendar_seq,
        start=v.start,
        minutes=v.minutes,
        tz=v.clinic_tz,
        specialty=v.specialty(locale),
        doctor=v.doctor_name,
        clinic_id=v.clinic_id,
        clinic_name=v.clinic_name,
        address=v.clinic_address,
        description=html.unescape("\n".join(visit_lines(v, ctx, locale))),  # a file, not HTML
        stamp=ctx.now,
        cancelled=cancelled,
    )


def prep_text(v: VisitInfo, locale: str) -> str:
    notes = v.prep(locale)
    return ("\n\n" + _("Preparation: {notes}").format(notes=esc(notes))) if notes else ""


def appointment_of(row: OutboxRow, ctx: RenderContext, name: str = "appointment_id") -> VisitInfo:
    ref = row.ref(name)
    visit = ctx.appointments.get(ref) if ref is not None else None
    if visit is None:
        raise Unrenderable("appointment missing")
    return visit
