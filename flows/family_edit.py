"""«Мои близкие» → a relative → «Изменить»: correct one field of the relative's profile.

The field is chosen with a button; the new value is typed and validated exactly as
when the relative was added (domain/validators.py), a wrong value refused on the same
step with what to type. The relative id is checked against the account on every
press and again when the value is saved (domain/family.py ``edit_relative``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain import family
from domain.accounts import Profile
from domain.errors import Stale, ValidationFailed
from domain.models import User
from domain.validators import Field, parse_birth_date, parse_full_name, parse_policy, parse_snils
from flows.booking_common import show
from flows.family import FmEdit, FmOpen
from flows.family_add import AddRelative, step_prompt
from flows.family_text import card
from flows.guards import Registered
from flows.ui import keyboards as kb
from flows.ui import menu as menu_ui
from flows.ui import profile_text as pt
from flows.ui.i18n import gettext as _
from flows.ui.menu import not_navigation

router = Router(name="family_edit")

STEPS: dict[str, State] = {
    "name": AddRelative.full_name,
    "birth_date": AddRelative.birth_date,
    "sex": AddRelative.sex,
    "snils": AddRelative.snils,
    "policy": AddRelative.policy,
}


class EditRelative(StatesGroup):
    value = State()


def _labels() -> dict[str, str]:
    return {
        "name": _("Full name"),
        "birth_date": _("Date of birth"),
        "sex": _("Sex"),
        "snils": _("SNILS"),
        "policy": _("OMS policy"),
    }


def _parse(field: str, text: str, old: Profile, now: datetime) -> Profile:
    if field == "name":
        surname, name, patronymic = parse_full_name(text)
        return replace(old, surname=surname, name=name, patronymic=patronymic)
    if field == "birth_date":
        return replace(old, birth_date=parse_birth_date(text, now.date()))
    if field == "sex":
        sex = pt.parse_sex_text(text)
        if sex is None:
            raise ValidationFailed(Field.SEX, "format")
        return replace(old, sex=sex)
    if field == "snils":
        return replace(old, snils=parse_snils(text))
    return replace(old, policy=parse_policy(text))


@router.callback_query(FmEdit.filter(), Registered())
async def on_edit(
    query: CallbackQuery,
    callback_data: FmEdit,
    user: User,
    uow: family.FamilyUoW,
    state: FSMContext,
) -> None:
    relative = await family.owned_relative(uow, user.id, callback_data.relative_id)
    field = callback_data.field
    if not field:
        builder = InlineKeyboardBuilder()
        for key, label in _labels().items():
            builder.button(text=label, callback_data=FmEdit(relative_id=relative.id, field=key))
        builder.button(text=_("Back"), callback_data=FmOpen(relative_id=relative.id))
        builder.adjust(2, 2, 1, 1)
        await show(query, _("What is to be corrected?"), builder.as_markup())
        return
    if field not in STEPS:
        raise Stale
    await state.clear()
    await state.set_state(EditRelative.value)
    await state.update_data(fm_e_id=relative.id, fm_e_field=field)
    await query.answer()
    markup = kb.reply([[_("Male"), _("Female")]]) if field == "sex" else None
    if isinstance(query.message, Message):
        await query.message.answer(step_prompt(STEPS[field]), reply_markup=markup)


@router.message(StateFilter(EditRelative.value), not_navigation, F.text, Registered())
async def on_value(
    message: Message, state: FSMContext, user: User, uow: family.FamilyUoW, now: datetime
) -> None:
    data = await state.get_data()
    relative = await family.owned_relative(uow, user.id, int(data.get("fm_e_id") or 0))
    field = str(data.get("fm_e_field") or "")
    try:
        changed = _parse(field, message.text or "", family.profile_of(relative), now)
    except ValidationFailed as exc:
        markup = kb.reply([[_("Male"), _("Female")]]) if field == "sex" else None
        await message.answer(pt.error(exc.field, exc.reason), reply_markup=markup)
        return
    updated = await family.edit_relative(uow, now, user.id, relative.id, changed)
    await state.clear()
    await message.answer(_("Saved."), reply_markup=menu_ui.main_menu())
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Back"), callback_data=FmOpen(relative_id=updated.id))
    await message.answer(card(updated), reply_markup=builder.as_markup(), parse_mode=None)


@router.message(StateFilter(EditRelative.value), not_navigation, Registered())
async def on_not_text(message: Message, state: FSMContext) -> None:
    field = str((await state.get_data()).get("fm_e_field") or "name")
    await message.answer(pt.not_text(step_prompt(STEPS.get(field, AddRelative.full_name))))
