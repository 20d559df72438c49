"""«Мои близкие» → «Добавить близкого»: relation (buttons), full name, date of birth, sex,
SNILS, OMS policy — each typed value validated exactly as in onboarding and refused on
the same step with what to type. What was typed waits in the FSM data encrypted (the
``cipher`` onboarding uses); domain/family.py decides: added now, or a consent request
in the chat of the account that holds this person.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain import family
from domain.accounts import Profile
from domain.errors import Stale, ValidationFailed
from domain.models import Sex, User
from domain.policy import Policy
from domain.validators import Field, parse_birth_date, parse_full_name, parse_policy, parse_snils
from flows.booking_common import show
from flows.family import Cipher, FmAdd, FmList, FmRel, render_list
from flows.family_text import relation_label
from flows.guards import Registered
from flows.ui import keyboards as kb
from flows.ui import menu as menu_ui
from flows.ui import profile_text as pt
from flows.ui.i18n import gettext as _
from flows.ui.menu import not_navigation

router = Router(name="family_add")


class AddRelative(StatesGroup):
    relation = State()
    full_name = State()
    birth_date = State()
    sex = State()
    snils = State()
    policy = State()


def step_prompt(step: State) -> str:
    if step == AddRelative.full_name:
        return _(
            "Send the relative's full name in one message: surname, name and patronymic "
            "(if any). Example: «Ivanova Maria Ivanovna»."
        )
    if step == AddRelative.birth_date:
        return _("Send the relative's date of birth as DD.MM.YYYY, for example 15.06.2017.")
    if step == AddRelative.sex:
        return _("Choose the relative's sex with a button below.")
    if step == AddRelative.snils:
        return _("Send the relative's SNILS: 11 digits, as on the card — 123-456-789 64.")
    if step == AddRelative.policy:
        return _(
            "Send the relative's OMS policy number: 16 digits, for example 1234 5678 9012 3452."
        )
    return _("Who is the relative to you? Choose with a button.")


def _relations_markup() -> Any:
    builder = InlineKeyboardBuilder()
    for relation in family.RELATIONS:
        builder.button(text=relation_label(relation), callback_data=FmRel(relation=relation))
    builder.button(text=_("Back"), callback_data=FmList())
    builder.adjust(2, 2, 1)
    return builder.as_markup()


def _markup(step: State) -> Any:
    if step == AddRelative.sex:
        return kb.reply([[_("Male"), _("Female")]])
    if step == AddRelative.snils:
        return menu_ui.main_menu()  # after the sex buttons: the menu again (a way out)
    return None


async def _ask(message: Message, state: FSMContext, step: State, prefix: str = "") -> None:
    await state.set_state(step)
    text = step_prompt(step)
    await message.answer(f"{prefix}\n\n{text}" if prefix else text, reply_markup=_markup(step))


async def _draft(state: FSMContext, cipher: Cipher) -> dict[str, Any]:
    token = (await state.get_data()).get("fm_draft")
    loaded: dict[str, Any] = json.loads(cipher.decrypt(token) or "{}") if token else {}
    return loaded


async def _put(state: FSMContext, cipher: Cipher, **values: Any) -> None:
    draft = await _draft(state, cipher) | values
    await state.update_data(fm_draft=cipher.encrypt(json.dumps(draft, ensure_ascii=False)))


@router.callback_query(FmAdd.filter(), Registered())
async def on_add(
    query: CallbackQuery, user: User, uow: family.FamilyUoW, policy: Policy, state: FSMContext
) -> None:
    relatives = family.relatives_of(await uow.family.patients_of(user.id))
    pending = await uow.family.pending_requests(user.id)
    family.check_room(len(relatives), len(pending), policy.max_relatives)
    await state.clear()
    await state.set_state(AddRelative.relation)
    await show(query, step_prompt(AddRelative.relation), _relations_markup())


@router.callback_query(FmRel.filter(), StateFilter(AddRelative.relation), Registered())
async def on_relation(
    query: CallbackQuery, callback_data: FmRel, state: FSMContext, cipher: Cipher
) -> None:
    if callback_data.relation not in family.RELATIONS:
        raise Stale
    await _put(state, cipher, relation=callback_data.relation)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await _ask(query.message, state, AddRelative.full_name,
                   _("Relation: {relation}.").format(relation=relation_label(callback_data.relation)))  # fmt: skip


_STEP = (StateFilter(AddRelative), not_navigation, F.text)


async def _reask(message: Message, state: FSMContext, exc: ValidationFailed) -> None:
    step = await state.get_state()
    markup = kb.reply([[_("Male"), _("Female")]]) if step == AddRelative.sex.state else None
    await message.answer(pt.error(exc.field, exc.reason), reply_markup=markup)


@router.message(StateFilter(AddRelative.relation), not_navigation, Registered())
async def on_relation_typed(message: Message) -> None:
    await message.answer(step_prompt(AddRelative.relation), reply_markup=_relations_markup())


@router.message(StateFilter(AddRelative.full_name), *_STEP[1:], Registered())
async def on_name(message: Message, state: FSMContext, cipher: Cipher) -> None:
    try:
        surname, name, patronymic = parse_full_name(message.text or "")
    except ValidationFailed as exc:
        return await _reask(message, state, exc)
    await _put(state, cipher, surname=surname, name=name, patronymic=patronymic)
    await _ask(message, state, AddRelative.birth_date)


@router.message(StateFilter(AddRelative.birth_date), *_STEP[1:], Registered())
async def on_birth(message: Message, state: FSMContext, cipher: Cipher, now: datetime) -> None:
    try:
        born = parse_birth_date(message.text or "", now.date())
    except ValidationFailed as exc:
        return await _reask(message, state, exc)
    await _put(state, cipher, birth_date=born.isoformat())
    await _ask(message, state, AddRelative.sex)


@router.message(StateFilter(AddRelative.sex), *_STEP[1:], Registered())
async def on_sex(message: Message, state: FSMContext, cipher: Cipher) -> None:
    sex = pt.parse_sex_text(message.text or "")
    if sex is None:
        return await _reask(message, state, ValidationFailed(Field.SEX, "format"))
    await _put(state, cipher, sex=sex.value)
    await _ask(message, state, AddRelative.snils)


@router.message(StateFilter(AddRelative.snils), *_STEP[1:], Registered())
async def on_snils(message: Message, state: FSMContext, cipher: Cipher) -> None:
    try:
        snils = parse_snils(message.text or "")
    except ValidationFailed as exc:
        return await _reask(message, state, exc)
    await _put(state, cipher, snils=snils)
    await _ask(message, state, AddRelative.policy)


@router.message(StateFilter(AddRelative.policy), *_STEP[1:], Registered())
async def on_policy(
    message: Message,
    state: FSMContext,
    cipher: Cipher,
    user: User,
    uow: family.FamilyUoW,
    now: datetime,
    policy: Policy,
) -> None:
    try:
        number = parse_policy(message.text or "")
    except ValidationFailed as exc:
        return await _reask(message, state, exc)
    draft = await _draft(state, cipher)
    profile = Profile(
        surname=draft["surname"],
        name=draft["name"],
        patronymic=draft["patronymic"],
        birth_date=date.fromisoformat(draft["birth_date"]),
        sex=Sex(draft["sex"]),
        snils=draft["snils"],
        policy=number,
        email=None,
    )
    try:
        added = await family.add_relative(
            uow, now, user.id, draft["relation"], profile, policy.max_relatives
        )
    except family.AlreadyInFamily:  # its own screen: back to the SNILS step, the rest kept
        await _ask(message, state, AddRelative.snils, duplicate_text())
        return
    await state.clear()
    if added.request is not None:
        text = _(
            "{name} already uses Zapis (or is in another account's family). We have asked "
            "for consent in their chat; until they answer the relative is shown as "
            "«awaiting consent»."
        ).format(name=profile_name(profile))
    else:
        text = _("{name} is added to «My family». You can now book visits for them.").format(
            name=profile_name(profile)
        )
    await message.answer(text, reply_markup=menu_ui.main_menu(), parse_mode=None)
    await render_list(message, uow, user, policy)


@router.message(StateFilter(AddRelative), not_navigation, Registered())
async def on_not_text(message: Message, state: FSMContext) -> None:
    """A sticker, photo or file at a typed step: say what is expected, stay."""
    current = await state.get_state()
    step = next((s for s in AddRelative.__all_states__ if s.state == current), AddRelative.relation)
    await message.answer(pt.not_text(step_prompt(step)), reply_markup=_markup(step))


def profile_name(profile: Profile) -> str:
    return " ".join(p for p in (profile.surname, profile.name, profile.patronymic) if p)


def duplicate_text() -> str:
    return _(
        "This person is already in «My family» (or it is you). Please check the SNILS and "
        "send the relative's SNILS again."
    )
