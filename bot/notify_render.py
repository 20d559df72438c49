"""Rendering a claimed outbox row into (text, keyboard) in the recipient's language.

Runs inside ``with i18n.context(), i18n.use_locale(loc)`` (the notifier sets
it), so ``_()`` and Babel dates speak the recipient's language; times are the
clinic's wall clock. Everything is read from ids at send time: a reminder
shows the appointment as it is now, not as it was when it was planned.

The notifier sends with the bot's default parse mode (HTML): every name,
address, reason and note goes through ``esc`` — an unescaped «врач < 1
ставки» made Telegram refuse the clinic's cancellation notice.

Each kind's text is built from bot/notify_parts.py's blocks; the clinic's
changes and wait-list offers are bot/notify_clinic.py's, certificate statuses
bot/notify_certs.py's, issue 9's bot/notify_records.py's and support's
bot/support_render.py's; this module dispatches and renders the booking and
reminder notices.
"""

from __future__ import annotations

import contextvars
from datetime import timedelta
from functools import lru_cache

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot import notify_records
from bot.notify_certs import render_certificate_status
from bot.notify_clinic import render_clinic_cancelled, render_clinic_moved, render_waitlist_offer
from bot.notify_parts import (
    RenderContext,
    Rendered,
    Unrenderable,
    appointment_of,
    prep_text,
    visit_lines,
)
from domain.notifications import SUPPORT_KINDS, Kind, OutboxRow
from flows.booking_common import load_details
from flows.ui.callbacks import ApCancel, ApMove
from flows.ui.files import files_for
from flows.ui.format import clip_html, fmt_day, fmt_time, local
from flows.ui.notify_callbacks import RmCome
from storage.repos.notify_context import VisitInfo
from storage.uow import SqlUnitOfWork

# A reminder sent within this of its plan (visit − offset) says «через N ч».
ON_PLAN = timedelta(minutes=15)


@lru_cache(maxsize=64)
def _booked_frame(locale: str) -> tuple[str, str]:
    """The booking notice's constant head and tail in ``locale`` (cached per language,
    as bot/notify_parts.py ``_number_line``)."""
    return (
        _("✅ You are booked:"),
        "\n\n"
        + _("We will remind you before the visit. Reminders can be switched off in «Profile»."),
    )


def render(row: OutboxRow, ctx: RenderContext, locale: str) -> Rendered:
    if row.kind in SUPPORT_KINDS:  # «Поддержка» (issue 10): tickets and reviews
        from bot.support_render import render_support

        return render_support(row, ctx, locale)
    if row.kind == Kind.REMINDER:
        return _reminder(row, ctx, locale)
    if row.kind == Kind.BOOKED:
        v = appointment_of(row, ctx)
        head, tail = _booked_frame(locale)
        return Rendered(clip_html("\n".join([head, *visit_lines(v, ctx, locale)]) + tail))
    if row.kind == Kind.BOOKING_FILES:
        return _booking_files(row, ctx)
    if row.kind == Kind.CANCELLED_BY_CLINIC:
        return render_clinic_cancelled(row, ctx, locale)
    if row.kind == Kind.MOVED_BY_CLINIC:
        return render_clinic_moved(row, ctx, locale)
    if row.kind == Kind.WAITLIST_OFFER:
        return render_waitlist_offer(row, ctx, locale)
    if row.kind in notify_records.KINDS:  # issue 9: family, visit results
        return notify_records.render_records(row, ctx, locale)  # type: ignore[return-value]
    if row.kind == Kind.CERTIFICATE_STATUS:  # «Справки» (flows/certificates.py)
        return render_certificate_status(row, locale)
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
    v = appointment_of(row, ctx)
    offset = row.ref("offset_minutes") or 0
    ahead = _ahead(v, ctx, offset)
    head = _("⏰ Reminder: your doctor's appointment is {ahead}").format(ahead=ahead)
    text = "\n".join([head, *visit_lines(v, ctx, locale)]) + prep_text(v, locale)
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
