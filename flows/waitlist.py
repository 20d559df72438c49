"""«Лист ожидания»: join when nothing fits, see and leave entries, answer an offer.

Join: from the booking flow (the no-free-time screens and the calendar) —
the specialty, clinic and doctor come from the dialogue; the patient picks a
range (today only / 7 / 14 / 30 days) and a time of day. Offers arrive from the wait-list
job (domain/waitlist.py) as outbox messages with «Записаться» / «Пропустить»
(flows.ui.notify_callbacks.WlOffer). Every id from a button is checked
against the user's own patients / entries; anything else is «устарела».
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from aiogram import Router
from aiogram.filters import Command
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from domain import waitlist
from domain.errors import DomainError, Duplicate, NotOwner, SlotTaken, VisitOverlaps
from domain.models import User
from domain.waitlist import NewEntry, WaitEntry
from flows.booking_common import (
    Event,
    load_details,
    mark_confirmed_in_chat,
    policy_from,
    refusal_text,
    refuse,
    send_files,
    show,
    stale,
)
from flows.ui.format import current_locale, details_text, fmt_short_day, local
from flows.ui.keyboards import button, inline
from flows.ui.notify_callbacks import WlOffer
from flows.ui.safe_callback import SafeCallback

if TYPE_CHECKING:
    from storage.uow import SqlUnitOfWork

TOD_CODES = {"a": "any", "m": "morning", "d": "day", "e": "evening"}


class WaitListSteps(StatesGroup):
    """Where a typed message lands while the wait-list questions are on screen
    (flows/step_hints.py answers it with this step's hint, not the calendar's)."""

    period = State()
    time_of_day = State()


class WlRange(SafeCallback, prefix="wr"):
    """Step 1 → 2: p patient, s specialty, c clinic, d doctor (0 = any), n days."""

    p: int
    s: int
    c: int
    d: int
    n: int


class WlJoin(SafeCallback, prefix="wj"):
    p: int
    s: int
    c: int
    d: int
    n: int
    tod: str  # a|m|d|e


class WlAsk(SafeCallback, prefix="wa"):
    """Back to step 1 with another doctor choice (d = 0: any doctor of the clinic)."""

    p: int
    s: int
    c: int
    d: int


class WlMine(SafeCallback, prefix="wm"):
    pass


class WlLeave(SafeCallback, prefix="wx"):
    e: int


def build_router() -> Router:
    router = Router(name="waitlist")
    router.message.register(on_command, Command("waitlist"))
    router.callback_query.register(on_ask, WlAsk.filter())
    router.callback_query.register(on_range, WlRange.filter())
    router.callback_query.register(on_join, WlJoin.filter())
    router.callback_query.register(on_mine, WlMine.filter())
    router.callback_query.register(on_leave, WlLeave.filter())
    router.callback_query.register(on_offer, WlOffer.filter())
    return router


def tod_label(code: str) -> str:
    return {
        "any": _("any time"),
        "morning": _("morning (before 12:00)"),
        "day": _("afternoon (12:00–17:00)"),
        "evening": _("evening (after 17:00)"),
    }.get(code, code)


def range_label(days: int) -> str:
    return _("Today only") if days == 1 else _("{n} days").format(n=days)


def dates_text(start: date, end: date) -> str:
    if start == end:
        return _("only {day}").format(day=fmt_short_day(start))
    return f"{fmt_short_day(start)} – {fmt_short_day(end)}"


def _user(data: dict[str, Any]) -> User | None:
    user: User | None = data.get("user")
    return user if user is not None and user.level != "none" else None


async def _what(
    uow: SqlUnitOfWork, user: User, p: int, s: int, c: int, d: int
) -> tuple[str, str] | None:
    """(description, region) of a join request if every id is the user's / consistent."""
    patient = await uow.users.patient(p)
    spec = await uow.directory.specialty(s)
    clinic = await uow.directory.clinic(c)
    if patient is None or patient.owner_user_id != user.id or spec is None or clinic is None:
        return None
    lines = [
        _("Patient: {name}").format(name=patient.full_name),
        _("Specialty: {name}").format(name=spec.name(current_locale())),
        _("Clinic: {name}").format(name=clinic.name),
    ]
    if d:
        doctor = await uow.directory.doctor(d)
        if doctor is None or not await uow.directory.has_role(d, c, s):
            return None
        lines.append(_("Doctor: {name}").format(name=doctor.full_name))
    else:
        lines.append(_("Doctor: any"))
    return "\n".join(lines), clinic.region_id


