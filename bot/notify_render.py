"""Rendering a claimed outbox row into (text, keyboard) in the recipient's language.

Runs inside ``with i18n.context(), i18n.use_locale(loc)`` (the notifier sets
it), so ``_()`` and Babel dates speak the recipient's language; times are the
clinic's wall clock. Everything is read from ids at send time: a reminder
shows the appointment as it is now, not as it was when it was planned.

The notifier sends with the bot's default parse mode (HTML): every name,
address, reason and note goes through ``esc`` — an unescaped «врач < 1
ставки» made Telegram refuse the clinic's cancellation notice.
"""

from __future__ import annotations

import contextvars
import html
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot import notify_records
from domain.certificates import CertKind, CertStatus, certificate_number, kind_name
from domain.models import AppointmentStatus
from domain.notifications import SUPPORT_KINDS, Kind, OutboxRow
from flows.booking_common import load_details
from flows.ui.callbacks import ApCancel, ApMove
from flows.ui.docs_callbacks import CertAct
from flows.ui.files import VisitFile, files_for, visit_ics
from flows.ui.format import (
    Details,
    clip_html,
    esc,
    fmt_day,
    fmt_short_day,
    fmt_time,
    fmt_when,
    local,
)
from flows.ui.notify_callbacks import Rebook, RmCome, WlOffer
from storage.repos.notify_context import VisitInfo
from storage.uow import SqlUnitOfWork

# A reminder sent within this of its plan (visit − offset) says «через N ч».
ON_PLAN = timedelta(minutes=15)


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


def _visit_lines(v: VisitInfo, ctx: RenderContext, locale: str) -> list[str]:
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


@lru_cache(maxsize=64)
def _booked_frame(locale: str) -> tuple[str, str]:
    """The booking notice's constant head and tail in ``locale`` (as ``_number_line``)."""
    return (
        _("✅ You are booked:"),
        "\n\n"
        + _("We will remind you before the visit. Reminders can be switched off in «Profile»."),
    )


def _calendar(v: VisitInfo, ctx: RenderContext, locale: str) -> VisitFile | None:
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
        description=html.unescape("\n".join(_visit_lines(v, ctx, locale))),  # a file, not HTML
        stamp=ctx.now,
        cancelled=cancelled,
    )


def _prep(v: VisitInfo, locale: str) -> str:
    notes = v.prep(locale)
    return ("\n\n" + _("Preparation: {notes}").format(notes=esc(notes))) if notes else ""


def _appointment(row: OutboxRow, ctx: RenderContext, name: str = "appointment_id") -> VisitInfo:
    ref = row.ref(name)
    visit = ctx.appointments.get(ref) if ref is not None else None
    if visit is None:
        raise Unrenderable("appointment missing")
    return visit


def render(row: OutboxRow, ctx: RenderContext, locale: str) -> Rendered:
    if row.kind in SUPPORT_KINDS:  # «Поддержка» (issue 10): tickets and reviews
        from bot.support_render import render_support

        return render_support(row, ctx, locale)
    if row.kind == Kind.REMINDER:
        return _reminder(row, ctx, locale)
    if row.kind == Kind.BOOKED:
        v = _appointment(row, ctx)
        head, tail = _booked_frame(locale)
        return Rendered(clip_html("\n".join([head, *_visit_lines(v, ctx, locale)]) + tail))
    if row.kind == Kind.BOOKING_FILES:
        return _booking_files(row, ctx)
    if row.kind == Kind.CANCELLED_BY_CLINIC:
        return _clinic_cancelled(row, ctx, locale)
    if row.kind == Kind.MOVED_BY_CLINIC:
        return _clinic_moved(row, ctx, locale)
    if row.kind == Kind.WAITLIST_OFFER:
        return _waitlist_offer(row, ctx, locale)
    if row.kind in notify_records.KINDS:  # issue 9: family, visit results
        return notify_records.render_records(row, ctx, locale)  # type: ignore[return-value]
    if row.kind == Kind.CERTIFICATE_STATUS:  # «Справки» (flows/certificates.py)
        return _certificate_status(row, locale)
    raise Unrenderable(f"unknown kind {row.kind}")


