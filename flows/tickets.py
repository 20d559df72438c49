"""«Поддержка» → a ticket: category, text (with photos or files), then the thread.

The patient writes, the clinic's staff answer (flows/staff_tickets.py), the
answer arrives through the outbox with a button back here; the patient may
reply (the ticket is «в работе» again) or close it. Every id from a button is
checked to be the presser's ticket (domain.tickets.own_ticket raises Stale).
"""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from domain import tickets as svc
from domain.errors import Stale
from domain.models import User
from domain.policy import Policy
from flows.guards import Registered
from flows.ui import keyboards as kb
from flows.ui import menu as menu_ui
from flows.ui import ticket_text as tt
from flows.ui.i18n import gettext as _
from flows.ui.support_callbacks import TkList, TkNew, TkOpen

router = Router(name="tickets")
PER_PAGE = 6


class TicketSteps(StatesGroup):
    text = State()  # data: category
    reply = State()  # data: ticket_id


def _files(message: Message) -> tuple[str, ...]:
    """Telegram file ids of a photo (largest size) or a document, tagged p:/d:."""
    if message.photo:
        return (f"p:{message.photo[-1].file_id}",)
    if message.document:
        return (f"d:{message.document.file_id}",)
    return ()


def _body(message: Message) -> str:
    return (message.text or message.caption or "").strip()


def ticket_markup(ticket: svc.Ticket) -> InlineKeyboardMarkup:
    rows = []
    if ticket.status.open:
        rows.append(
            [
                kb.button(_("Reply"), TkOpen(ticket_id=ticket.id, action="reply")),
                kb.button(_("Close the request"), TkOpen(ticket_id=ticket.id, action="close")),
            ]
        )
    rows.append([kb.button(_("My requests"), TkList())])
    return kb.inline(rows)


@router.callback_query(TkNew.filter(F.category == ""), Registered())
async def on_new(
    query: CallbackQuery, user: User, state: FSMContext, uow: svc.TicketsUnitOfWork
) -> None:
    await svc.check_room(uow, user.id)  # said before anything is typed, not after
    await state.clear()
    rows = [[kb.button(label, TkNew(category=code))] for code, label in tt.categories()]
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            _("What is your request about? Choose a category."), reply_markup=kb.inline(rows)
        )


@router.callback_query(TkNew.filter(F.category != ""), Registered())
async def on_category(
    query: CallbackQuery, callback_data: TkNew, user: User, state: FSMContext
) -> None:
    if callback_data.category not in svc.CATEGORIES:
        raise Stale
    await state.set_state(TicketSteps.text)
    await state.set_data({"category": callback_data.category})
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            _(
                "«{category}». Describe the problem in one message (up to {limit} characters). "
                "You may attach a photo or a file with a caption."
            ).format(category=tt.category_label(callback_data.category), limit=svc.MAX_TEXT),
            parse_mode=None,
        )


@router.message(TicketSteps.text, F.func(menu_ui.not_navigation), Registered())
async def on_text(
    message: Message,
    user: User,
    state: FSMContext,
    uow: svc.TicketsUnitOfWork,
    now: datetime,
    policy: Policy,
) -> None:
    files = await _gather(message, state)
    if files is None:
        return
    category = str((await state.get_data()).get("category", "other"))
    ticket = await svc.open_ticket(
        uow,
        user_id=user.id,
        category=category,
        text=_body(message),
        attachments=files,
        now=now,
        targets=policy.ticket_targets_minutes,
        home_tz=policy.home_tz,
    )
    await state.clear()
    text = _("Your request is registered.") + "\n\n" + tt.header(ticket, policy.home_tz, now)
    await message.answer(text, reply_markup=ticket_markup(ticket), parse_mode=None)


