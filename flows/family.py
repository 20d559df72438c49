"""«Мои близкие»: list, add and remove relatives, so a parent can book for a child.

The list shows each relative (and anyone still «ожидает согласия»); «Добавить
близкого» asks relation (buttons), full name, date of birth, sex, SNILS and OMS
policy — each typed value validated exactly as in onboarding and refused on the
same step with what to type. What was typed waits in the FSM data encrypted
(the ``cipher`` onboarding uses). The rules — the limit, duplicates, consent of
another account — are domain/family.py's; removing a relative with upcoming
visits asks first and cancels them. The consent buttons are in flows/family_consent.py.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, Protocol

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain import family
from domain.accounts import Profile
from domain.errors import Stale, ValidationFailed
from domain.models import Patient, Sex, User
from domain.policy import Policy
from domain.validators import Field, parse_birth_date, parse_full_name, parse_policy, parse_snils
from flows.booking_common import show
from flows.family_text import card, family_text, relation_label
from flows.guards import Registered
from flows.ui import keyboards as kb
from flows.ui import menu as menu_ui
from flows.ui import profile_text as pt
from flows.ui.menu import not_navigation
from flows.ui.safe_callback import SafeCallback

router = Router(name="family")


class Cipher(Protocol):
    def encrypt(self, value: str | None) -> str | None: ...
    def decrypt(self, token: str | None) -> str | None: ...


class FmList(SafeCallback, prefix="fml"):
    pass


class FmAdd(SafeCallback, prefix="fma"):
    pass


class FmRel(SafeCallback, prefix="fmr"):
    relation: str


class FmOpen(SafeCallback, prefix="fmo"):
    relative_id: int


class FmEdit(SafeCallback, prefix="fme"):
    relative_id: int
    field: str  # "" = choose the field; name|birth_date|sex|snils|policy


class FmRemove(SafeCallback, prefix="fmd"):
    relative_id: int


class FmRemoveGo(SafeCallback, prefix="fmx"):
    relative_id: int


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


async def _render_list(event: Message | CallbackQuery, uow: family.FamilyUoW, user: User,
                       policy: Policy, prefix: str = "") -> None:  # fmt: skip
    relatives = family.relatives_of(await uow.family.patients_of(user.id))
    pending = await uow.family.pending_requests(user.id)
    builder = InlineKeyboardBuilder()
    for relative in relatives:
        builder.button(text=relative.full_name, callback_data=FmOpen(relative_id=relative.id))
    if len(relatives) + len(pending) < policy.max_relatives:
        builder.button(text=_("Add a relative"), callback_data=FmAdd())
    builder.adjust(1)
    text = family_text(relatives, pending, policy.max_relatives)
    await show(event, f"{prefix}\n\n{text}" if prefix else text, builder.as_markup())


# --- the section -----------------------------------------------------------------


@router.message(F.text == menu_ui.FAMILY, Registered())
async def on_family(
    message: Message, user: User, uow: family.FamilyUoW, policy: Policy, state: FSMContext
) -> None:
    await state.clear()
    await _render_list(message, uow, user, policy)


@router.callback_query(FmList.filter(), Registered())
async def on_list(
    query: CallbackQuery, user: User, uow: family.FamilyUoW, policy: Policy, state: FSMContext
) -> None:
    await state.clear()
    await _render_list(query, uow, user, policy)


@router.callback_query(FmOpen.filter(), Registered())
async def on_open(
    query: CallbackQuery, callback_data: FmOpen, user: User, uow: family.FamilyUoW
) -> None:
    relative = await family.owned_relative(uow, user.id, callback_data.relative_id)
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Edit"), callback_data=FmEdit(relative_id=relative.id, field=""))
    builder.button(text=_("Remove"), callback_data=FmRemove(relative_id=relative.id))
    builder.button(text=_("Back"), callback_data=FmList())
    builder.adjust(1)
    await show(query, card(relative), builder.as_markup())


@router.callback_query(FmRemove.filter(), Registered())
async def on_remove(
    query: CallbackQuery, callback_data: FmRemove, user: User, uow: family.FamilyUoW, now: datetime
) -> None:
    relative = await family.owned_relative(uow, user.id, callback_data.relative_id)
    visits = await family.upcoming_visits(uow, now, user.id, relative.id)
    text = _("Remove {name} from «My family»?").format(name=relative.full_name)
    if visits:
        text += "\n" + _(
            "Their upcoming visits will be cancelled ({count}): the time goes back to the clinic."
        ).format(count=len(visits))
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Yes, remove"), callback_data=FmRemoveGo(relative_id=relative.id))
    builder.button(text=_("Back"), callback_data=FmOpen(relative_id=relative.id))
    builder.adjust(1)
    await show(query, text, builder.as_markup())


@router.callback_query(FmRemoveGo.filter(), Registered())
async def on_remove_go(
    query: CallbackQuery,
    callback_data: FmRemoveGo,
    user: User,
    uow: family.FamilyUoW,
    now: datetime,
    policy: Policy,
) -> None:
    relative = await family.owned_relative(uow, user.id, callback_data.relative_id)
    cancelled = await family.remove_relative(uow, now, user.id, relative.id)
    text = _("{name} is removed from «My family».").format(name=relative.full_name)
    if cancelled:
        text += " " + _("Visits cancelled: {count}.").format(count=cancelled)
    await _render_list(query, uow, user, policy, prefix=text)


# --- adding ----------------------------------------------------------------------


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
    await _render_list(message, uow, user, policy)


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


def patient_label(patient: Patient) -> str:
    return patient.full_name
