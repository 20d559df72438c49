"""CallbackData of the booking dialogue and «Мои записи»: short prefixes, ids only.

Every class packs to well under Telegram's 64 bytes (``tests/flows`` check
the longest realistic values). Names never travel in callbacks; handlers look
objects up by id and check the user owns them (patients, appointments).
Days travel as ``YYYYMMDD`` integers (8 digits) to stay short and sortable.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from flows.ui.safe_callback import SafeCallback


def day_code(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def day_from_code(code: int) -> date:
    return date(code // 10000, code // 100 % 100, code % 100)


class Noop(SafeCallback, prefix="nop"):
    """A button that does nothing but explain (a day without free time, a page counter)."""

    why: str  # "day" | "page"


# --- booking: one class per step; p = patient id, s = specialty id, c = clinic id, d = doctor id
class BkPatient(SafeCallback, prefix="bp"):
    p: int


class BkSpecPage(SafeCallback, prefix="bsp"):
    page: int


class BkSpec(SafeCallback, prefix="bs"):
    s: int


class BkClinicPage(SafeCallback, prefix="bcp"):
    page: int


class BkClinic(SafeCallback, prefix="bc"):
    c: int


class BkDoctor(SafeCallback, prefix="bd"):
    d: int  # 0 = any doctor, earliest time; -(n + 1) = page n of the doctors list

    signed: ClassVar[frozenset[str]] = frozenset({"d"})


class BkDay(SafeCallback, prefix="by"):
    d: int  # doctor id
    day: int  # YYYYMMDD (clinic-local)
    pg: int = 0  # page of the day's times


class BkSlot(SafeCallback, prefix="bt"):
    p: int
    t: int  # slot id


class BkConfirm(SafeCallback, prefix="bk"):
    p: int
    t: int


class BkBack(SafeCallback, prefix="bb"):
    to: str  # patient|spec|clinics|clinic|doctors|days|slots


class BkJump(SafeCallback, prefix="bj"):
    """A shortcut to another step: the therapist after a referral refusal, other clinics."""

    to: str  # therapist|clinics|doctors|waitlist


# --- «Мои записи»
class ApList(SafeCallback, prefix="al"):
    past: int  # 0 upcoming, 1 past
    page: int


class ApOpen(SafeCallback, prefix="ao"):
    appointment_id: int


class ApCancel(SafeCallback, prefix="ac"):
    appointment_id: int
    step: int  # 0 ask, 1 first confirmation given (late cancels ask again), 2 final


class ApFile(SafeCallback, prefix="af"):
    appointment_id: int
    kind: str  # ics|pdf


# --- «Перенести» (reschedule): a = appointment id
class ApMove(SafeCallback, prefix="am"):
    a: int  # start reschedule: the same doctor's calendar


class ApMoveOther(SafeCallback, prefix="amo"):
    a: int  # another doctor of the same specialty (same clinic)


class ApMoveDoctor(SafeCallback, prefix="amd"):
    a: int
    d: int


class ApMoveDay(SafeCallback, prefix="ay"):
    a: int
    d: int
    day: int
    pg: int = 0


class ApMoveSlot(SafeCallback, prefix="at"):
    a: int
    t: int


class ApMoveConfirm(SafeCallback, prefix="ak"):
    a: int
    t: int
