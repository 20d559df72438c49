"""«История посещений»: past visits of the user and their relatives, with results.

Newest first (a button turns the order), filters by patient, specialty, doctor,
clinic and period chosen with buttons (the choices come from the user's own
visits, so a forged value is a stale button), cancelled and missed visits
shown with their status and filterable out, paged. «Подробнее» shows the
visit's result and referrals; «PDF» sends the visit summary as a document.
The filter lives in the FSM data (``hi_f``); ids from buttons are checked
against the user's own visits (domain/records.py ``owned_item``).
"""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import datetime
from typing import Any

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from documents.worker import build_off_loop
from domain import records
from domain.errors import Stale
from domain.models import User
from domain.policy import Policy
from domain.records import HistoryFilter, HistoryItem
from flows.booking_common import show
from flows.docs_common import HISTORY_DETAILS, Confirmed
from flows.guards import Registered
from flows.history_text import detail_rows, details_text, filter_summary, item_button, period_label
from flows.ui import menu as menu_ui
from flows.ui.format import current_locale
from flows.ui.i18n import gettext as _
from flows.ui.pager import pager_row, paginate
from flows.ui.records_callbacks import HiList, HiOpen, RfList
from flows.ui.safe_callback import SafeCallback

router = Router(name="history")

PER_PAGE = 6
PERIODS = (30, 180, 365, 0)
KINDS = ("patient_id", "specialty_id", "doctor_id", "clinic_id", "period_days")


class HiToggle(SafeCallback, prefix="hit"):
    what: str  # sort | done | reset


class HiFilters(SafeCallback, prefix="hif"):
    pass


class HiPick(SafeCallback, prefix="hip"):
    kind: str


class HiSet(SafeCallback, prefix="hiv"):
    kind: str
    value: int  # 0 = any


class HiPdf(SafeCallback, prefix="hix"):
    appointment_id: int


async def _filter(state: FSMContext) -> HistoryFilter:
    raw = (await state.get_data()).get("hi_f") or {}
    return HistoryFilter(
        **{k: v for k, v in raw.items() if k in HistoryFilter.__dataclass_fields__}
    )


async def _save(state: FSMContext, f: HistoryFilter) -> None:
    await state.update_data(hi_f=asdict(f))


async def _past(uow: records.RecordsUoW, user: User, now: datetime) -> list[HistoryItem]:
    return [i for i in await uow.records.history(user.id) if records.in_history(i.appointment, now)]


def _options(items: list[HistoryItem], kind: str) -> dict[int, str]:
    """The values a filter can take: those of the user's own visits."""
    loc = current_locale()
    found: dict[int, str] = {}
    for i in items:
        a = i.appointment
        if kind == "patient_id":
            found[a.patient_id] = i.patient_name
        elif kind == "specialty_id":
            found[a.specialty_id] = i.specialty(loc)
        elif kind == "doctor_id":
            found[a.doctor_id] = i.doctor_name
        elif kind == "clinic_id":
            found[a.clinic_id] = i.clinic_name
    if kind == "period_days":
        found = {days: period_label(days) for days in PERIODS}
    return found


async def _render(
    event: Message | CallbackQuery,
    uow: records.RecordsUoW,
    user: User,
    now: datetime,
    policy: Policy,
    state: FSMContext,
    page: int = 0,
) -> None:
    everything = await _past(uow, user, now)
    f = await _filter(state)
    items = records.apply_filter(everything, f, now)
    chunk = paginate(items, page, PER_PAGE)
    names = {(k, v): n for k in KINDS[:4] for v, n in _options(everything, k).items()}
    lines = [_("Visit history ({count}):").format(count=len(items))]
    summary = filter_summary(f, names)
    if summary:
        lines.append(summary)
    if not everything:
        lines = [_("No past visits yet. They appear here after the visit's time.")]
    elif not items:
        lines.append(_("No visits match the filters."))
    builder = InlineKeyboardBuilder()
    for item in chunk.items:
        builder.button(
            text=item_button(item, policy.home_tz),
            callback_data=HiOpen(appointment_id=item.appointment.id),
        )
    builder.adjust(1)
    builder.row(*pager_row(chunk.page, chunk.pages, lambda n: HiList(page=n)))
    builder.row(
        _btn(_("Oldest first") if f.newest_first else _("Newest first"), HiToggle(what="sort")),
        _btn(_("Filters"), HiFilters()),
    )
    builder.row(_btn(_("Referrals"), RfList()))
    await show(event, "\n".join(lines), builder.as_markup())


def _btn(text: str, data: SafeCallback) -> Any:
    from flows.ui.keyboards import button

    return button(text, data)


@router.message(F.text == menu_ui.HISTORY, Registered())
async def on_history(
    message: Message,
    user: User,
    uow: records.RecordsUoW,
    now: datetime,
    policy: Policy,
    state: FSMContext,
) -> None:
    await state.clear()
    await _render(message, uow, user, now, policy, state)


@router.callback_query(HiList.filter(), Registered())
async def on_list(
    query: CallbackQuery,
    callback_data: HiList,
    user: User,
    uow: records.RecordsUoW,
    now: datetime,
    policy: Policy,
    state: FSMContext,
) -> None:
    await _render(query, uow, user, now, policy, state, callback_data.page)


