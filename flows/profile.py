"""«Профиль»: view (SNILS and policy masked), edit any field, switch language, /delete_me.

Edits reuse the onboarding validators and messages; SNILS, policy and phone
changes send the account back to confirmation (domain.accounts). Callbacks
carry no ids: they act only on the sender's own account.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.settings import LimitsSettings, Settings
from domain import accounts, booking, waitlist
from domain.errors import AccountNotReady, Duplicate, NotOwner, ValidationFailed
from domain.models import User
from domain.ports import Clock
from domain.schedule_source import RemoteRefused
from domain.validators import Field
from flows.notify_settings import NsOpen, no_show_text
from flows.onboarding import (
    LANG_LABELS,
    duplicate_snils_text,
    phone_keyboard,
    registered,
    sex_keyboard,
    skip_keyboard,
)
from flows.support_profile import support_profile_row
from flows.ui import keyboards as kb
from flows.ui import menu as menu_ui
from flows.ui import profile_text as pt
from flows.ui import reply
from flows.ui.remote_text import remote_refusal_text
from flows.ui.safe_callback import SafeCallback
from flows.waitlist import WlMine
from storage.uow import SqlUnitOfWork


class ProfileEdit(StatesGroup):
    value = State()  # typed value of the field in FSM data "field"
    phone = State()


class ProfileCb(SafeCallback, prefix="pf"):
    action: str  # show|edit|lang|setlang|delete|erase
    arg: str = ""


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
    edits = [
        kb.button("✏️ " + label(), ProfileCb(action="edit", arg=field))
        for field, label in EDIT_LABELS.items()
    ]
    return kb.inline(
        [
            edits[0:2],
            edits[2:4],
            edits[4:6],
            edits[6:7],
            [kb.button(_("Language"), ProfileCb(action="lang"))],
            [kb.button(_("Notifications"), NsOpen()), kb.button(_("My wait list"), WlMine())],
            support_profile_row(),  # journal, policy check, calendar link (flows/support_profile.py)
            [kb.button(_("Delete my data"), ProfileCb(action="delete"))],
        ]
    )


def leaving(message: Message) -> bool:
    """A main-menu button or a command (/menu, /staff …) is not a value: it ends the edit.

    Checked by a handler of its own, registered before the edit's handlers: the
    state filters of this update still see the old state after ``state.clear()``,
    so skipping from inside an edit handler fell into the next edit handler.
    """
    return menu_ui.is_navigation(message.text)


def staying(message: Message) -> bool:
    return not leaving(message)


async def render_profile(
    uow: SqlUnitOfWork, user_id: int, limits: LimitsSettings | None = None
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
    if limits is not None:  # the missed-visit count and rule, before any restriction applies
        card += "\n\n" + no_show_text(user.no_show_count, limits)
    return card


def build_router() -> Router:
    router = Router(name="profile")
    router.callback_query.filter(reply.HAS_MESSAGE)  # see flows.ui.reply

    async def show(
        message: reply.ChatMessage,
        uow: SqlUnitOfWork,
        user_id: int,
        prefix: str = "",
        limits: LimitsSettings | None = None,
    ) -> None:
        card = await render_profile(uow, user_id, limits)
        if card is None:
            await message.answer(_("Send /start to register first."))
            return
        await message.answer(
            f"{prefix}\n\n{card}" if prefix else card, reply_markup=profile_keyboard()
        )

    @router.message(F.text == menu_ui.PROFILE)
    @router.message(Command("profile"))
    async def on_profile(
        message: Message,
        state: FSMContext,
        uow: SqlUnitOfWork,
        user: User | None,
        settings: Settings,
    ) -> None:
        assert message.from_user is not None
        if not registered(user):
            await message.answer(_("Send /start to register first."))
            return
        await state.clear()
        await show(message, uow, message.from_user.id, limits=settings.limits)

    @router.callback_query(ProfileCb.filter(F.action == "show"))
    async def on_show(query: CallbackQuery, state: FSMContext, uow: SqlUnitOfWork) -> None:
        editing = await state.get_state() is not None
        await state.clear()
        await query.answer()
        if editing:
            await reply.of(query).answer(_("Editing cancelled."), reply_markup=menu_ui.main_menu())
        await show(reply.of(query), uow, query.from_user.id)

    @router.callback_query(ProfileCb.filter(F.action == "edit"))
    async def on_edit(
        query: CallbackQuery, callback_data: ProfileCb, state: FSMContext, user: User | None
    ) -> None:
        if not registered(user) or callback_data.arg not in EDIT_LABELS:
            await query.answer(_("This button is out of date."))
            return
        await query.answer()
        field = callback_data.arg
        back = kb.inline([kb.back_row(ProfileCb(action="show"))])
        if field == Field.PHONE:
            await state.set_state(ProfileEdit.phone)
            await reply.of(query).answer(pt.prompt(Field.PHONE), reply_markup=phone_keyboard())
            return
        await state.set_state(ProfileEdit.value)
        await state.update_data(field=field)
        if field in (Field.SEX, Field.EMAIL):  # these need a reply keyboard of their own
            markup = sex_keyboard() if field == Field.SEX else skip_keyboard()
            await reply.of(query).answer(pt.prompt(field), reply_markup=markup)
            await reply.of(query).answer(_("Or go back to the profile:"), reply_markup=back)
        else:
            await reply.of(query).answer(pt.prompt(field), reply_markup=back)

    @router.message(StateFilter(ProfileEdit), leaving)
    async def on_leave(message: Message, state: FSMContext) -> None:
        await state.clear()
        raise SkipHandler  # the section or command's own handler runs (in a later router)

    @router.message(StateFilter(ProfileEdit.value), F.text, staying)
    async def on_value(
        message: Message, state: FSMContext, uow: SqlUnitOfWork, clock: Clock
    ) -> None:
        assert message.from_user is not None
        text = message.text or ""
        field = str((await state.get_data()).get("field", ""))
        value: str | None = text
        if field == Field.SEX:
            sex = pt.parse_sex_text(text)
            if sex is None:
                await message.answer(pt.error(Field.SEX, "format"), reply_markup=sex_keyboard())
                return
            value = sex.value
        elif field == Field.EMAIL and text.strip().lower() in {
            _("Skip").lower(),
            "skip",
            "пропустить",
        }:
            value = None
        now = clock.now()
        try:
            before = await uow.users.get(message.from_user.id)
            result = await accounts.edit_field(
                uow, message.from_user.id, field, value, now, now.date()
            )
        except ValidationFailed as exc:
            await message.answer(pt.error(exc.field, exc.reason))
            return
        except Duplicate:
            await message.answer(duplicate_snils_text())
            return
        except AccountNotReady:
            await state.clear()
            await message.answer(_("Send /start to register first."))
            return
        await state.clear()
        await message.answer(_("Saved."), reply_markup=menu_ui.main_menu())
        await show(message, uow, message.from_user.id, level_change(before, result))

    @router.message(StateFilter(ProfileEdit.phone), F.contact)
    async def on_phone(
        message: Message, state: FSMContext, uow: SqlUnitOfWork, clock: Clock
    ) -> None:
        assert message.from_user is not None and message.contact is not None
        before = await uow.users.get(message.from_user.id)
        try:
            await accounts.set_phone(
                uow,
                message.from_user.id,
                contact_user_id=message.contact.user_id,
                phone=message.contact.phone_number,
                now=clock.now(),
            )
        except NotOwner:
            await message.answer(pt.foreign_contact(), reply_markup=phone_keyboard())
            return
        except ValidationFailed as exc:
            await message.answer(pt.error(exc.field, exc.reason), reply_markup=phone_keyboard())
            return
        await state.clear()
        after = await uow.users.get(message.from_user.id)
        await message.answer(_("Saved."), reply_markup=menu_ui.main_menu())
        prefix = ""
        if before and after and before.level != after.level:
            prefix = _("The account level changed.")
        await show(message, uow, message.from_user.id, prefix)

    @router.message(StateFilter(ProfileEdit.phone), staying)
    async def on_phone_other(message: Message, state: FSMContext) -> None:
        await message.answer(pt.error(Field.PHONE, "typed"), reply_markup=phone_keyboard())

    @router.message(StateFilter(ProfileEdit.value), staying)
    async def on_value_other(message: Message, state: FSMContext) -> None:
        field = str((await state.get_data()).get("field", ""))
        await message.answer(pt.not_text(pt.prompt(field)))

    # --- language -----------------------------------------------------------------

    @router.callback_query(ProfileCb.filter(F.action == "lang"))
    async def on_lang(query: CallbackQuery, user: User | None) -> None:
        if not registered(user):
            await query.answer(_("This button is out of date."))
            return
        await query.answer()
        await reply.of(query).answer(
            _("Choose the language / Выберите язык:"),
            reply_markup=kb.inline(
                [
                    [
                        kb.button(label, ProfileCb(action="setlang", arg=code))
                        for code, label in LANG_LABELS.items()
                    ]
                ]
            ),
        )

    @router.callback_query(ProfileCb.filter(F.action == "setlang"))
    async def on_setlang(
        query: CallbackQuery,
        callback_data: ProfileCb,
        user: User | None,
        uow: SqlUnitOfWork,
        clock: Clock,
        i18n: I18n,
    ) -> None:
        if not registered(user) or callback_data.arg not in LANG_LABELS:
            await query.answer(_("This button is out of date."))
            return
        await accounts.set_language(uow, query.from_user.id, callback_data.arg, clock.now())
        i18n.current_locale = callback_data.arg
        await query.answer()
        await reply.of(query).answer(
            _("Language changed. Main menu."), reply_markup=menu_ui.main_menu()
        )

    # --- /delete_me ---------------------------------------------------------------

    @router.message(Command("delete_me"))
    async def on_delete_me(message: Message, user: User | None) -> None:
        if user is None or user.status != "active" or user.consent_at is None:
            await message.answer(_("There is no personal data of yours to erase."))
            return
        await message.answer(delete_text(), reply_markup=delete_keyboard())

    @router.callback_query(ProfileCb.filter(F.action == "delete"))
    async def on_delete_button(query: CallbackQuery, user: User | None) -> None:
        if user is None or user.status != "active":
            await query.answer(_("This button is out of date."))
            return
        await query.answer()
        await reply.of(query).answer(delete_text(), reply_markup=delete_keyboard())

    @router.callback_query(ProfileCb.filter(F.action == "erase"))
    async def on_erase(
        query: CallbackQuery,
        state: FSMContext,
        user: User | None,
        uow: SqlUnitOfWork,
        clock: Clock,
    ) -> None:
        if user is None or user.status != "active":
            await query.answer(_("This button is out of date."))
            return
        subject = "erased-" + secrets.token_hex(6)
        now = clock.now()
        # No reason text: the kept records are anonymous, and a stored English
        # phrase would be shown untranslated wherever a reason is displayed.
        try:
            await booking.cancel_all_for_account(uow, now, query.from_user.id, "")
        except RemoteRefused as exc:  # issue 11: a visit the clinic's registry kept: not erased
            await query.answer()
            await reply.of(query).answer(remote_refusal_text(exc))
            return
        await waitlist.leave_all(uow, query.from_user.id)
        await accounts.delete_account(uow, query.from_user.id, now, subject)
        await state.clear()
        await query.answer()
        await reply.of(query).answer(
            _(
                "Your personal data are erased. Goodbye! If you want to use Zapis again, "
                "send /start."
            ),
            reply_markup=kb.remove(),
        )

    return router


def delete_text() -> str:
    return _(
        "Erase your personal data?\n\n"
        "Your upcoming visits will be cancelled (the time goes back to the schedule) and "
        "you leave the wait list.\n"
        "Erased: your phone, full name, date of birth, sex, SNILS, OMS policy, e-mail, "
        "your relatives' data, your documents, notification settings and notifications.\n"
        "Kept, without any name and no longer linked to your Telegram account: the "
        "clinic's records of past and cancelled visits (date, doctor, status) and the "
        "activity journal — medical organisations must keep their records of care. If you "
        "register again, you start with an empty account.\n\n"
        "This cannot be undone."
    )


def delete_keyboard() -> InlineKeyboardMarkup:
    return kb.yes_no(
        ProfileCb(action="erase"),
        ProfileCb(action="show"),
        yes_label=_("Erase my data"),
        no_label=_("Back"),
    )


def level_change(before: User | None, result: accounts.Verification) -> str:
    lines = []
    if before is not None and before.level != result.level:
        lines.append(_("The account level changed."))
    if result.to_check or result.locked:  # which field to check (not the register's values)
        lines.append(pt.level_line(result.level, None, result.to_check, result.locked))
    return "\n".join(lines)