def _ahead(v: VisitInfo, ctx: RenderContext, offset: int) -> str:
    """«через 2 ч» when sent on plan; the visit's real day and time when quiet hours (or a
    restart) moved the reminder — «через 2 ч» at 21:59 for an 08:00 visit would be false."""
    if abs(v.start - ctx.now - timedelta(minutes=offset)) > ON_PLAN:
        tz = v.clinic_tz
        day, today = local(v.start, tz).date(), local(ctx.now, tz).date()
        at = fmt_time(v.start, tz)
        if day == today:
            return _("today at {time}").format(time=at)
        if day == today + timedelta(days=1):
            return _("tomorrow at {time}").format(time=at)
        return _("on {day} at {time}").format(day=fmt_day(day), time=at)
    if offset >= 60 * 24 and offset % (60 * 24) == 0:  # «через 1 день», «in 2 days» (not «1 d»)
        days = offset // (60 * 24)
        return ngettext("in {n} day", "in {n} days", days).format(n=days)
    if offset >= 60:
        hours = round(offset / 60)
        return ngettext("in {n} hour", "in {n} hours", hours).format(n=hours)
    return ngettext("in {n} minute", "in {n} minutes", offset).format(n=offset)


def _reminder(row: OutboxRow, ctx: RenderContext, locale: str) -> Rendered:
    v = _appointment(row, ctx)
    offset = row.ref("offset_minutes") or 0
    ahead = _ahead(v, ctx, offset)
    head = _("⏰ Reminder: your doctor's appointment is {ahead}").format(ahead=ahead)
    text = "\n".join([head, *_visit_lines(v, ctx, locale)]) + _prep(v, locale)
    markup = None
    if offset == ctx.button_offset and v.appointment_id is not None:
        text += "\n\n" + _("Will you come? If not, please free the time for others.")
        a = v.appointment_id
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=_("I'll come"), callback_data=RmCome(appointment_id=a).pack()
                    )
                ],
                [
                    InlineKeyboardButton(text=_("Reschedule"), callback_data=ApMove(a=a).pack()),
                    InlineKeyboardButton(
                        text=_("Cancel visit"),
                        callback_data=ApCancel(appointment_id=a, step=0).pack(),
                    ),
                ],
            ]
        )
    return Rendered(clip_html(text), markup)


def alternative_label(v: VisitInfo) -> str:
    day = fmt_short_day(local(v.start, v.clinic_tz).date())
    surname = v.doctor_name.split(" ")[0]
    return f"{day} {fmt_time(v.start, v.clinic_tz)} · {surname}"


def _clinic_cancelled(row: OutboxRow, ctx: RenderContext, locale: str) -> Rendered:
    v = _appointment(row, ctx)
    lines = [_("❗ The clinic has cancelled your appointment:"), *_visit_lines(v, ctx, locale)]
    if v.cancel_reason:
        lines.append(_("Reason: {reason}").format(reason=esc(v.cancel_reason)))
    alternatives = ctx.alternatives.get(row.id, [])
    rows = []
    if alternatives and v.appointment_id is not None:
        lines += ["", _("The nearest free times — one tap books:")]
        for alt in alternatives:
            assert alt.slot_id is not None
            rows.append(
                [
                    InlineKeyboardButton(
                        text=alternative_label(alt),
                        callback_data=Rebook(
                            appointment_id=v.appointment_id, slot_id=alt.slot_id
                        ).pack(),
                    )
                ]
            )
    else:
        lines += ["", _("No free time nearby right now: book another time via «Book a doctor».")]
    markup = InlineKeyboardMarkup(inline_keyboard=rows) if rows else None
    return Rendered(clip_html("\n".join(lines)), markup, _calendar(v, ctx, locale))


def _clinic_moved(row: OutboxRow, ctx: RenderContext, locale: str) -> Rendered:
    new = _appointment(row, ctx)
    old_ref = row.ref("old_appointment_id")
    old = ctx.appointments.get(old_ref) if old_ref is not None else None
    lines = [
        _("❗ The clinic has moved your appointment. New time:"),
        *_visit_lines(new, ctx, locale),
    ]
    if old is not None:
        lines.append(_("Was: {when}").format(when=fmt_when(old.start, old.clinic_tz, ctx.home_tz)))
        if old.cancel_reason:
            lines.append(_("Reason: {reason}").format(reason=esc(old.cancel_reason)))
    lines += [
        "",
        _("If the new time does not suit you, cancel or reschedule in «My appointments»."),
    ]
    markup = None
    if new.appointment_id is not None:
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=_("Reschedule"), callback_data=ApMove(a=new.appointment_id).pack()
                    ),
                    InlineKeyboardButton(
                        text=_("Cancel visit"),
                        callback_data=ApCancel(appointment_id=new.appointment_id, step=0).pack(),
                    ),
                ]
            ]
        )
    return Rendered(clip_html("\n".join(lines)), markup, _calendar(new, ctx, locale))


