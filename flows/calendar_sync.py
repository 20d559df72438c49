"""Calendar sync: «Все записи в календарь» (one .ics of every upcoming visit) and the private
subscription URL managed in «Профиль» (served by bot/calendar_route.py in webhook mode).

The link is shown once, when made: only the token's hash is kept. «Новая
ссылка» replaces it (the old URL answers 404 from then on); «Отключить»
deletes it.
"""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardButton, Message

from domain import calendar_feed as cf
from domain.errors import Stale
from domain.models import User
from domain.policy import Policy
from flows.guards import Registered
from flows.ui import keyboards as kb
from flows.ui.calendar_feed import feed_ics
from flows.ui.i18n import gettext as _
from flows.ui.profile_callbacks import ProfileCb
from flows.ui.safe_callback import SafeCallback

router = Router(name="calendar_sync")


class CalAll(SafeCallback, prefix="cal"):
    pass


class CalSub(SafeCallback, prefix="cs"):
    action: str = "show"  # show | new | revoke


def _back_row() -> list[InlineKeyboardButton]:
    """Back to «Профиль», where «Календарь по ссылке» is (the screens ended without a way)."""
    return [kb.button(_("Back"), ProfileCb(action="show"))]


def feed_url(base: str, token: str) -> str:
    return f"{base}/calendar/{token}.ics"


async def _say(
    query: CallbackQuery, text: str, rows: list[list[InlineKeyboardButton]] | None = None
) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        markup = kb.inline(rows) if rows else None
        await query.message.answer(text, reply_markup=markup, parse_mode=None)


@router.callback_query(CalAll.filter(), Registered())
async def on_all(
    query: CallbackQuery, user: User, uow: cf.CalendarFeedUnitOfWork, now: datetime
) -> None:
    visits = await uow.calendar_feeds.upcoming(user.id, now)
    if not visits:
        await _say(query, _("You have no upcoming appointments."))
        return
    data = feed_ics(visits, now)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer_document(
            BufferedInputFile(data, filename="appointments.ics"),
            caption=_(
                "Every upcoming visit ({count}) in one file: open it to add them to your "
                "calendar. Visits already added are updated, not doubled."
            ).format(count=len(visits)),
        )


@router.callback_query(CalSub.filter(F.action == "show"), Registered())
async def on_show(
    query: CallbackQuery, user: User, uow: cf.CalendarFeedUnitOfWork, policy: Policy
) -> None:
    if not policy.calendar_base_url:
        await _say(
            query,
            _(
                "A calendar subscription link is not available on this server. Use «All visits "
                "to calendar» in «My appointments» instead."
            ),
            [_back_row()],
        )
        return
    if await uow.calendar_feeds.active(user.id):
        text = _(
            "Your calendar subscription link is on. Calendar apps that subscribed to it see "
            "your upcoming visits. A new link turns the old one off."
        )
        rows = [
            [
                kb.button(_("New link"), CalSub(action="new")),
                kb.button(_("Turn the link off"), CalSub(action="revoke")),
            ],
            _back_row(),
        ]
    else:
        text = _(
            "A private link for calendar apps (Google, Apple, Outlook): subscribe once, and "
            "your upcoming visits stay up to date there."
        )
        rows = [[kb.button(_("Get the link"), CalSub(action="new"))], _back_row()]
    await _say(query, text, rows)


@router.callback_query(CalSub.filter(F.action == "new"), Registered())
async def on_new(
    query: CallbackQuery,
    user: User,
    uow: cf.CalendarFeedUnitOfWork,
    now: datetime,
    policy: Policy,
) -> None:
    if not policy.calendar_base_url:
        raise Stale
    token = cf.new_token()
    await uow.calendar_feeds.replace(user.id, token, now)
    text = _(
        "Your calendar subscription link (keep it private; it is shown only now):\n{url}\n\n"
        "In your calendar app choose «subscribe by URL» and paste it."
    ).format(url=feed_url(policy.calendar_base_url, token))
    await _say(query, text, [[kb.button(_("Turn the link off"), CalSub(action="revoke"))]])


@router.callback_query(CalSub.filter(F.action == "revoke"), Registered())
async def on_revoke(query: CallbackQuery, user: User, uow: cf.CalendarFeedUnitOfWork) -> None:
    await uow.calendar_feeds.revoke(user.id)
    await _say(query, _("The calendar link is off: calendars subscribed to it get nothing more."))