async def _gather(message: Message, state: FSMContext) -> tuple[str, ...] | None:
    """The step's files so far plus this message's; None when the text is still to come.

    A photo or a file sent without a caption is kept (up to MAX_ATTACHMENTS) and
    the step asks for the words, so nothing sent is lost; too long a text is
    refused on the same step.
    """
    data = await state.get_data()
    files = tuple(data.get("files", ())) + _files(message)
    body = _body(message)
    if body and len(body) <= svc.MAX_TEXT:
        return files[: svc.MAX_ATTACHMENTS]
    if not body and _files(message) and len(files) <= svc.MAX_ATTACHMENTS:
        await state.update_data(files=list(files))
        await message.answer(
            _("Attachment received ({count}). Now describe the problem in words.").format(
                count=len(files)
            ),
            parse_mode=None,
        )
        return None
    await message.answer(_bad_text(body), parse_mode=None)
    return None


def _bad_text(body: str) -> str:
    if body:
        return _("That is too long: please keep it within {limit} characters.").format(
            limit=svc.MAX_TEXT
        )
    return _("Please describe the problem in words (a photo or a file needs a caption).")


@router.callback_query(TkList.filter(), Registered())
async def on_list(
    query: CallbackQuery, callback_data: TkList, user: User, uow: svc.TicketsUnitOfWork
) -> None:
    page = callback_data.page
    found, total = await uow.tickets.for_user(user.id, PER_PAGE, page * PER_PAGE)
    rows = [[kb.button(tt.list_button(t), TkOpen(ticket_id=t.id))] for t in found]
    pages = max(1, -(-total // PER_PAGE))
    rows.append(kb.pager_row(page, pages, lambda p: TkList(page=p)))
    rows.append([kb.button(_("Write to support"), TkNew())])
    text = _("Your requests:") if total else _("You have no requests yet.")
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(text, reply_markup=kb.inline(rows), parse_mode=None)


@router.callback_query(TkOpen.filter(F.action == "show"), Registered())
async def on_show(
    query: CallbackQuery,
    callback_data: TkOpen,
    user: User,
    uow: svc.TicketsUnitOfWork,
    policy: Policy,
    now: datetime,
) -> None:
    ticket = await svc.own_ticket(uow, user.id, callback_data.ticket_id)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            tt.thread(ticket, policy.home_tz, now),
            reply_markup=ticket_markup(ticket),
            parse_mode=None,
        )


@router.callback_query(TkOpen.filter(F.action == "reply"), Registered())
async def on_reply(
    query: CallbackQuery,
    callback_data: TkOpen,
    user: User,
    uow: svc.TicketsUnitOfWork,
    state: FSMContext,
) -> None:
    ticket = await svc.own_ticket(uow, user.id, callback_data.ticket_id)
    if not ticket.status.open:
        raise Stale
    await state.set_state(TicketSteps.reply)
    await state.set_data({"ticket_id": ticket.id})
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            _("Type your reply to request № {id}.").format(id=ticket.id), parse_mode=None
        )


@router.message(TicketSteps.reply, F.func(menu_ui.not_navigation), Registered())
async def on_reply_text(
    message: Message,
    user: User,
    state: FSMContext,
    uow: svc.TicketsUnitOfWork,
    now: datetime,
    policy: Policy,
) -> None:
    files = await _gather(message, state)
    if files is None:
        return
    ticket_id = int((await state.get_data()).get("ticket_id", 0))
    await state.clear()
    ticket = await svc.patient_reply(uow, user.id, ticket_id, _body(message), files, now)
    text = _("Your reply is sent.") + "\n\n" + tt.header(ticket, policy.home_tz, now)
    await message.answer(text, reply_markup=ticket_markup(ticket), parse_mode=None)


@router.callback_query(TkOpen.filter(F.action == "close"), Registered())
async def on_close(
    query: CallbackQuery,
    callback_data: TkOpen,
    user: User,
    uow: svc.TicketsUnitOfWork,
    now: datetime,
    policy: Policy,
) -> None:
    ticket = await svc.close_ticket(uow, user.id, callback_data.ticket_id, now)
    await query.answer(_("The request is closed."))
    if isinstance(query.message, Message):
        await query.message.answer(
            tt.header(ticket, policy.home_tz, now),
            reply_markup=ticket_markup(ticket),
            parse_mode=None,
        )