async def offer_join(event: Event, fsm: dict[str, Any], **data: Any) -> None:
    """The booking flow's «Встать в лист ожидания»: start from what the dialogue chose."""
    user = _user(data)
    p, s, c = (int(fsm.get(k) or 0) for k in ("bk_p", "bk_s", "bk_c"))
    if user is None or not (p and s and c):
        await stale(event)
        return
    await _ask_range(event, data["uow"], user, p, s, c, int(fsm.get("bk_d") or 0))


async def _ask_range(
    event: Event, uow: SqlUnitOfWork, user: User, p: int, s: int, c: int, d: int
) -> None:
    what = await _what(uow, user, p, s, c, d)
    if what is None:
        await stale(event)
        return
    ranges = [WlRange(p=p, s=s, c=c, d=d, n=n) for n in waitlist.RANGE_DAYS]
    rows = [
        [button(range_label(r.n), r) for r in ranges if r.n == 1],
        [button(range_label(r.n), r) for r in ranges if r.n > 1],
    ]
    if d:
        rows.append([button(_("Any doctor of this clinic"), WlAsk(p=p, s=s, c=c, d=0))])
    text = (
        _("Join the wait list")
        + "\n\n"
        + what[0]
        + "\n\n"
        + _(
            "When a matching time frees up, it is offered to the first person on the list and "
            "held for them for a while; then to the next. For which period are you waiting?"
        )
    )
    await show(event, text, inline(rows), new=isinstance(event, CallbackQuery))


async def on_ask(query: CallbackQuery, callback_data: WlAsk, **data: Any) -> None:
    user = _user(data)
    if user is None:
        await stale(query)
        return
    cb = callback_data
    await data["state"].set_state(WaitListSteps.period)
    await _ask_range(query, data["uow"], user, cb.p, cb.s, cb.c, cb.d)


async def on_range(query: CallbackQuery, callback_data: WlRange, **data: Any) -> None:
    user = _user(data)
    cb = callback_data
    what = await _what(data["uow"], user, cb.p, cb.s, cb.c, cb.d) if user else None
    if what is None or cb.n not in waitlist.RANGE_DAYS:
        await stale(query)
        return
    labels = {"m": "morning", "d": "day", "e": "evening", "a": "any"}
    rows = [
        [button(tod_label(labels[k]), WlJoin(p=cb.p, s=cb.s, c=cb.c, d=cb.d, n=cb.n, tod=k))]
        for k in ("m", "d", "e", "a")
    ]
    await data["state"].set_state(WaitListSteps.time_of_day)
    await show(query, what[0] + "\n\n" + _("Which time of day suits you?"), inline(rows))


async def on_join(query: CallbackQuery, callback_data: WlJoin, **data: Any) -> None:
    user = _user(data)
    cb = callback_data
    uow: SqlUnitOfWork = data["uow"]
    what = await _what(uow, user, cb.p, cb.s, cb.c, cb.d) if user else None
    tod = TOD_CODES.get(cb.tod)
    if user is None or what is None or tod is None or cb.n not in waitlist.RANGE_DAYS:
        await stale(query)
        return
    await data["state"].set_state(None)  # the questions are answered (the draft stays)
    clinic = await uow.directory.clinic(cb.c)
    assert clinic is not None
    now = data["clock"].now()
    start, end = waitlist.entry_range(local(now, clinic.tz).date(), cb.n)
    try:
        await waitlist.join(
            uow,
            NewEntry(
                patient_id=cb.p,
                user_id=user.id,
                specialty_id=cb.s,
                region_id=what[1],
                doctor_id=cb.d or None,
                clinic_id=cb.c,
                date_from=start,
                date_to=end,
                time_of_day=tod,
                created_at=now,
            ),
        )
    except NotOwner:
        await stale(query)
        return
    except Duplicate:
        await show(
            query,
            _(
                "This patient is already on the wait list for this specialty (or has five "
                "entries). See «My wait list» to leave an entry first."
            ),
            inline([[button(_("My wait list"), WlMine())]]),
        )
        return
    minutes = data["settings"].limits.waitlist_offer_minutes
    text = (
        _("✅ You are on the wait list.")
        + "\n\n"
        + what[0]
        + "\n"
        + _("Dates: {dates}, {tod}").format(dates=dates_text(start, end), tod=tod_label(tod))
        + "\n\n"
        + _(
            "When a matching time frees up we will send it to you and hold it for {minutes} "
            "minutes: «Book it» or «Skip». The entry ends on {end}."
        ).format(minutes=minutes, end=fmt_short_day(end))
    )
    await show(query, text, inline([[button(_("My wait list"), WlMine())]]))


