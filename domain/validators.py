"""Validation of what a person types: SNILS, OMS policy, full name, birth date, e-mail, phone.

Pure functions: each returns the canonical form or raises
``ValidationFailed(field, reason)``; flows map (field, reason) to a localized
message that says what is wrong and how the value should look. The check-digit
algorithms are written out here (python-stdnum has no Russian SNILS/OMS
module) and are covered by property tests.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import phonenumbers

from domain.errors import ValidationFailed
from domain.name_key import name_key as name_key  # re-exported (storage/crypto.py)


class Field:
    SNILS = "snils"
    POLICY = "policy"
    NAME = "name"
    BIRTH_DATE = "birth_date"
    EMAIL = "email"
    PHONE = "phone"
    SEX = "sex"


class Reason:
    EMPTY = "empty"
    FORMAT = "format"  # wrong characters or number of digits
    CHECKSUM = "checksum"  # digits fine, control number wrong
    TOO_LONG = "too_long"
    PARTS = "parts"  # a full name needs 2 or 3 words
    CHARACTERS = "characters"  # digits, emoji, punctuation in a name
    MIXED_SCRIPT = "mixed_script"  # Cyrillic and Latin mixed in one name
    NO_SUCH_DATE = "no_such_date"  # 31.02.2000
    FUTURE = "future"
    TOO_OLD = "too_old"
    TOO_YOUNG = "too_young"  # an account holder must be MIN_HOLDER_AGE or older
    NOT_ISSUED = "not_issued"  # passes the checksum but no such number is issued


MAX_INPUT = 300  # anything longer is refused before any parsing work
MAX_NAME_PART = 60
MAX_AGE_YEARS = 120
MIN_HOLDER_AGE = 14  # as on Gosuslugi: younger children are relatives of a parent's account
SNILS_UNCHECKED_MAX = 1_001_998  # numbers up to 001-001-998 carry no checksum

_SEPARATORS = re.compile(r"[\s\-‐‑‒–—]+")


def _digits_only(text: str, field: str, allowed_extra: str = "") -> str:
    """Digits with spaces/dashes removed; anything else is a format error."""
    if len(text) > MAX_INPUT:
        raise ValidationFailed(field, Reason.TOO_LONG)
    stripped = _SEPARATORS.sub("", text.strip())
    if not stripped:
        raise ValidationFailed(field, Reason.EMPTY)
    if not (stripped.isascii() and stripped.isdigit()):
        raise ValidationFailed(field, Reason.FORMAT)
    return stripped


# --- SNILS ---------------------------------------------------------------


def snils_checksum(body: str) -> int:
    """Control number of a 9-digit SNILS body (Pension Fund algorithm)."""
    total = sum(int(d) * w for d, w in zip(body, range(9, 0, -1), strict=True))
    if total < 100:
        return total
    if total in (100, 101):
        return 0
    control = total % 101
    return 0 if control == 100 else control


def format_snils(digits: str) -> str:
    return f"{digits[0:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:11]}"


def parse_snils(text: str) -> str:
    """``123-456-789 64`` or 11 digits (spaces/dashes allowed) → ``XXX-XXX-XXX YY``."""
    digits = _digits_only(text, Field.SNILS)
    if len(digits) != 11:
        raise ValidationFailed(Field.SNILS, Reason.FORMAT)
    body, control = digits[:9], int(digits[9:])
    if len(set(body)) == 1:
        # 000-000-000 00, 111-111-111 45 …: the checksum accepts them, the Pension
        # Fund never issues them (a number with one digit repeated throughout).
        raise ValidationFailed(Field.SNILS, Reason.NOT_ISSUED)
    if int(body) > SNILS_UNCHECKED_MAX and snils_checksum(body) != control:
        raise ValidationFailed(Field.SNILS, Reason.CHECKSUM)
    return format_snils(digits)


def mask_snils(snils: str) -> str:
    """``112-233-445 95`` → ``***-***-445 95`` (enough to recognise, not to reuse)."""
    digits = "".join(ch for ch in snils if ch.isdigit())
    if len(digits) != 11:
        return "***"
    return f"***-***-{digits[6:9]} {digits[9:11]}"


# --- OMS policy ----------------------------------------------------------


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def luhn_check_digit(body: str) -> str:
    """The digit that makes ``body + digit`` pass Luhn (used by tests and demo data)."""
    for d in "0123456789":
        if luhn_ok(body + d):
            return d
    raise AssertionError("unreachable")  # pragma: no cover


def parse_policy(text: str) -> str:
    """Single-format OMS policy: 16 digits, the last one a Luhn check digit (FFOMS)."""
    digits = _digits_only(text, Field.POLICY)
    if len(digits) != 16:
        raise ValidationFailed(Field.POLICY, Reason.FORMAT)
    if not luhn_ok(digits):
        raise ValidationFailed(Field.POLICY, Reason.CHECKSUM)
    return digits


def mask_policy(policy: str) -> str:
    return "*" * 12 + policy[-4:] if len(policy) == 16 else "*" * 16


# --- Full name -----------------------------------------------------------

_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'", "‘": "'"})
_PART = re.compile(r"^[^\W\d_]+(?:['-][^\W\d_]+)*$")
_PATRONYMIC_SUFFIXES = {"оглы", "кызы", "ogly", "kyzy", "uly", "uulu"}


def _script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    if name.startswith("CYRILLIC"):
        return "cyrillic"
    if name.startswith("LATIN"):
        return "latin"
    return "other"


def _capitalise(part: str) -> str:
    """Fix all-lower or ALL-UPPER input (``иванов`` → ``Иванов``); keep deliberate casing."""
    if part.islower() or part.isupper():
        return "-".join(
            "'".join(s[:1].upper() + s[1:].lower() for s in seg.split("'"))
            for seg in part.split("-")
        )
    return part


def parse_full_name(text: str) -> tuple[str, str, str]:
    """«Иванов Иван Иванович» → (surname, name, patronymic); the patronymic may be empty."""
    if len(text) > MAX_INPUT:
        raise ValidationFailed(Field.NAME, Reason.TOO_LONG)
    cleaned = unicodedata.normalize("NFC", text).translate(_APOSTROPHES).strip()
    if not cleaned:
        raise ValidationFailed(Field.NAME, Reason.EMPTY)
    parts = cleaned.split()
    if len(parts) == 4 and parts[3].lower() in _PATRONYMIC_SUFFIXES:
        parts = [parts[0], parts[1], f"{parts[2]} {parts[3]}"]
    if not 2 <= len(parts) <= 3:
        raise ValidationFailed(Field.NAME, Reason.PARTS)
    scripts: set[str] = set()
    for part in parts:
        for word in part.split(" "):
            if not _PART.match(word):
                raise ValidationFailed(Field.NAME, Reason.CHARACTERS)
            scripts.update(_script(ch) for ch in word if ch.isalpha())
        if len(part) > MAX_NAME_PART:
            raise ValidationFailed(Field.NAME, Reason.TOO_LONG)
    if "other" in scripts:
        raise ValidationFailed(Field.NAME, Reason.CHARACTERS)
    if len(scripts) > 1:
        raise ValidationFailed(Field.NAME, Reason.MIXED_SCRIPT)
    fixed = [
        " ".join(w if w.lower() in _PATRONYMIC_SUFFIXES else _capitalise(w) for w in p.split(" "))
        for p in parts
    ]
    surname, name = fixed[0], fixed[1]
    patronymic = fixed[2] if len(fixed) == 3 else ""
    return surname, name, patronymic


# --- Date of birth -------------------------------------------------------

_DATE = re.compile(r"^(\d{1,2})[./\-\s](\d{1,2})[./\-\s](\d{4})$")


def parse_birth_date(text: str, today: date) -> date:
    """``ДД.ММ.ГГГГ``: a real calendar date, not in the future, age at most 120."""
    if len(text) > MAX_INPUT:
        raise ValidationFailed(Field.BIRTH_DATE, Reason.TOO_LONG)
    cleaned = text.strip()
    if not cleaned:
        raise ValidationFailed(Field.BIRTH_DATE, Reason.EMPTY)
    match = _DATE.match(cleaned) if cleaned.isascii() else None
    if match is None:
        raise ValidationFailed(Field.BIRTH_DATE, Reason.FORMAT)
    day, month, year = (int(g) for g in match.groups())
    try:
        born = date(year, month, day)
    except ValueError:
        raise ValidationFailed(Field.BIRTH_DATE, Reason.NO_SUCH_DATE) from None
    if born > today:
        raise ValidationFailed(Field.BIRTH_DATE, Reason.FUTURE)
    if age_on(born, today) > MAX_AGE_YEARS:
        raise ValidationFailed(Field.BIRTH_DATE, Reason.TOO_OLD)
    return born


def check_holder_age(born: date, today: date) -> None:
    """An account holder is at least MIN_HOLDER_AGE on ``today`` (TOO_YOUNG otherwise)."""
    if age_on(born, today) < MIN_HOLDER_AGE:
        raise ValidationFailed(Field.BIRTH_DATE, Reason.TOO_YOUNG)


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


# --- E-mail --------------------------------------------------------------

_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[^\W_](?:[\w-]{0,61}[^\W_])?$")


def parse_email(text: str) -> str:
    """A plain mailbox ``name@example.ru`` (Cyrillic domains allowed); the domain lower-cased."""
    if len(text) > MAX_INPUT:
        raise ValidationFailed(Field.EMAIL, Reason.TOO_LONG)
    cleaned = text.strip()
    if not cleaned:
        raise ValidationFailed(Field.EMAIL, Reason.EMPTY)
    if len(cleaned) > 254 or cleaned.count("@") != 1:
        raise ValidationFailed(Field.EMAIL, Reason.FORMAT)
    local, domain = cleaned.split("@")
    labels = domain.split(".")
    if (
        not local
        or len(local) > 64
        or not _LOCAL.match(local)
        or len(labels) < 2
        or not all(_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise ValidationFailed(Field.EMAIL, Reason.FORMAT)
    return f"{local}@{domain.lower()}"


# --- Phone ---------------------------------------------------------------


def normalize_phone(text: str, region: str = "RU") -> str:
    """Any usual spelling (``8 (916) 123-45-67``, ``+7916…``, ``79161234567``) → E.164."""
    if len(text) > MAX_INPUT:
        raise ValidationFailed(Field.PHONE, Reason.TOO_LONG)
    cleaned = text.strip()
    if not cleaned:
        raise ValidationFailed(Field.PHONE, Reason.EMPTY)
    if cleaned[0].isdigit() and len(re.sub(r"\D", "", cleaned)) > 10 and cleaned[0] != "8":
        cleaned = "+" + cleaned  # Telegram contacts often come without the plus
    try:
        number = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException:
        raise ValidationFailed(Field.PHONE, Reason.FORMAT) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed(Field.PHONE, Reason.FORMAT)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
