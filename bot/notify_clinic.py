"""The clinic's changes to a visit, and a freed time offered from the wait list.

«The clinic has cancelled your appointment» (with the one-tap alternatives the
notifier loaded), «… has moved your appointment», and «A time you are waiting for
has become free». A module of its own: the notices with booking buttons that
answer a change the patient did not make, apart from the reminder and booking
notices of bot/notify_render.py.
"""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.notify_parts import (
    RenderContext,
    Rendered,
    Unrenderable,
    appointment_of,
    calendar_file,
    prep_text,
    visit_lines,
)
from domain.notifications import OutboxRow
from flows.ui.callbacks import ApCancel, ApMove
from flows.ui.format import clip_html, esc, fmt_short_day, fmt_time, fmt_when, local
from flows.ui.notify_callbacks import Rebook, WlOffer
from storage.repos.notify_context import VisitInfo


def alternative_label(v: VisitInfo) -> str:
    day = fmt_short_day(local(v.start, v.clinic_tz).date())
    surname = v.doctor_name.split(" ")[0]
    return f"{day} {fmt_time(v.start, v.clinic_tz)} · {surname}"


def render_clinic_cancelled(row: OutboxRow, ctx: RenderContext, locale: str) -> Rendered:
    v = appointment_of(row, ctx)
    lines = [_("❗ The clinic has cancelled your appointment:"), *visit_lines(v, ctx, locale)]
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
    return Rendered(clip_html("\n".join(lines)), markup, calendar_file(v, ctx, locale))


def render_clinic_moved(row: OutboxRow, ctx: RenderContext, locale: str) -> Rendered:
    new = appointment_of(row, ctx)
    old_ref = row.ref("old_appointment_id")
    old = ctx.appointments.get(old_ref) if old_ref is not None else None
    lines = [
        _("❗ The clinic has moved your appointment. New time:"),
        *visit_lines(new, ctx, locale),
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
    return Rendered(clip_html("\n".join(lines)), markup, calendar_file(new, ctx, locale))


def render_waitlist_offer(row: OutboxRow, ctx: RenderContext, locale: str) -> Rendered:
    entry = row.ref("entry_id")
    slot_id = row.ref("slot_id")
    v = ctx.slots.get(slot_id) if slot_id is not None else None
    until = ctx.offer_until.get(entry) if entry is not None else None
    if v is None or entry is None or slot_id is None or until is None:
        raise Unrenderable("offer withdrawn")
    lines = [_("🔔 A time you are waiting for has become free:"), *visit_lines(v, ctx, locale)]
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
    return Rendered(clip_html("\n".join(lines) + prep_text(v, locale)), markup)
