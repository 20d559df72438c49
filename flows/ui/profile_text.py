"""Prompts, validation messages and the profile card shared by onboarding and profile editing.

One place maps a ``ValidationFailed(field, reason)`` to what the person reads,
so the same mistake gets the same explanation wherever the field is typed.
"""

from __future__ import annotations

from datetime import date

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain.accounts import Verification
from domain.models import AccountLevel, Patient, Sex, User
from domain.validators import Field, Reason, mask_policy, mask_snils
from flows.ui.format import esc
from flows.ui.i18n import gettext as _
from flows.ui.profile_callbacks import ProfileCb


def prompt(field: str) -> str:
    if field == Field.NAME:
        return _(
            "Please send your full name in one message: surname, name and patronymic "
            "(if you have one). Example: «Ivanov Ivan Ivanovich»."
        )
    if field == Field.BIRTH_DATE:
        return _("Please send your date of birth as DD.MM.YYYY, for example 05.03.1985.")
    if field == Field.SEX:
        return _("Please choose your sex with a button below.")
    if field == Field.SNILS:
        return _(
            "Please send your SNILS (insurance number of the individual account): "
            "11 digits, as on the card — 123-456-789 64 — or without dashes and spaces."
        )
    if field == Field.POLICY:
        return _(
            "Please send the number of your OMS (compulsory medical insurance) policy: "
            "16 digits, spaces allowed, for example 1234 5678 9012 3452."
        )
    if field == Field.EMAIL:
        return _(
            "Please send your e-mail address (for example name@example.ru), "
            "or press «Skip» — it is optional."
        )
    if field == Field.PHONE:
        return _(
            "Please share your phone number with the «Share my phone number» button below. "
            "Telegram sends the number linked to your account."
        )
    return ""


def error(field: str, reason: str) -> str:
    """What is wrong and how it should look; the flow stays on the same step."""
    if field == Field.NAME:
        if reason == Reason.CHARACTERS:
            return _(
                "A name may contain only letters, hyphens and apostrophes — no digits, "
                "emoji or other symbols. Example: «Ivanov Ivan Ivanovich»."
            )
        if reason == Reason.MIXED_SCRIPT:
            return _(
                "Please write the whole name in one alphabet, Cyrillic or Latin: it looks "
                "like letters of both are mixed. Example: «Ivanov Ivan Ivanovich»."
            )
        if reason == Reason.TOO_LONG:
            return _(
                "This is too long for a name (at most 60 characters in each part). "
                "Example: «Ivanov Ivan Ivanovich»."
            )
        return _(
            "I need the surname and the name, and the patronymic if you have one — two or "
            "three words in one message. Example: «Ivanov Ivan Ivanovich»."
        )
    if field == Field.BIRTH_DATE:
        if reason == Reason.NO_SUCH_DATE:
            return _(
                "There is no such date in the calendar. Please check the day and the month "
                "and send the date as DD.MM.YYYY, for example 05.03.1985."
            )
        if reason == Reason.FUTURE:
            return _(
                "The date of birth cannot be in the future. Please send it as DD.MM.YYYY, "
                "for example 05.03.1985."
            )
        if reason == Reason.TOO_OLD:
            return _(
                "With this date the age would be over 120 years. Please check the year and "
                "send the date as DD.MM.YYYY, for example 05.03.1985."
            )
        if reason == Reason.TOO_YOUNG:
            return _(
                "An account can be opened from the age of 14 (as on Gosuslugi). A younger "
                "child is added as a relative by a parent or guardian in their own account: "
                "«My family» → «Add a relative». If the date is wrong, send it again as "
                "DD.MM.YYYY."
            )
        return _(
            "I could not read a date. Please send the date of birth as DD.MM.YYYY, "
            "for example 05.03.1985."
        )
    if field == Field.SNILS:
        if reason == Reason.CHECKSUM:
            return _(
                "This SNILS does not pass the check: its last two digits (the check number) "
                "do not match the first nine, so there is a typo. Please compare it with your "
                "card and send it again as 123-456-789 64."
            )
        if reason == Reason.NOT_ISSUED:
            return _(
                "No SNILS like this is ever issued (the same digit throughout). Please "
                "compare the number with your card and send it again as 123-456-789 64."
            )
        return _(
            "A SNILS has exactly 11 digits. Please send it as 123-456-789 64 or as 11 digits "
            "without dashes."
        )
    if field == Field.POLICY:
        if reason == Reason.CHECKSUM:
            return _(
                "This policy number does not pass the check: its last digit does not match "
                "the others, so there is a typo. Please compare it with your policy and send "
                "all 16 digits again."
            )
        return _(
            "An OMS policy number has exactly 16 digits (spaces are allowed), for example "
            "1234 5678 9012 3452."
        )
    if field == Field.EMAIL:
        return _(
            "This does not look like an e-mail address. Please send it as name@example.ru, "
            "or press «Skip»."
        )
    if field == Field.SEX:
        return _("Please choose with a button below: «Male» or «Female».")
    if field == Field.PHONE:
        return _(
            "Please press the «Share my phone number» button below — Telegram will send your "
            "number. A typed number is not accepted."
        )
    return _("This value is not valid. Please try again.")


