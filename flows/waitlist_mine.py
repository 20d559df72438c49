"""«Мой лист ожидания» (/waitlist and its button): the account's live entries, and leaving one.

A module of its own: seeing and leaving entries is apart from joining
(flows/waitlist.py, whose buttons and labels it reuses) and from answering an
offer (flows/waitlist_offer.py). Every entry id from a button is checked by
domain/waitlist.py ``leave`` against the user's own entries.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain import waitlist
from domain.errors import DomainError, Stale
from domain.flow_ports import SectionsUnitOfWork
from domain.models import User
from domain.waitlist import WaitEntry
from flows.booking_common import Event, show
from flows.guards import Registered
from flows.ui.format import current_locale
from flows.ui.i18n import gettext as _
from flows.ui.keyboards import button
from flows.ui.profile_callbacks import ProfileCb
from flows.waitlist import WlLeave, WlMine, dates_text, tod_label

router = Router(name="waitlist_mine")


async def _entry_line(uow: SectionsUnitOfWork, entry: WaitEntry) -> str:
    spec = await uow.directory.specialty(entry.specialty_id)
    parts = [spec.name(current_locale()) if spec else "?"]
    if entry.doctor_id:
        doctor = await uow.directory.doctor(entry.doctor_id)
        if doctor is not None:
            parts.append(doctor.full_name)
    if entry.clinic_id:
        clinic = await uow.directory.clinic(entry.clinic_id)
        if clinic is not None:
            parts.append(clinic.name)
    if entry.date_from and entry.date_to:
        parts.append(dates_text(entry.date_from, entry.date_to))
    parts.append(tod_label(entry.time_of_day))
    line = " · ".join(parts)
    if entry.status == waitlist.OFFERED:
        line += "\n   " + _("a time is being offered to you now")
    return line


async def _mine(event: Event, uow: SectionsUnitOfWork, user: User, head: str = "") -> None:
    entries = await uow.waitlist.live_for_user(user.id)
    # The list opens from «Профиль» (or the join's confirmation): a way back there.
    to_profile = button(_("Profile"), ProfileCb(action="show"))
    if not entries:
        await show(
            event,
            head
            + _(
                "You are not on any wait list. To wait for a time (also an earlier one than "
                "what is free), press «Join the wait list» in a doctor's calendar when booking."
            ),
            InlineKeyboardMarkup(inline_keyboard=[[to_profile]]),
        )
        return
    lines = [head + _("Your wait list:")]
    keyboard = InlineKeyboardBuilder()
    for i, entry in enumerate(entries, 1):
        lines.append(f"{i}. " + await _entry_line(uow, entry))
        keyboard.button(
            text=_("Leave entry {n}").format(n=i), callback_data=WlLeave(entry_id=entry.id)
        )
    keyboard.adjust(1)
    keyboard.row(to_profile)
    await show(event, "\n".join(lines), keyboard.as_markup())


@router.message(Command("waitlist"), Registered())
async def on_command(message: Message, user: User, uow: SectionsUnitOfWork) -> None:
    await _mine(message, uow, user)


@router.callback_query(WlMine.filter(), Registered())
async def on_mine(query: CallbackQuery, user: User, uow: SectionsUnitOfWork) -> None:
    await _mine(query, uow, user)


@router.callback_query(WlLeave.filter(), Registered())
async def on_leave(
    query: CallbackQuery, callback_data: WlLeave, user: User, uow: SectionsUnitOfWork
) -> None:
    try:
        await waitlist.leave(uow, user.id, callback_data.entry_id)
    except DomainError:  # not theirs, or already gone
        raise Stale from None
    await _mine(query, uow, user, _("You have left this wait list.") + "\n\n")
