"""«Уведомления» in the profile: per-kind opt-out, the missed-visit count and its rule.

Reminders, wait-list offers and booking confirmations can be switched off;
clinic changes (a cancelled or moved visit) cannot — the screen says so. The
notifier already skips opted-out kinds (bot/notifier.py).
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain.booking_rules import BookingPolicy
from domain.errors import Stale
from domain.flow_ports import SectionsUnitOfWork
from domain.models import User
from domain.notifications import OPTIONAL_KINDS, Kind
from domain.policy import Policy
from flows.booking_common import Event, show
from flows.guards import Registered
from flows.ui.i18n import gettext as _
from flows.ui.profile_callbacks import NsOpen, NsToggle, ProfileCb

router = Router(name="notify_settings")

CODES = {"r": Kind.REMINDER, "w": Kind.WAITLIST_OFFER, "b": Kind.BOOKED}


def kind_label(kind: str) -> str:
    return {
        Kind.REMINDER: _("Reminders before visits"),
        Kind.WAITLIST_OFFER: _("Wait-list offers"),
        Kind.BOOKED: _("Booking confirmations"),
    }.get(kind, kind)


def no_show_text(count: int, rules: BookingPolicy) -> str:
    """The missed-visit count and the rule, shown before any restriction applies."""
    line = _("Missed visits (no-show): {count}.").format(count=count)
    if rules.no_show_restriction:
        rule = _(
            "Rule: after {limit} missed visits, booking through the bot is closed; "
            "please cancel in advance if you cannot come."
        ).format(limit=rules.no_show_limit)
        if count >= rules.no_show_limit:
            rule += "\n" + _("The limit is reached: booking through the bot is closed.")
    else:
        rule = _(
            "Rule: at {limit} missed visits the clinic may restrict booking through the bot; "
            "this restriction is switched off now. Please cancel in advance if you cannot come."
        ).format(limit=rules.no_show_limit)
    return line + "\n" + rule


async def _screen(event: Event, uow: SectionsUnitOfWork, user: User, policy: Policy) -> None:
    optout = await uow.notify_prefs.optout(user.id)
    fresh = await uow.users.get(user.id)
    lines = [_("Notifications"), ""]
    keyboard = InlineKeyboardBuilder()
    for code, kind in CODES.items():
        on = kind not in optout
        mark = "✅" if on else "🔕"
        lines.append(f"{mark} {kind_label(kind)}")
        action = _("Switch off") if on else _("Switch on")
        keyboard.button(text=f"{action}: {kind_label(kind)}", callback_data=NsToggle(kind=code))
    lines += [
        "",
        _(
            "Messages about changes made by the clinic (a cancelled or moved visit) always "
            "arrive and cannot be switched off."
        ),
        "",
        no_show_text(fresh.no_show_count if fresh else user.no_show_count, policy.booking),
    ]
    keyboard.button(
        text=_("Back"), callback_data=ProfileCb(action="show")
    )  # «Назад» to the profile
    keyboard.adjust(1)
    await show(event, "\n".join(lines), keyboard.as_markup())


@router.message(Command("notifications"), Registered())
async def on_command(message: Message, user: User, uow: SectionsUnitOfWork, policy: Policy) -> None:
    await _screen(message, uow, user, policy)


@router.callback_query(NsOpen.filter(), Registered())
async def on_open(
    query: CallbackQuery, user: User, uow: SectionsUnitOfWork, policy: Policy
) -> None:
    await _screen(query, uow, user, policy)


@router.callback_query(NsToggle.filter(), Registered())
async def on_toggle(
    query: CallbackQuery,
    callback_data: NsToggle,
    user: User,
    uow: SectionsUnitOfWork,
    policy: Policy,
) -> None:
    kind = CODES.get(callback_data.kind)
    if kind is None or kind not in OPTIONAL_KINDS:
        raise Stale
    current = await uow.notify_prefs.optout(user.id)
    await uow.notify_prefs.set_optout(user.id, current ^ {kind})
    await _screen(query, uow, user, policy)
