"""Account use cases: language, consent, phone, profile, confirmation, edits, erasure.

Each service takes the unit of work and an explicit ``now``; none reads the
clock or commits (the caller's unit of work does). Every change writes a
journal entry whose details name the field at most, never a value: the
journal is kept after /delete_me, personal data is not.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

# The ports, inputs and results live in domain/accounts_ports.py; re-exported for callers.
from domain.accounts_ports import AccountsUoW as AccountsUoW
from domain.accounts_ports import JournalPort as JournalPort
from domain.accounts_ports import Profile as Profile
from domain.accounts_ports import RegisterCheck as RegisterCheck
from domain.accounts_ports import UsersPort as UsersPort
from domain.accounts_ports import Verification as Verification
from domain.errors import AccountNotReady, NotOwner, ValidationFailed
from domain.models import AccountLevel, JournalEntry, Sex, User
from domain.validators import (
    Field,
    Reason,
    check_holder_age,
    normalize_phone,
    parse_birth_date,
    parse_email,
    parse_full_name,
    parse_policy,
    parse_snils,
)

SUPPORTED_LOCALES = ("ru", "en")


# Register matches that failed on name, birth date or sex, per SNILS, before the
# register stops answering for that SNILS (see confirm()).
REGISTER_MISS_LIMIT = 3
REGISTER_MISS_WINDOW = timedelta(hours=24)


async def _log(
    uow: AccountsUoW, user_id: int, now: datetime, action: str, **details: object
) -> None:
    await uow.journal.add(JournalEntry(user_id=user_id, at=now, action=action, details=details))


# --- Onboarding --------------------------------------------------------------


async def start(uow: AccountsUoW, user_id: int, now: datetime) -> User:
    """First contact (or /start again): the account row exists afterwards."""
    existing = await uow.users.get(user_id)
    user = await uow.users.ensure(user_id, now)
    if existing is None or existing.status == "deleted":
        await _log(uow, user_id, now, "account.started")
    return user


async def set_language(uow: AccountsUoW, user_id: int, locale: str, now: datetime) -> None:
    if locale not in SUPPORTED_LOCALES:
        raise ValidationFailed("locale", Reason.FORMAT)
    await uow.users.ensure(user_id, now)
    await uow.users.set_locale(user_id, locale)
    await _log(uow, user_id, now, "account.language", locale=locale)


async def give_consent(uow: AccountsUoW, user_id: int, now: datetime) -> None:
    """Consent to personal-data processing (152-FZ), before any personal data is asked."""
    await uow.users.ensure(user_id, now)
    await uow.users.set_consent(user_id, now)
    await _log(uow, user_id, now, "account.consent")


async def set_phone(
    uow: AccountsUoW,
    user_id: int,
    *,
    contact_user_id: int | None,
    phone: str,
    now: datetime,
) -> str:
    """Store the phone of a shared contact; someone else's contact is refused (NotOwner)."""
    if contact_user_id != user_id:
        raise NotOwner("contact")
    e164 = normalize_phone(phone)
    user = await uow.users.get(user_id)
    if user is None or user.consent_at is None:
        raise AccountNotReady("consent")
    changed = user.phone is not None and user.phone != e164
    await uow.users.set_phone(user_id, e164)
    await _log(uow, user_id, now, "account.phone")
    if changed and user.level != AccountLevel.NONE:
        await _reconfirm(uow, user_id, now)
    return e164


async def register_profile(
    uow: AccountsUoW, user_id: int, profile: Profile, now: datetime
) -> Verification:
    """Finish onboarding: the self patient is saved and checked against the register."""
    user = await uow.users.get(user_id)
    if user is None or user.consent_at is None:
        raise AccountNotReady("consent")
    if user.phone is None:
        raise AccountNotReady("phone")
    check_holder_age(profile.birth_date, now.date())
    await uow.users.save_self_patient(
        user_id,
        surname=profile.surname,
        name=profile.name,
        patronymic=profile.patronymic,
        birth_date=profile.birth_date,
        sex=profile.sex,
        snils=profile.snils,
        policy=profile.policy,
        email=profile.email,
        now=now,
    )
    await uow.users.set_level(user_id, AccountLevel.STANDARD)
    await _log(uow, user_id, now, "account.registered")
    return await confirm(uow, user_id, now)