def _waitlist_offer(row: OutboxRow, ctx: RenderContext, locale: str) -> Rendered:
    entry = row.ref("entry_id")
    slot_id = row.ref("slot_id")
    v = ctx.slots.get(slot_id) if slot_id is not None else None
    until = ctx.offer_until.get(entry) if entry is not None else None
    if v is None or entry is None or slot_id is None or until is None:
        raise Unrenderable("offer withdrawn")
    lines = [_("🔔 A time you are waiting for has become free:"), *_visit_lines(v, ctx, locale)]
    lines += [
        "",
        _("It is held for you until {time}.").format(time=fmt_time(until, v.clinic_tz)),
    ]
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("Book it"),
                    callback_data=WlOffer(entry_id=entry, slot_id=slot_id, go=1).pack(),
                ),
                InlineKeyboardButton(
                    text=_("Skip"),
                    callback_data=WlOffer(entry_id=entry, slot_id=slot_id, go=0).pack(),
                ),
            ]
        ]
    )
    return Rendered(clip_html("\n".join(lines) + _prep(v, locale)), markup)


# ---------------------------------------------------------------- certificates (issue 9.6)


def _certificate_status(row: OutboxRow, locale: str) -> Rendered:
    """A certificate request's new status. The payload holds codes only (no typed text):
    the clinic's question or reason is read by opening the request with the button."""
    request_id, clinic_id = row.ref("request_id"), row.ref("clinic_id")
    try:
        status = CertStatus(str(row.payload.get("status")))
        kind = CertKind(str(row.payload.get("kind")))
    except ValueError:
        raise Unrenderable("unknown certificate status or kind") from None
    if request_id is None or clinic_id is None:
        raise Unrenderable("certificate request missing")
    head = _("Certificate request № {number} ({kind})").format(
        number=certificate_number(clinic_id, request_id), kind=esc(kind_name(kind, locale))
    )
    if status is CertStatus.IN_REVIEW:
        text, label, action = _("📝 {head}: the clinic has taken it into review."), "", ""
    elif status is CertStatus.MORE_INFO:
        text = _("❓ {head}: the clinic needs more information. Open the request to answer.")
        label, action = _("Open the certificate request"), "show"
    elif status is CertStatus.READY:
        text = _(
            "✅ {head}: the certificate is ready. It stays in «Documents» → «My certificates»."
        )
        label, action = _("⬇️ Download PDF"), "pdf"
    elif status is CertStatus.REFUSED:
        text = _("❌ {head}: the clinic has refused it. Open the request to see the reason.")
        label, action = _("Open the certificate request"), "show"
    else:
        raise Unrenderable(f"no notice for status {status}")
    markup = None
    if action:
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=label,
                        callback_data=CertAct(action=action, request_id=request_id).pack(),
                    )
                ]
            ]
        )
    return Rendered(text.format(head=head), markup)


async def load_booking_files(uow: SqlUnitOfWork, rows: list[OutboxRow], ctx: RenderContext) -> None:
    """The visits of a batch's ``booking_files`` rows, as the chat flows show them."""
    for row in rows:
        ref = row.ref("appointment_id") if row.kind == Kind.BOOKING_FILES else None
        appointment = await uow.appointments.get(ref) if ref is not None else None
        if appointment is None:
            continue
        patient = await uow.appointments.get_patient(appointment.patient_id)
        details = await load_details(uow, patient, appointment=appointment) if patient else None
        if details is not None:
            ctx.visits[row.id] = details


def _booking_files(row: OutboxRow, ctx: RenderContext) -> Rendered:
    """The .ics and the PDF of a visit just booked in the chat (files_for, as «Мои записи»
    sends them), dated when it was booked. A visit no longer active gets nothing."""
    d = ctx.visits.get(row.id)
    if d is None or d.appointment is None or not d.appointment.status.active:
        raise Unrenderable("appointment missing or no longer active")
    stamp = d.appointment.created_at
    # Built later, off the event loop, in this rendering's language (its i18n context).
    context = contextvars.copy_context()
    return Rendered("", files=lambda: context.run(files_for, d, ctx.home_tz, stamp))