# --------------------------------------------------------------------------- my entries


async def _entry_line(uow: SqlUnitOfWork, entry: WaitEntry) -> str:
    spec = await uow.directory.specialty(entry.specialty_id)
    parts = [spec.name(current_locale()) if spec else "?"]
    if entry.doctor_id:
        doctor = await uow.directory.doctor(entry.doctor_id)
        if doctor is not None:
            parts.append(doctor.full_name)
    if entry.clinic_id:
        clinic = await uow.directory.clinic(entry.clinic_id)
        if clinic is not None:
            parts.append(clinic.name)
    if entry.date_from and entry.date_to:
        parts.append(dates_text(entry.date_from, entry.date_to))
    parts.append(tod_label(entry.time_of_day))
    line = " · ".join(parts)
    if entry.status == waitlist.OFFERED:
        line += "\n   " + _("a time is being offered to you now")
    return line


async def _mine(event: Event, uow: SqlUnitOfWork, user: User, head: str = "") -> None:
    entries = await uow.waitlist.live_for_user(user.id)
    if not entries:
        await show(
            event,
            head
            + _(
                "You are not on any wait list. To wait for a time (also an earlier one than "
                "what is free), press «Join the wait list» in a doctor's calendar when booking."
            ),
        )
        return
    lines = [head + _("Your wait list:")]
    rows = []
    for i, entry in enumerate(entries, 1):
        lines.append(f"{i}. " + await _entry_line(uow, entry))
        rows.append([button(_("Leave entry {n}").format(n=i), WlLeave(e=entry.id))])
    await show(event, "\n".join(lines), inline(rows))


async def on_command(message: Message, **data: Any) -> None:
    user = _user(data)
    if user is None:
        await message.answer(_("Please finish registration first: send /start."))
        return
    await _mine(message, data["uow"], user)


async def on_mine(query: CallbackQuery, **data: Any) -> None:
    user = _user(data)
    if user is None:
        await stale(query)
        return
    await _mine(query, data["uow"], user)


async def on_leave(query: CallbackQuery, callback_data: WlLeave, **data: Any) -> None:
    user = _user(data)
    uow: SqlUnitOfWork = data["uow"]
    if user is None:
        await stale(query)
        return
    try:
        await waitlist.leave(uow, user.id, callback_data.e)
    except DomainError:
        await stale(query)
        return
    await _mine(query, uow, user, _("You have left this wait list.") + "\n\n")


# --------------------------------------------------------------------------- offers


async def on_offer(query: CallbackQuery, callback_data: WlOffer, **data: Any) -> None:
    """«Записаться» books the held slot; «Пропустить» passes it to the next subscriber."""
    user = _user(data)
    uow: SqlUnitOfWork = data["uow"]
    settings = data["settings"]
    now = data["clock"].now()
    cb = callback_data
    if user is None:
        await stale(query)
        return
    if not cb.go:
        try:
            await waitlist.decline(
                uow,
                now,
                user.id,
                cb.e,
                cb.t,
                settings.limits.waitlist_offer_minutes,
                timedelta(minutes=settings.limits.offer_lead_minutes),
            )
        except DomainError:
            await stale(query)
            return
        await _close_offer(query)
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.answer(
                _("Skipped: the time goes to the next person. You stay on the wait list.")
            )
        return
    try:
        appointment = await waitlist.accept(uow, now, user.id, cb.e, cb.t, policy_from(settings))
    except NotOwner:
        await stale(query)
        return
    except SlotTaken as exc:
        await _close_offer(query)
        await refuse(query, refusal_text(exc, None, None))
        return
    except VisitOverlaps as exc:  # names the visit in the way: too long for an alert
        await _close_offer(query)
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.answer(refusal_text(exc, None, None), parse_mode=None)
        return
    except DomainError as exc:
        await refuse(query, refusal_text(exc, None, None))
        return
    await _close_offer(query)
    await query.answer()
    patient = await uow.users.patient(appointment.patient_id)
    details = await load_details(uow, patient, appointment=appointment) if patient else None
    if details is None or not isinstance(query.message, Message):
        return
    await send_files(query, details, settings.default_tz, now)
    await query.message.answer(
        _("✅ Booked from the wait list! Appointment number: {number}").format(
            number=appointment.number
        )
        + "\n\n"
        + details_text(details, settings.default_tz),
        parse_mode=None,
    )
    await mark_confirmed_in_chat(uow, appointment, now)


async def _close_offer(query: CallbackQuery) -> None:
    if isinstance(query.message, Message) and query.message.reply_markup is not None:
        await query.message.edit_reply_markup(reply_markup=None)
