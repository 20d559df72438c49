"""The support job (every 60 s, on the injected clock): ticket escalation and review asks.

Escalation: a ticket still unanswered an hour of work before its promised
time is marked escalated (once, in the database) and then told to the
administrators of its clinic (staff with role «admin»; for a ticket with no
clinic, every administrator). The mark commits before the message goes out:
a failed send is logged, not repeated (the ticket stays in «Обращения»).

Review asks: a visit marked completed in the last days that has no review and
no ask yet gets one outbox row (domain.reviews.ask_item: never in the quiet
hours of the clinic); the key of the row makes it once per visit.
"""

from __future__ import annotations

import logging
from datetime import datetime

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.app_state import App
from domain import reviews, tickets
from domain.quiet_hours import QuietWindow
from flows.ui.format import fmt_when
from flows.ui.support_callbacks import StTk
from flows.ui.ticket_text import category_label

log = logging.getLogger("zapis.support")

SUPPORT_EVERY_SECONDS = 60


def admins_for(app: App, clinic_id: int | None) -> list[int]:
    return sorted(
        user_id
        for user_id, member in app.settings.staff.items()
        if member.role == "admin" and (clinic_id is None or clinic_id in member.clinics)
    )


async def run_support(app: App, now: datetime) -> None:
    s = app.settings
    quiet = QuietWindow(s.quiet_hours.start, s.quiet_hours.end, s.reminder_quiet_policy)
    async with app.uow() as uow:
        escalated = await tickets.escalate_due(uow, now)
        for visit in await uow.reviews.visits_to_ask(now - reviews.ASK_WITHIN):
            await uow.reviews.plan_ask(reviews.ask_item(visit, now, quiet), now)
        await uow.commit()
    if not escalated or app.bot is None:
        return
    with app.i18n.context(), app.i18n.use_locale(s.default_locale):
        for ticket in escalated:
            text = _(
                "⚠️ Request № {id} ({category}) is still unanswered; the promised time is {when}."
            ).format(
                id=ticket.id,
                category=category_label(ticket.category),
                when=fmt_when(ticket.due_at, s.default_tz, s.default_tz),
            )
            markup = InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        InlineKeyboardButton(
                            text=_("Open the request"),
                            callback_data=StTk(action="show", ticket_id=ticket.id).pack(),
                        )
                    ]
                ]
            )
            for admin in admins_for(app, ticket.clinic_id):
                try:
                    await app.bot.send_message(admin, text, reply_markup=markup, parse_mode=None)
                except Exception:  # one unreachable administrator must not stop the others
                    log.exception("escalation of ticket %s to %s failed", ticket.id, admin)
