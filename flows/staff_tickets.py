"""/staff → «Обращения»: the clinic's open support tickets, read and answered in the bot.

Staff see the tickets of the clinics they serve (an administrator also those
of patients with no clinic); opening a new one marks it «в работе»; the
answer goes to the patient through the outbox. A ticket id from a button that
is not of the staff member's clinics is refused as a stale button.
"""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from domain import tickets as svc
from domain.errors import Stale
from domain.models import StaffMember
from domain.policy import Policy
from flows.guards import Staff
from flows.staff_common import StMenu
from flows.ui import keyboards as kb
from flows.ui import menu as menu_ui
from flows.ui import ticket_text as tt
from flows.ui.i18n import gettext as _
from flows.ui.support_callbacks import StTk

router = Router(name="staff_tickets")
PER_PAGE = 8


class StaffTicketSteps(StatesGroup):
    answer = State()  # data: ticket_id


def _thread_markup(ticket: svc.Ticket) -> InlineKeyboardMarkup:
    rows = []
    if ticket.status.open:
        rows.append([kb.button(_("Answer"), StTk(action="answer", ticket_id=ticket.id))])
    rows.append([kb.button(_("All requests"), StTk(action="list"))])
    return kb.inline(rows)


async def _send(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(text, reply_markup=markup, parse_mode=None)


@router.callback_query(StTk.filter(F.action == "list"), Staff())
async def on_list(
    query: CallbackQuery,
    callback_data: StTk,
    staff: StaffMember,
    uow: svc.TicketsUnitOfWork,
    policy: Policy,
) -> None:
    page = callback_data.page
    found, total = await uow.tickets.for_staff(
        staff.clinics, staff.role == "admin", PER_PAGE, page * PER_PAGE
    )
    rows = [[kb.button(tt.list_button(t), StTk(action="show", ticket_id=t.id))] for t in found]
    pages = max(1, -(-total // PER_PAGE))
    rows.append(kb.pager_row(page, pages, lambda p: StTk(action="list", page=p)))
    rows.append([kb.button(_("Back"), StMenu(to="home"))])  # the empty list was a dead end
    text = _("Open requests of your clinics:") if total else _("No open requests.")
    await _send(query, text, kb.inline(rows))


@router.callback_query(StTk.filter(F.action == "show"), Staff())
async def on_show(
    query: CallbackQuery,
    callback_data: StTk,
    staff: StaffMember,
    uow: svc.TicketsUnitOfWork,
    now: datetime,
    policy: Policy,
) -> None:
    ticket = await svc.staff_open(uow, staff, query.from_user.id, callback_data.ticket_id, now)
    await _send(
        query, tt.thread(ticket, policy.home_tz, now, for_staff=True), _thread_markup(ticket)
    )
    if isinstance(query.message, Message):
        for message in ticket.messages:  # the patient's photos and files, as they sent them
            for tagged in message.attachments:
                kind, _sep, file_id = tagged.partition(":")
                if kind == "p":
                    await query.message.answer_photo(file_id)
                else:
                    await query.message.answer_document(file_id)


@router.callback_query(StTk.filter(F.action == "answer"), Staff())
async def on_answer(
    query: CallbackQuery,
    callback_data: StTk,
    staff: StaffMember,
    uow: svc.TicketsUnitOfWork,
    state: FSMContext,
) -> None:
    ticket = await svc.staff_ticket(uow, staff, callback_data.ticket_id)
    if not ticket.status.open:
        raise Stale
    await state.set_state(StaffTicketSteps.answer)
    await state.set_data({"ticket_id": ticket.id})
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            _("Type the answer to request № {id}: the patient gets it in their chat.").format(
                id=ticket.id
            ),
            parse_mode=None,
        )


@router.message(StaffTicketSteps.answer, F.func(menu_ui.not_navigation), Staff())
async def on_answer_text(
    message: Message,
    staff: StaffMember,
    state: FSMContext,
    uow: svc.TicketsUnitOfWork,
    now: datetime,
    policy: Policy,
) -> None:
    body = (message.text or "").strip()
    if not 0 < len(body) <= svc.MAX_TEXT:
        await message.answer(
            _("Please type the answer as text, up to {limit} characters.").format(
                limit=svc.MAX_TEXT
            ),
            parse_mode=None,
        )
        return
    ticket_id = int((await state.get_data()).get("ticket_id", 0))
    await state.clear()
    assert message.from_user is not None
    ticket = await svc.staff_answer(uow, staff, message.from_user.id, ticket_id, body, now)
    await message.answer(
        _("The answer is sent to the patient.")
        + "\n\n"
        + tt.header(ticket, policy.home_tz, now, for_staff=True),
        reply_markup=_thread_markup(ticket),
        parse_mode=None,
    )
