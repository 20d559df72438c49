"""The support job (every 60 s, on the injected clock): ticket escalation and review asks.

Escalation: a ticket still unanswered an hour of work before its promised
time is marked escalated (once, in the database) and then told to the
administrators of its clinic (staff with role «admin»; for a ticket with no
clinic, every administrator). The mark commits before the message goes out:
a failed send is logged, not repeated (the ticket stays in «Обращения»).

Staff notices (domain/staff_notices.py): a new ticket or a patient's reply, a
new certificate request or a patient's answer is told to the registrars and
administrators of its clinic — numbers and categories only, with a button that
checks their clinic again — cleared in the same transaction, sent after the
commit, never in the clinic's quiet hours (they wait for the morning).

Review asks: a visit marked completed in the last days that has no review and
no ask yet gets one outbox row (domain.reviews.ask_item: never in the quiet
hours of the clinic); the key of the row makes it once per visit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import partial

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.app_state import App
from bot.policy import staff_member
from domain import reviews, staff_notices, tickets
from domain.certificates import CertKind, certificate_number
from domain.quiet_hours import QuietWindow, in_quiet
from domain.staff_notices import Subject, Waiting
from domain.tickets import Ticket
from flows.docs_common import kind_name
from flows.ui.docs_callbacks import StCert
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
        waiting = await staff_notices.take_waiting(
            uow, now, quiet=lambda at, tz: in_quiet(at, tz, quiet), home_tz=s.default_tz
        )
        for visit in await uow.reviews.visits_to_ask(now - reviews.ASK_WITHIN):
            await uow.reviews.plan_ask(reviews.ask_item(visit, now, quiet), now)
        # Each staff member is told in the language they chose in the bot, else the
        # deployment's.
        locales = await uow.users.locales(list(s.staff)) if escalated or waiting else {}
        await uow.commit()
    if app.bot is None:
        return
    staff = {user_id: m for user_id in s.staff if (m := staff_member(s, user_id)) is not None}
    for item in waiting:
        await tell(
            app,
            staff_notices.recipients(staff, item.clinic_id),
            locales,
            partial(staff_notice, item, s.default_tz),
        )
    for ticket in escalated:
        await tell(
            app,
            admins_for(app, ticket.clinic_id),
            locales,
            partial(escalation_notice, ticket, s.default_tz),
        )


def escalation_notice(ticket: Ticket, tz: str) -> tuple[str, InlineKeyboardMarkup]:
    text = _(
        "⚠️ Request № {id} ({category}) is still unanswered; the promised time is {when}."
    ).format(
        id=ticket.id,
        category=category_label(ticket.category),
        when=fmt_when(ticket.due_at, tz, tz),
    )
    press = InlineKeyboardButton(
        text=_("Open the request"),
        callback_data=StTk(action="show", ticket_id=ticket.id).pack(),
    )
    return text, InlineKeyboardMarkup(inline_keyboard=[[press]])


async def tell(
    app: App,
    staff: list[int],
    locales: dict[int, str],
    render: Callable[[], tuple[str, InlineKeyboardMarkup]],
) -> None:
    """One push per staff member, rendered in their language; an unreachable one is
    logged and does not stop the others."""
    assert app.bot is not None
    for user_id in staff:
        with (
            app.i18n.context(),
            app.i18n.use_locale(locales.get(user_id) or app.settings.default_locale),
        ):
            text, markup = render()
        try:
            await app.bot.send_message(user_id, text, reply_markup=markup, parse_mode=None)
        except Exception:
            log.exception("a push to a staff member failed")


def staff_notice(item: Waiting, home_tz: str) -> tuple[str, InlineKeyboardMarkup]:
    """Numbers and categories only: what the patient wrote is behind the button."""
    if item.subject is Subject.TICKET:
        label = category_label(item.label)
        if item.reply:
            text = _("📩 The patient replied in request № {id} ({category}).")
        else:
            text = _("📩 New request № {id} ({category}); the promised answer is by {when}.")
        when = fmt_when(item.due_at, item.tz or home_tz, home_tz) if item.due_at else ""
        body = text.format(id=item.item_id, category=label, when=when)
        press = InlineKeyboardButton(
            text=_("Open the request"),
            callback_data=StTk(action="show", ticket_id=item.item_id).pack(),
        )
    else:
        kind = kind_name(CertKind(item.label))
        number = certificate_number(item.clinic_id or 0, item.item_id)
        if item.reply:
            text = _(
                "📄 The patient answered the clinic's question on certificate request № {number} ({kind})."
            )
        else:
            text = _("📄 New certificate request № {number} ({kind}).")
        body = text.format(number=number, kind=kind)
        press = InlineKeyboardButton(
            text=_("Open the certificate request"),
            callback_data=StCert(action="show", request_id=item.item_id).pack(),
        )
    return body, InlineKeyboardMarkup(inline_keyboard=[[press]])
