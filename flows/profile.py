"""«Профиль»: view (SNILS and policy masked), edit any field, switch language, /delete_me.

Edits reuse the onboarding validators and messages; SNILS, policy and phone
changes send the account back to confirmation (domain.accounts). Callbacks
carry no ids: they act only on the sender's own account. What is typed at an
edit step is answered by flows/profile_edit.py.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain import accounts, booking, waitlist
from domain.booking_rules import BookingPolicy
from domain.errors import NotRegistered, Stale
from domain.flow_ports import SectionsUnitOfWork
from domain.models import User
from domain.policy import Policy
from domain.schedule_source import RemoteRefused
from domain.validators import Field
from flows.booking_common import load_details, send_files
from flows.guards import Registered
from flows.notify_settings import no_show_text
from flows.support_profile import support_profile_row
from flows.ui import keyboards as kb
from flows.ui import menu as menu_ui
from flows.ui import profile_text as pt
from flows.ui import reply
from flows.ui.format import Details
from flows.ui.i18n import gettext as _
from flows.ui.onboarding_ui import LANG_LABELS, phone_keyboard, sex_keyboard, skip_keyboard
from flows.ui.profile_callbacks import NsOpen, ProfileCb
from flows.ui.profile_text import delete_keyboard, delete_text
from flows.ui.remote_text import remote_refusal_text
from flows.waitlist import WlMine

router = Router(name="profile")
router.callback_query.filter(reply.HAS_MESSAGE)  # see flows.ui.reply


class ProfileEdit(StatesGroup):
    value = State()  # typed value of the field in FSM data "field"
    phone = State()


EDIT_LABELS: dict[str, Callable[[], str]] = {
    Field.NAME: lambda: _("Full name"),
    Field.BIRTH_DATE: lambda: _("Date of birth"),
    Field.SEX: lambda: _("Sex"),
    Field.PHONE: lambda: _("Phone"),
    Field.SNILS: lambda: _("SNILS"),
    Field.POLICY: lambda: _("OMS policy"),
    Field.EMAIL: lambda: _("E-mail"),
}


def profile_keyboard() -> InlineKeyboardMarkup:
    keyboard = InlineKeyboardBuilder()
    for field, label in EDIT_LABELS.items():
        keyboard.button(text="✏️ " + label(), callback_data=ProfileCb(action="edit", arg=field))
    keyboard.button(text=_("Language"), callback_data=ProfileCb(action="lang"))
    keyboard.button(text=_("Notifications"), callback_data=NsOpen())
    keyboard.button(text=_("My wait list"), callback_data=WlMine())
    support = (
        support_profile_row()
    )  # journal, policy check, calendar link (flows/support_profile.py)
    for button in support:
        keyboard.add(button)
    keyboard.button(text=_("Delete my data"), callback_data=ProfileCb(action="delete"))
    keyboard.adjust(2, 2, 2, 1, 1, 2, len(support), 1)
    return keyboard.as_markup()


async def render_profile(
    uow: SectionsUnitOfWork, user_id: int, rules: BookingPolicy | None = None
) -> str | None:
    user = await uow.users.get(user_id)
    patient = await uow.users.self_patient(user_id)
    if user is None or patient is None:
        return None
    clinic = (
        await uow.directory.clinic(patient.attached_clinic_id)
        if patient.attached_clinic_id
        else None
    )
    card = pt.profile_card(user, patient, clinic.name if clinic else None)
    if rules is not None:  # the missed-visit count and rule, before any restriction applies
        card += "\n\n" + no_show_text(user.no_show_count, rules)
    return card


async def show(
    message: reply.ChatMessage,
    uow: SectionsUnitOfWork,
    user_id: int,
    prefix: str = "",
    rules: BookingPolicy | None = None,
) -> None:
    card = await render_profile(uow, user_id, rules)
    if card is None:
        raise NotRegistered
    await message.answer(f"{prefix}\n\n{card}" if prefix else card, reply_markup=profile_keyboard())


@router.message(F.text == menu_ui.PROFILE, Registered())
@router.message(Command("profile"), Registered())
async def on_profile(
    message: Message, state: FSMContext, user: User, uow: SectionsUnitOfWork, policy: Policy
) -> None:
    await state.clear()
    await show(message, uow, user.id, rules=policy.booking)


@router.callback_query(ProfileCb.filter(F.action == "show"), Registered())
async def on_show(
    query: CallbackQuery, state: FSMContext, user: User, uow: SectionsUnitOfWork
) -> None:
    editing = await state.get_state() is not None
    await state.clear()
    await query.answer()
    if editing:
        await reply.of(query).answer(_("Editing cancelled."), reply_markup=menu_ui.main_menu())
    await show(reply.of(query), uow, user.id)


@router.callback_query(ProfileCb.filter(F.action == "edit"), Registered())
async def on_edit(query: CallbackQuery, callback_data: ProfileCb, state: FSMContext) -> None:
    field = callback_data.arg
    if field not in EDIT_LABELS:
        raise Stale
    await query.answer()
    chat = reply.of(query)
    back = InlineKeyboardBuilder().add(kb.button(_("Back"), ProfileCb(action="show"))).as_markup()
    if field == Field.PHONE:
        await state.set_state(ProfileEdit.phone)
    else:
        await state.set_state(ProfileEdit.value)
        await state.update_data(field=field)
    if field in (Field.PHONE, Field.SEX, Field.EMAIL):  # a reply keyboard of their own
        markup = {Field.PHONE: phone_keyboard, Field.SEX: sex_keyboard}.get(field, skip_keyboard)
        await chat.answer(pt.prompt(field), reply_markup=markup())
        # The reply keyboard replaced the menu's: «Назад» gives the menu back.
        await chat.answer(_("Or go back to the profile:"), reply_markup=back)
    else:
        await chat.answer(pt.prompt(field), reply_markup=back)


# --- language -----------------------------------------------------------------


@router.callback_query(ProfileCb.filter(F.action == "lang"), Registered())
async def on_lang(query: CallbackQuery) -> None:
    await query.answer()
    keyboard = InlineKeyboardBuilder()
    for code, label in LANG_LABELS.items():
        keyboard.button(text=label, callback_data=ProfileCb(action="setlang", arg=code))
    await reply.of(query).answer(
        _("Choose the language / Выберите язык:"), reply_markup=keyboard.as_markup()
    )


@router.callback_query(
    ProfileCb.filter((F.action == "setlang") & F.arg.in_(tuple(LANG_LABELS))), Registered()
)
async def on_setlang(
    query: CallbackQuery,
    callback_data: ProfileCb,
    user: User,
    uow: SectionsUnitOfWork,
    now: datetime,
    i18n: I18n,
) -> None:
    await accounts.set_language(uow, user.id, callback_data.arg, now)
    i18n.current_locale = callback_data.arg
    await query.answer()
    await reply.of(query).answer(
        _("Language changed. Main menu."), reply_markup=menu_ui.main_menu()
    )


# --- /delete_me ---------------------------------------------------------------
# Not Registered(): an account that gave consent but has not finished the profile has
# personal data to erase too.


def _has_data(user: User | None) -> bool:
    return user is not None and user.status == "active"


@router.message(Command("delete_me"))
async def on_delete_me(message: Message, user: User | None) -> None:
    if user is None or not _has_data(user) or user.consent_at is None:
        await message.answer(_("There is no personal data of yours to erase."))
        return
    await message.answer(delete_text(), reply_markup=delete_keyboard())


@router.callback_query(ProfileCb.filter(F.action == "delete"))
async def on_delete_button(query: CallbackQuery, user: User | None) -> None:
    if not _has_data(user):
        raise Stale
    await query.answer()
    await reply.of(query).answer(delete_text(), reply_markup=delete_keyboard())


@router.callback_query(ProfileCb.filter(F.action == "erase"))
async def on_erase(
    query: CallbackQuery,
    state: FSMContext,
    user: User | None,
    uow: SectionsUnitOfWork,
    now: datetime,
    policy: Policy,
) -> None:
    if user is None or not _has_data(user):
        raise Stale
    subject = "erased-" + secrets.token_hex(6)
    upcoming = [a.id for a in await uow.appointments.list_for_owner(user.id, now)
                if a.status.active and a.start > now]  # fmt: skip
    # No reason text: the kept records are anonymous, and a stored English
    # phrase would be shown untranslated wherever a reason is displayed.
    try:
        await booking.cancel_all_for_account(uow, now, user.id, "")
    except RemoteRefused as exc:  # issue 11: a visit the clinic's registry kept: not erased
        await query.answer()
        await reply.of(query).answer(remote_refusal_text(exc))
        return
    withdrawn = await _cancelled_events(uow, upcoming)  # read before the names are erased
    await waitlist.leave_all(uow, user.id)
    await accounts.delete_account(uow, user.id, now, subject)
    await state.clear()
    await query.answer()
    for details in withdrawn:  # each cancelled visit leaves the phone's calendar too
        await send_files(query, details, policy.home_tz, now, only="ics")
    await reply.of(query).answer(  # the last word
        _("Your personal data are erased. Goodbye! If you want to use Zapis again, send /start."),
        reply_markup=kb.remove(),
    )


async def _cancelled_events(uow: SectionsUnitOfWork, ids: list[int]) -> list[Details]:
    """The visits /delete_me cancelled, as their METHOD:CANCEL .ics needs them (the patient
    or the clinic cancelling one sends that file too: the calendar must not keep them)."""
    found = []
    for appointment_id in ids:
        cancelled = await uow.appointments.get(appointment_id)
        patient = await uow.users.patient(cancelled.patient_id) if cancelled else None
        if cancelled is not None and patient is not None:
            details = await load_details(uow, patient, appointment=cancelled)
            if details is not None:
                found.append(details)
    return found
