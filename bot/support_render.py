"""Outbox rows of «Поддержка» (issue 10) rendered for the notifier: ids in, text out.

A ticket answer says that there is one and opens the thread with a button (the
text itself is personal data: it is read, decrypted, when the patient opens
it). A review ask names the visit and carries the five scores.
"""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.notify_parts import RenderContext, Rendered, Unrenderable
from domain.notifications import REVIEW_ASK, TICKET_ANSWERED, OutboxRow
from flows.ui.format import esc, fmt_when
from flows.ui.review_callbacks import RvRate
from flows.ui.support_callbacks import TkOpen


def render_support(row: OutboxRow, ctx: RenderContext, locale: str) -> Rendered:
    if row.kind == TICKET_ANSWERED:
        ticket_id = row.ref("ticket_id")
        if ticket_id is None:
            raise Unrenderable("ticket missing")
        text = _("💬 Support has answered your request № {id}.").format(id=ticket_id)
        button = InlineKeyboardButton(
            text=_("Open the request"), callback_data=TkOpen(ticket_id=ticket_id).pack()
        )
        return Rendered(text, InlineKeyboardMarkup(inline_keyboard=[[button]]))
    if row.kind == REVIEW_ASK:
        ref = row.ref("appointment_id")
        visit = ctx.appointments.get(ref) if ref is not None else None
        if visit is None or visit.appointment_id is None:
            raise Unrenderable("appointment missing")
        text = _(
            "How was your visit to {doctor} ({specialty}) on {when}? Rate the doctor from 1 to 5: "
            "it helps other patients choose."
        ).format(
            doctor=esc(visit.doctor_name),
            specialty=esc(visit.specialty(locale)),
            when=fmt_when(visit.start, visit.clinic_tz, ctx.home_tz),
        )
        stars = [
            InlineKeyboardButton(
                text=f"{score}★",
                callback_data=RvRate(appointment_id=visit.appointment_id, score=score).pack(),
            )
            for score in range(1, 6)
        ]
        return Rendered(text, InlineKeyboardMarkup(inline_keyboard=[stars]))
    raise Unrenderable(f"unknown kind {row.kind}")
