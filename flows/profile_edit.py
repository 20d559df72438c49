"""«Профиль» → ✏️ a field: the typed (or shared) new value, checked and saved.

The edit starts in flows/profile.py (``on_edit`` sets ``ProfileEdit``; its
buttons stay there, so flows/navigation.py keeps the step open for them); this
module answers what is typed at the step: the value, a shared contact for the
phone, anything else with the step's hint, and a menu button or a command ends
the edit. A module of its own: the step's answers and their refusals are one
concern, apart from the card, the language and /delete_me.
"""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from domain import accounts
from domain.errors import AccountNotReady, Duplicate, NotOwner, ValidationFailed
from domain.flow_ports import SectionsUnitOfWork
from domain.models import User
from domain.validators import Field
from flows.guards import Registered
from flows.profile import ProfileEdit, show
from flows.ui import menu as menu_ui
from flows.ui import profile_text as pt
from flows.ui.i18n import gettext as _
from flows.ui.onboarding_ui import duplicate_snils_text, phone_keyboard, sex_keyboard
from flows.ui.profile_text import level_change

router = Router(name="profile_edit")


def leaving(message: Message) -> bool:
    """A main-menu button or a command (/menu, /staff …) is not a value: it ends the edit.

    Checked by a handler of its own, registered before the edit's handlers: the
    state filters of this update still see the old state after ``state.clear()``,
    so skipping from inside an edit handler fell into the next edit handler.
    """
    return menu_ui.is_navigation(message.text)


def staying(message: Message) -> bool:
    return not leaving(message)


@router.message(StateFilter(ProfileEdit), leaving)
async def on_leave(message: Message, state: FSMContext) -> None:
    await state.clear()
    raise SkipHandler  # the section or command's own handler runs (in a later router)


@router.message(StateFilter(ProfileEdit.value), F.text, staying, Registered())
async def on_value(
    message: Message, state: FSMContext, user: User, uow: SectionsUnitOfWork, now: datetime
) -> None:
    text = message.text or ""
    field = str((await state.get_data()).get("field", ""))
    value: str | None = text
    if field == Field.SEX:
        sex = pt.parse_sex_text(text)
        if sex is None:
            await message.answer(pt.error(Field.SEX, "format"), reply_markup=sex_keyboard())
            return
        value = sex.value
    elif field == Field.EMAIL and text.strip().lower() in {_("Skip").lower(), "skip", "пропустить"}:
        value = None
    try:
        result = await accounts.edit_field(uow, user.id, field, value, now, now.date())
    except ValidationFailed as exc:  # the same step again, with the reason
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
    await show(message, uow, user.id, level_change(user, result))


@router.message(StateFilter(ProfileEdit.phone), F.contact, Registered())
async def on_phone(
    message: Message, state: FSMContext, user: User, uow: SectionsUnitOfWork, now: datetime
) -> None:
    assert message.contact is not None
    try:
        await accounts.set_phone(
            uow,
            user.id,
            contact_user_id=message.contact.user_id,
            phone=message.contact.phone_number,
            now=now,
        )
    except NotOwner:  # someone else's contact: the same step again
        await message.answer(pt.foreign_contact(), reply_markup=phone_keyboard())
        return
    except ValidationFailed as exc:
        await message.answer(pt.error(exc.field, exc.reason), reply_markup=phone_keyboard())
        return
    await state.clear()
    after = await uow.users.get(user.id)
    await message.answer(_("Saved."), reply_markup=menu_ui.main_menu())
    prefix = ""
    if after and user.level != after.level:
        prefix = _("The account level changed.")
    await show(message, uow, user.id, prefix)


@router.message(StateFilter(ProfileEdit.phone), staying)
async def on_phone_other(message: Message) -> None:
    await message.answer(pt.error(Field.PHONE, "typed"), reply_markup=phone_keyboard())


@router.message(StateFilter(ProfileEdit.value), staying)
async def on_value_other(message: Message, state: FSMContext) -> None:
    field = str((await state.get_data()).get("field", ""))
    await message.answer(pt.not_text(pt.prompt(field)))