@router.callback_query(HiToggle.filter(), Registered())
async def on_toggle(
    query: CallbackQuery,
    callback_data: HiToggle,
    user: User,
    uow: records.RecordsUoW,
    now: datetime,
    policy: Policy,
    state: FSMContext,
) -> None:
    f = await _filter(state)
    if callback_data.what == "sort":
        f = replace(f, newest_first=not f.newest_first)
    elif callback_data.what == "done":
        f = replace(f, only_done=not f.only_done)
    elif callback_data.what == "reset":
        f = HistoryFilter(newest_first=f.newest_first)
    else:
        raise Stale
    await _save(state, f)
    await _render(query, uow, user, now, policy, state)


@router.callback_query(HiFilters.filter(), Registered())
async def on_filters(query: CallbackQuery, state: FSMContext) -> None:
    f = await _filter(state)
    labels = {
        "patient_id": _("Patient"),
        "specialty_id": _("Specialty"),
        "doctor_id": _("Doctor"),
        "clinic_id": _("Clinic"),
        "period_days": _("Period"),
    }
    builder = InlineKeyboardBuilder()
    for kind, label in labels.items():
        builder.button(text=label, callback_data=HiPick(kind=kind))
    builder.button(
        text=_("Show all visits") if f.only_done else _("Hide cancelled and missed"),
        callback_data=HiToggle(what="done"),
    )
    builder.button(text=_("Reset filters"), callback_data=HiToggle(what="reset"))
    builder.button(text=_("Back"), callback_data=HiList(page=0))
    builder.adjust(2, 2, 1, 1, 1, 1)
    await show(query, _("Filter the history by:"), builder.as_markup())


@router.callback_query(HiPick.filter(), Registered())
async def on_pick(
    query: CallbackQuery,
    callback_data: HiPick,
    user: User,
    uow: records.RecordsUoW,
    now: datetime,
) -> None:
    if callback_data.kind not in KINDS:
        raise Stale
    options = _options(await _past(uow, user, now), callback_data.kind)
    builder = InlineKeyboardBuilder()
    if callback_data.kind != "period_days":
        builder.button(text=_("Any"), callback_data=HiSet(kind=callback_data.kind, value=0))
    for value, name in list(options.items())[:20]:
        builder.button(text=name[:60], callback_data=HiSet(kind=callback_data.kind, value=value))
    builder.button(text=_("Back"), callback_data=HiFilters())
    builder.adjust(1)
    await show(query, _("Choose:"), builder.as_markup())


@router.callback_query(HiSet.filter(), Registered())
async def on_set(
    query: CallbackQuery,
    callback_data: HiSet,
    user: User,
    uow: records.RecordsUoW,
    now: datetime,
    policy: Policy,
    state: FSMContext,
) -> None:
    kind, value = callback_data.kind, callback_data.value
    if kind not in KINDS:
        raise Stale
    if value and value not in _options(await _past(uow, user, now), kind):
        raise Stale  # not one of the user's own patients, doctors, clinics …
    f = replace(await _filter(state), **{kind: value or None})  # type: ignore[arg-type]
    await _save(state, f)
    await _render(query, uow, user, now, policy, state)


@router.callback_query(HiOpen.filter(), Registered(), Confirmed(HISTORY_DETAILS))
async def on_open(
    query: CallbackQuery,
    callback_data: HiOpen,
    user: User,
    uow: records.RecordsUoW,
    now: datetime,
    policy: Policy,
) -> None:
    item = await records.owned_item(uow, user.id, callback_data.appointment_id)
    builder = InlineKeyboardBuilder()
    builder.button(text=_("PDF"), callback_data=HiPdf(appointment_id=item.appointment.id))
    builder.button(text=_("Back"), callback_data=HiList(page=0))
    builder.adjust(2)
    text = details_text(item, policy.home_tz, now.date())
    await show(query, text, builder.as_markup(), new=not isinstance(query.message, Message))


@router.callback_query(HiPdf.filter(), Registered(), Confirmed(HISTORY_DETAILS))
async def on_pdf(
    query: CallbackQuery,
    callback_data: HiPdf,
    user: User,
    uow: records.RecordsUoW,
    now: datetime,
    policy: Policy,
) -> None:
    item = await records.export_visit(uow, now, user.id, callback_data.appointment_id)
    rows = detail_rows(item, policy.home_tz, now.date())
    from flows.ui import files  # the PDF builder (documents/) behind flows.ui.files

    data = await build_off_loop(
        files.appointment_pdf,  # type: ignore[attr-defined]
        title=_("Visit summary"),
        rows=rows,
        created=now,
        footer=_("Issued via Zapis from the clinic's records."),
    )
    await query.answer()
    if query.message is not None and query.bot is not None:
        await query.bot.send_document(
            query.message.chat.id,
            BufferedInputFile(data, filename=f"visit-{item.appointment.number}.pdf"),
            caption=_("Visit summary № {number}").format(number=item.appointment.number),
            parse_mode=None,
        )
