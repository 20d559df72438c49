"""Notices of issue 9's sections, rendered like bot/notify_render.py's (HTML, escaped):
a relative request in the asked account's chat with «Разрешить» / «Отклонить», its
answer to the asking account, and «Результаты приёма готовы» with «Подробнее».

Payloads carry ids and codes only; the visit comes from the batch's context.
"""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.notify_parts import RenderContext, Rendered, Unrenderable, appointment_of, visit_lines
from domain.family import Kind as FamilyKind
from domain.notifications import OutboxRow
from domain.records import VISIT_RESULTS
from flows.family_text import relation_label
from flows.ui.format import clip_html, esc
from flows.ui.records_callbacks import FmConsent, HiOpen

KINDS = frozenset({FamilyKind.CONSENT_REQUEST, FamilyKind.CONSENT_DECIDED, VISIT_RESULTS})


def render_records(row: OutboxRow, ctx: object, locale: str) -> object:
    """One of KINDS → Rendered."""
    assert isinstance(ctx, RenderContext)
    if row.kind == FamilyKind.CONSENT_REQUEST:
        request_id = row.ref("request_id")
        if request_id is None:
            raise Unrenderable("request missing")
        relation = str(row.payload.get("relation") or "other")
        asker = ctx.requesters.get(row.id)
        if asker is None:
            raise Unrenderable("request withdrawn or its account erased")
        text = _(
            "{name} asks in Zapis to add you (or a person of your family) to their «My family» "
            "as: {relation}. They could then book visits for this person and see their "
            "visit history. Allow only if you know this person."
        ).format(name=esc(asker), relation=relation_label(relation).lower())
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=_("Allow"),
                        callback_data=FmConsent(request_id=request_id, approve=1).pack(),
                    ),
                    InlineKeyboardButton(
                        text=_("Decline"),
                        callback_data=FmConsent(request_id=request_id, approve=0).pack(),
                    ),
                ]
            ]
        )
        return Rendered(clip_html(text), markup)
    if row.kind == FamilyKind.CONSENT_DECIDED:
        text = (
            _("Your request in «My family» was approved: the relative is added.")
            if row.payload.get("approved")
            else _("Your request in «My family» was declined: the relative is not added.")
        )
        return Rendered(clip_html(text))
    v = appointment_of(row, ctx)
    appointment_id = row.ref("appointment_id") or 0
    text = "\n".join([_("📋 The results of your visit are ready:"), *visit_lines(v, ctx, locale)])
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("Details"), callback_data=HiOpen(appointment_id=appointment_id).pack()
                )
            ]
        ]
    )
    return Rendered(clip_html(text), markup)