async def confirm(uow: AccountsUoW, user_id: int, now: datetime) -> Verification:
    """Match the attachment register: confirmed only when SNILS + policy are listed
    and the listed person's full name, birth date and sex are the patient's too."""
    patient = await uow.users.self_patient(user_id)
    if patient is None:
        raise AccountNotReady("profile")
    found = None
    locked = False
    if patient.snils and patient.policy:
        # Naming the field that differs would let someone holding a stranger's SNILS and
        # policy guess the register's birth date or sex one edit at a time (and a right
        # guess confirms the account): a few mismatches a day per SNILS, then no answer.
        since = now - REGISTER_MISS_WINDOW
        locked = await uow.users.register_misses(patient.snils, since) >= REGISTER_MISS_LIMIT
        if not locked:
            found = await uow.users.register_check(patient)
    to_check = found.mismatched if found is not None else ()
    if to_check and patient.snils:
        await uow.users.add_register_miss(patient.snils, now)
    clinic_id = found.clinic_id if found is not None and not to_check else None
    level = AccountLevel.CONFIRMED if clinic_id is not None else AccountLevel.STANDARD
    await uow.users.set_confirmation(
        patient.id, confirmed=clinic_id is not None, clinic_id=clinic_id
    )
    await uow.users.set_level(user_id, level)
    await _log(
        uow,
        user_id,
        now,
        "account.verification",
        level=level.value,
        clinic_id=clinic_id,
        to_check=list(to_check),
        locked=locked,
    )
    return Verification(level=level, clinic_id=clinic_id, to_check=to_check, locked=locked)


async def _reconfirm(uow: AccountsUoW, user_id: int, now: datetime) -> Verification:
    """A phone or policy change drops the account to standard, then tries the register again."""
    await uow.users.set_level(user_id, AccountLevel.STANDARD)
    patient = await uow.users.self_patient(user_id)
    if patient is None:
        return Verification(AccountLevel.STANDARD, None)
    await uow.users.set_confirmation(patient.id, confirmed=False, clinic_id=None)
    await _log(uow, user_id, now, "account.reconfirmation")
    return await confirm(uow, user_id, now)


# --- Profile edits -------------------------------------------------------------

EDITABLE = (Field.NAME, Field.BIRTH_DATE, Field.SEX, Field.SNILS, Field.POLICY, Field.EMAIL)
# Everything the register is matched on (and the phone) sends the account back to it.
RECONFIRM_FIELDS = (Field.NAME, Field.BIRTH_DATE, Field.SEX, Field.SNILS, Field.POLICY, Field.PHONE)


def parse_sex(text: str) -> Sex:
    try:
        return Sex(text)
    except ValueError:
        raise ValidationFailed(Field.SEX, Reason.FORMAT) from None


async def edit_field(
    uow: AccountsUoW, user_id: int, field: str, text: str | None, now: datetime, today: date
) -> Verification:
    """Change one profile field from typed text (validated the same way as in onboarding).

    ``text`` None clears the optional e-mail. SNILS and policy changes send the
    account back to confirmation. Returns the verification state afterwards.
    """
    patient = await uow.users.self_patient(user_id)
    if patient is None:
        raise AccountNotReady("profile")
    values = {
        "surname": patient.surname,
        "name": patient.name,
        "patronymic": patient.patronymic,
        "birth_date": patient.birth_date,
        "sex": patient.sex,
        "snils": patient.snils,
        "policy": patient.policy,
        "email": patient.email,
    }
    if field == Field.NAME:
        values["surname"], values["name"], values["patronymic"] = parse_full_name(text or "")
    elif field == Field.BIRTH_DATE:
        values["birth_date"] = born = parse_birth_date(text or "", today)
        check_holder_age(born, today)
    elif field == Field.SEX:
        values["sex"] = parse_sex(text or "")
    elif field == Field.SNILS:
        values["snils"] = parse_snils(text or "")
    elif field == Field.POLICY:
        values["policy"] = parse_policy(text or "")
    elif field == Field.EMAIL:
        values["email"] = None if text is None else parse_email(text)
    else:
        raise ValidationFailed(field, Reason.FORMAT)
    changed = any(values[k] != getattr(patient, k) for k in _columns(field))
    await uow.users.save_self_patient(user_id, now=now, **values)  # type: ignore[arg-type]
    await _log(uow, user_id, now, "profile.edited", field=field)
    if field in RECONFIRM_FIELDS and changed:
        return await _reconfirm(uow, user_id, now)
    user = await uow.users.get(user_id)
    level = user.level if user else AccountLevel.STANDARD
    return Verification(level=level, clinic_id=patient.attached_clinic_id)


def _columns(field: str) -> tuple[str, ...]:
    return ("surname", "name", "patronymic") if field == Field.NAME else (field,)


# --- Erasure -------------------------------------------------------------------


async def delete_account(uow: AccountsUoW, user_id: int, now: datetime, subject: str) -> None:
    """/delete_me: erase personal data; the journal stays, under an anonymous ``subject`` tag.

    The clinic's appointment records stay as anonymous history, unlinked from the
    Telegram account: a new registration from the same account starts empty.
    """
    await _log(uow, user_id, now, "account.deleted")
    await uow.users.erase(user_id, now)
    await uow.journal.anonymise_user(user_id, subject)
