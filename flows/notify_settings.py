"""«Уведомления» in the profile: per-kind opt-out, the missed-visit count and its rule.

Reminders, wait-list offers and booking confirmations can be switched off;
clinic changes (a cancelled or moved visit) cannot — the screen says so. The
notifier already skips opted-out kinds (bot/notifier.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.settings import LimitsSettings
from domain.models import User
from domain.notifications import OPTIONAL_KINDS, Kind
from flows.booking_common import Event, show, stale
from flows.ui.keyboards import back_row, button, inline
from flows.ui.safe_callback import SafeCallback
from storage.repos.notify_prefs import NotifyPrefsRepository

if TYPE_CHECKING:
    from storage.uow import SqlUnitOfWork

CODES = {"r": Kind.REMINDER, "w": Kind.WAITLIST_OFFER, "b": Kind.BOOKED}


class NsOpen(SafeCallback, prefix="ns"):
    pass


class NsToggle(SafeCallback, prefix="nt"):
    k: str  # r|w|b


def build_router() -> Router:
    router = Router(name="notify_settings")
    router.message.register(on_command, Command("notifications"))
    router.callback_query.register(on_open, NsOpen.filter())
    router.callback_query.register(on_toggle, NsToggle.filter())
    return router


def kind_label(kind: str) -> str:
    return {
        Kind.REMINDER: _("Reminders before visits"),
        Kind.WAITLIST_OFFER: _("Wait-list offers"),
        Kind.BOOKED: _("Booking confirmations"),
    }.get(kind, kind)


def no_show_text(count: int, limits: LimitsSettings) -> str:
    """The missed-visit count and the rule, shown before any restriction applies."""
    line = _("Missed visits (no-show): {count}.").format(count=count)
    if limits.no_show_restriction:
        rule = _(
            "Rule: after {limit} missed visits, booking through the bot is closed; "
            "please cancel in advance if you cannot come."
        ).format(limit=limits.no_show_limit)
        if count >= limits.no_show_limit:
            rule += "\n" + _("The limit is reached: booking through the bot is closed.")
    else:
        rule = _(
            "Rule: at {limit} missed visits the clinic may restrict booking through the bot; "
            "this restriction is switched off now. Please cancel in advance if you cannot come."
        ).format(limit=limits.no_show_limit)
    return line + "\n" + rule


async def _screen(event: Event, uow: SqlUnitOfWork, user: User, limits: LimitsSettings) -> None:
    optout = await NotifyPrefsRepository(uow.conn, uow.cipher).optout(user.id)
    fresh = await uow.users.get(user.id)
    lines = [_("Notifications"), ""]
    rows = []
    for code, kind in CODES.items():
        on = kind not in optout
        mark = "✅" if on else "🔕"
        lines.append(f"{mark} {kind_label(kind)}")
        action = _("Switch off") if on else _("Switch on")
        rows.append([button(f"{action}: {kind_label(kind)}", NsToggle(k=code))])
    lines += [
        "",
        _(
            "Messages about changes made by the clinic (a cancelled or moved visit) always "
            "arrive and cannot be switched off."
        ),
        "",
        no_show_text(fresh.no_show_count if fresh else user.no_show_count, limits),
    ]
    from flows.profile import ProfileCb  # the profile opens this screen: imported late

    rows.append(back_row(ProfileCb(action="show")))  # «Назад» to the profile
    await show(event, "\n".join(lines), inline(rows))


def _user(data: dict[str, Any]) -> User | None:
    user: User | None = data.get("user")
    return user if user is not None and user.level != "none" else None


async def on_command(message: Message, **data: Any) -> None:
    user = _user(data)
    if user is None:
        await message.answer(_("Please finish registration first: send /start."))
        return
    await _screen(message, data["uow"], user, data["settings"].limits)


async def on_open(query: CallbackQuery, **data: Any) -> None:
    user = _user(data)
    if user is None:
        await stale(query)
        return
    await _screen(query, data["uow"], user, data["settings"].limits)


async def on_toggle(query: CallbackQuery, callback_data: NsToggle, **data: Any) -> None:
    user = _user(data)
    kind = CODES.get(callback_data.k)
    if user is None or kind is None or kind not in OPTIONAL_KINDS:
        await stale(query)
        return
    uow: SqlUnitOfWork = data["uow"]
    prefs = NotifyPrefsRepository(uow.conn, uow.cipher)
    current = await prefs.optout(user.id)
    await prefs.set_optout(user.id, current ^ {kind})
    await _screen(query, uow, user, data["settings"].limits)
