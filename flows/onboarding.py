"""/start and registration in the fixed order of SPEC §11.

language → consent → phone (contact button) → full name → date of birth →
sex → SNILS → OMS policy → e-mail (or «Skip») → summary and main menu.

Every step validates where the value is typed and stays on the step with
the reason when it is wrong. Values entered so far live in the FSM data (the
FSM is stored in the database, so a restart resumes at the same step),
encrypted with the personal-data cipher: the dialogue table never holds a
plaintext name, birth date, SNILS or policy.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from aiogram import F, Router
from aiogram.filters import CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n

from domain import accounts
from domain.errors import Duplicate, NotOwner, Stale, ValidationFailed
from domain.flow_ports import Cipher, SectionsUnitOfWork
from domain.models import Sex, User, is_registered
from domain.validators import (
    Field,
    check_holder_age,
    parse_birth_date,
    parse_email,
    parse_full_name,
    parse_policy,
    parse_snils,
)
from flows.ui import keyboards as kb
from flows.ui import profile_text as pt
from flows.ui import reply
from flows.ui.i18n import gettext as _
from flows.ui.menu import main_menu
from flows.ui.onboarding_ui import (
    LANG_LABELS,
    ConsentCb,
    LangCb,
    consent_keyboard,
    consent_text,
    duplicate_snils_text,
    language_keyboard,
    phone_keyboard,
    sex_keyboard,
    skip_keyboard,
)


class Onboarding(StatesGroup):
    language = State()
    consent = State()
    phone = State()
    full_name = State()
    birth_date = State()
    sex = State()
    snils = State()
    policy = State()
    email = State()


# --- the draft: entered values, encrypted inside the FSM data -----------------


async def get_draft(state: FSMContext, cipher: Cipher) -> dict[str, Any]:
    token = (await state.get_data()).get("draft")
    if not token:
        return {}
    loaded: dict[str, Any] = json.loads(cipher.decrypt(token) or "{}")
    return loaded


async def put_draft(state: FSMContext, cipher: Cipher, **values: Any) -> None:
    draft = await get_draft(state, cipher)
    draft.update(values)
    await state.update_data(draft=cipher.encrypt(json.dumps(draft, ensure_ascii=False)))


# --- prompts ----------------------------------------------------------------------


STEP_FIELD = {
    Onboarding.phone.state: Field.PHONE,
    Onboarding.full_name.state: Field.NAME,
    Onboarding.birth_date.state: Field.BIRTH_DATE,
    Onboarding.sex.state: Field.SEX,
    Onboarding.snils.state: Field.SNILS,
    Onboarding.policy.state: Field.POLICY,
    Onboarding.email.state: Field.EMAIL,
}


async def ask(message: reply.ChatMessage, state: FSMContext, step: State, prefix: str = "") -> None:
    """Move to ``step`` (or stay) and send its question with the right keyboard."""
    await state.set_state(step)
    text, markup = step_prompt(step.state)
    await message.answer(f"{prefix}\n\n{text}" if prefix else text, reply_markup=markup)


def step_prompt(step: str | None) -> tuple[str, Any]:
    if step == Onboarding.language.state:
        return _("Choose the language / Выберите язык:"), language_keyboard()
    if step == Onboarding.consent.state:
        return consent_text(), consent_keyboard()
    field = STEP_FIELD.get(step or "")
    markup: Any = None
    if field in (Field.NAME, Field.SNILS):  # after the contact / sex reply keyboards
        markup = kb.remove()
    elif field == Field.PHONE:
        markup = phone_keyboard()
    elif field == Field.SEX:
        markup = sex_keyboard()
    elif field == Field.EMAIL:
        markup = skip_keyboard()
    return pt.prompt(field or ""), markup


# --- the router --------------------------------------------------------------------

router = Router(name="onboarding")
router.callback_query.filter(reply.HAS_MESSAGE)  # see flows.ui.reply
STEPS = StateFilter(Onboarding)


@router.message(CommandStart())
async def on_start(
    message: Message,
    state: FSMContext,
    user: User | None,
    uow: SectionsUnitOfWork,
    now: datetime,
) -> None:
    assert message.from_user is not None
    current = await state.get_state()
    if is_registered(user):
        await state.clear()
        await message.answer(_("Main menu. Choose a section."), reply_markup=main_menu())
        return
    if current in STEP_FIELD or current == Onboarding.consent.state:
        await ask(message, state, _state(current), _("Let us continue where we stopped."))
        return
    await accounts.start(uow, message.from_user.id, now)
    await state.clear()
    await ask(
        message,
        state,
        Onboarding.language,
        _("Hello! I am Zapis, a bot for booking doctor appointments at state polyclinics."),
    )


@router.callback_query(LangCb.filter(), StateFilter(Onboarding.language))
async def on_language(
    query: CallbackQuery,
    callback_data: LangCb,
    state: FSMContext,
    uow: SectionsUnitOfWork,
    now: datetime,
    i18n: I18n,
) -> None:
    if callback_data.code not in LANG_LABELS:
        raise Stale
    await accounts.set_language(uow, query.from_user.id, callback_data.code, now)
    i18n.current_locale = callback_data.code
    await query.answer()
    await ask(reply.of(query), state, Onboarding.consent)


@router.callback_query(ConsentCb.filter(), StateFilter(Onboarding.consent))
async def on_consent(
    query: CallbackQuery, state: FSMContext, uow: SectionsUnitOfWork, now: datetime
) -> None:
    await accounts.give_consent(uow, query.from_user.id, now)
    await query.answer()
    await ask(reply.of(query), state, Onboarding.phone, _("Thank you."))


@router.message(StateFilter(Onboarding.phone), F.contact)
async def on_contact(
    message: Message, state: FSMContext, uow: SectionsUnitOfWork, now: datetime
) -> None:
    assert message.from_user is not None and message.contact is not None
    try:
        await accounts.set_phone(
            uow,
            message.from_user.id,
            contact_user_id=message.contact.user_id,
            phone=message.contact.phone_number,
            now=now,
        )
    except NotOwner:
        await message.answer(pt.foreign_contact(), reply_markup=phone_keyboard())
        return
    except ValidationFailed:
        await message.answer(
            _("Telegram sent a phone number I cannot use. Please try the button again."),
            reply_markup=phone_keyboard(),
        )
        return
    await ask(message, state, Onboarding.full_name, _("Thank you, the phone is saved."))


@router.message(StateFilter(Onboarding.full_name), F.text)
async def on_name(message: Message, state: FSMContext, uow: SectionsUnitOfWork) -> None:
    try:
        surname, name, patronymic = parse_full_name(message.text or "")
    except ValidationFailed as exc:
        return await reask(message, state, exc)
    await put_draft(state, uow.cipher, surname=surname, name=name, patronymic=patronymic)
    await ask(message, state, Onboarding.birth_date)


@router.message(StateFilter(Onboarding.birth_date), F.text)
async def on_birth_date(
    message: Message, state: FSMContext, uow: SectionsUnitOfWork, now: datetime
) -> None:
    try:
        born = parse_birth_date(message.text or "", now.date())
        check_holder_age(born, now.date())
    except ValidationFailed as exc:
        return await reask(message, state, exc)
    await put_draft(state, uow.cipher, birth_date=born.isoformat())
    await ask(message, state, Onboarding.sex)


@router.message(StateFilter(Onboarding.sex), F.text)
async def on_sex(message: Message, state: FSMContext, uow: SectionsUnitOfWork) -> None:
    sex = pt.parse_sex_text(message.text or "")
    if sex is None:
        return await reask(message, state, ValidationFailed(Field.SEX, "format"))
    await put_draft(state, uow.cipher, sex=sex.value)
    await ask(message, state, Onboarding.snils)


@router.message(StateFilter(Onboarding.snils), F.text)
async def on_snils(message: Message, state: FSMContext, uow: SectionsUnitOfWork) -> None:
    # Whether another account uses this SNILS is not told here (nor anywhere):
    # the answer would let anyone probe numbers. A clash refuses the whole
    # profile at the end with a neutral message (duplicate_snils_text).
    try:
        snils = parse_snils(message.text or "")
    except ValidationFailed as exc:
        return await reask(message, state, exc)
    await put_draft(state, uow.cipher, snils=snils)
    await ask(message, state, Onboarding.policy)


@router.message(StateFilter(Onboarding.policy), F.text)
async def on_policy(message: Message, state: FSMContext, uow: SectionsUnitOfWork) -> None:
    try:
        policy = parse_policy(message.text or "")
    except ValidationFailed as exc:
        return await reask(message, state, exc)
    await put_draft(state, uow.cipher, policy=policy)
    await ask(message, state, Onboarding.email)


@router.message(StateFilter(Onboarding.email), F.text)
async def on_email(
    message: Message,
    state: FSMContext,
    uow: SectionsUnitOfWork,
    now: datetime,
) -> None:
    assert message.from_user is not None
    text = (message.text or "").strip()
    skip = text.lower() in {_("Skip").lower(), "пропустить", "skip"}
    try:
        email = None if skip else parse_email(text)
    except ValidationFailed as exc:
        return await reask(message, state, exc)
    draft = await get_draft(state, uow.cipher)
    profile = accounts.Profile(
        surname=draft["surname"],
        name=draft["name"],
        patronymic=draft["patronymic"],
        birth_date=date.fromisoformat(draft["birth_date"]),
        sex=Sex(draft["sex"]),
        snils=draft["snils"],
        policy=draft["policy"],
        email=email,
    )
    try:
        result = await accounts.register_profile(uow, message.from_user.id, profile, now)
    except Duplicate:
        await ask(message, state, Onboarding.snils, duplicate_snils_text())
        return
    except ValidationFailed as exc:  # too young by the time the profile is saved
        await ask(message, state, Onboarding.birth_date, pt.error(exc.field, exc.reason))
        return
    await state.clear()
    clinic = await uow.directory.clinic(result.clinic_id) if result.clinic_id else None
    await message.answer(
        _("Your account is created.")
        + "\n"
        + pt.level_line(
            result.level, clinic.name if clinic else None, result.to_check, result.locked
        ),
        reply_markup=main_menu(),
    )


@router.message(STEPS, F.text, ~F.text.startswith("/"))
async def fallback_text(message: Message, state: FSMContext) -> None:
    """Text where a button is expected (language, consent, phone, sex)."""
    current = await state.get_state()
    if current == Onboarding.phone.state:
        await message.answer(pt.error(Field.PHONE, "typed"), reply_markup=phone_keyboard())
        return
    text, markup = step_prompt(current)
    if current in (Onboarding.language.state, Onboarding.consent.state):
        text = _("Please use the buttons under the message.") + "\n\n" + text
    await message.answer(text, reply_markup=markup)


@router.message(STEPS, F.text.startswith("/"))
async def fallback_command(message: Message, state: FSMContext) -> None:
    """/menu (or another command) before the account exists: it was answered as if a
    sticker had been sent. The menu comes once registration is done; say so."""
    text, markup = step_prompt(await state.get_state())
    lead = _("The menu opens once registration is finished; /start begins it again.")
    await message.answer(lead + "\n\n" + text, reply_markup=markup)


@router.message(STEPS)
async def fallback_other(message: Message, state: FSMContext) -> None:
    """A sticker, photo, file or someone else's contact out of place."""
    text, markup = step_prompt(await state.get_state())
    await message.answer(pt.not_text(text), reply_markup=markup)


async def reask(message: Message, state: FSMContext, exc: ValidationFailed) -> None:
    """The reason and the expected form; the step and everything entered so far stay."""
    _text, markup = step_prompt(await state.get_state())
    await message.answer(pt.error(exc.field, exc.reason), reply_markup=markup)


def _state(name: str | None) -> State:
    for step in Onboarding.__all_states__:
        if step.state == name:
            return step
    return Onboarding.language