def foreign_contact() -> str:
    """A shared contact that is not the sender's own: only their own number is accepted."""
    return _(
        "This is someone else's contact. For your safety only your own number is "
        "accepted: press «Share my phone number» below."
    )


def not_text(expected: str) -> str:
    """A sticker, photo or file where a typed value was expected."""
    return _("I need a text message here, not a sticker, photo or file.") + "\n" + expected


def sex_label(sex: Sex | None) -> str:
    if sex == Sex.MALE:
        return _("Male")
    if sex == Sex.FEMALE:
        return _("Female")
    return "—"


def parse_sex_text(text: str) -> Sex | None:
    """The button labels in either language, or a first letter typed by hand."""
    value = text.strip().lower()
    if value in {"мужской", "муж", "м", "male", "m", _("Male").lower()}:
        return Sex.MALE
    if value in {"женский", "жен", "ж", "female", "f", _("Female").lower()}:
        return Sex.FEMALE
    return None


def field_label(field: str) -> str:
    labels = {
        Field.NAME: _("full name"),
        Field.BIRTH_DATE: _("date of birth"),
        Field.SEX: _("sex"),
    }
    return labels.get(field, field)


def level_line(
    level: AccountLevel,
    clinic_name: str | None,
    to_check: tuple[str, ...] = (),
    locked: bool = False,
) -> str:
    if locked:
        return _(
            "Account: standard — these SNILS and policy did not match the attachment register "
            "several times today, so it is not checked again until tomorrow. If your data are "
            "right, ask your clinic's registry. You can book appointments meanwhile."
        )
    if level == AccountLevel.CONFIRMED:
        return _(
            "Account: confirmed — your SNILS, policy, full name, date of birth and sex match "
            "the attachment register; attached clinic: {clinic}."
        ).format(clinic=esc(clinic_name) if clinic_name else "—")
    if to_check:
        # Which field differs, never what the register holds.
        return _(
            "Account: standard — the attachment register does not confirm these data: "
            "{fields}. Please check them in «Profile» (exactly as in your passport); if they "
            "are right, ask your clinic's registry. You can book appointments meanwhile."
        ).format(fields=", ".join(field_label(f) for f in to_check))
    return _(
        "Account: standard — your data were not confirmed by a clinic's attachment "
        "register. You can book appointments; visit history, documents and certificates need a "
        "confirmed account (ask your clinic's registry to attach you)."
    )


def fmt_date(value: date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else "—"


def profile_card(user: User, patient: Patient, clinic_name: str | None) -> str:
    """HTML-safe (sent with the default parse mode): typed values are escaped."""
    lines = [
        _("Your profile"),
        "",
        _("Full name: {name}").format(name=esc(patient.full_name)),
        _("Date of birth: {date}").format(date=fmt_date(patient.birth_date)),
        _("Sex: {sex}").format(sex=sex_label(patient.sex)),
        _("Phone: {phone}").format(phone=esc(user.phone or "—")),
        _("SNILS: {snils}").format(snils=mask_snils(patient.snils) if patient.snils else "—"),
        _("OMS policy: {policy}").format(
            policy=mask_policy(patient.policy) if patient.policy else "—"
        ),
        _("E-mail: {email}").format(email=esc(patient.email) if patient.email else _("not given")),
        _("Language: {language}").format(language="English" if user.locale == "en" else "Русский"),
        "",
        level_line(user.level, clinic_name),
    ]
    return "\n".join(lines)


# --- «Профиль»: erasing the data, the level after an edit ------------------------


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
    keyboard = InlineKeyboardBuilder()
    keyboard.button(text=_("Erase my data"), callback_data=ProfileCb(action="erase"))
    keyboard.button(text=_("Back"), callback_data=ProfileCb(action="show"))
    return keyboard.as_markup()


def level_change(before: User | None, result: Verification) -> str:
    """What an edit did to the account level, said above the profile card."""
    lines = []
    if before is not None and before.level != result.level:
        lines.append(_("The account level changed."))
    if result.to_check or result.locked:  # which field to check (not the register's values)
        lines.append(level_line(result.level, None, result.to_check, result.locked))
    return "\n".join(lines)
