"""/staff «Справки»: a clinic's staff take certificate requests through their statuses.

The list holds the open requests of the staff member's clinics only; every id
from a button is checked again (domain.certificates.for_staff), so another
clinic's request — forged or old — is «Эта кнопка устарела» and changes
nothing. «Взять в работу» → «Запросить информацию» (the question, typed) /
«Справка готова» / «Отказать» (the reason, typed); each is a push to the
patient through the outbox (quiet hours respected) and a journal entry.
The attached documents are sent to the staff member by their file ids.
"""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain import certificate_requests as certs
from domain import certificates as rules
from domain.certificates import CertificateRequest, CertificatesUnitOfWork, CertStatus
from domain.errors import Stale
from domain.models import StaffMember
from domain.policy import Policy
from flows.certificates_mine import request_text
from flows.docs_common import kind_name, show, status_name
from flows.documents import send_document
from flows.guards import Staff
from flows.staff_common import StMenu
from flows.ui.docs_callbacks import StCert
from flows.ui.i18n import gettext as _
from flows.ui.keyboards import button
from flows.ui.menu import not_navigation
from flows.ui.pager import pager_row, paginate
from flows.ui.profile_text import fmt_date

router = Router(name="staff_certificates")

PER_PAGE = 8


class StaffCertStates(StatesGroup):
    question = State()
    reason = State()


@router.callback_query(StCert.filter(F.action == "list"), Staff())
async def on_list(
    query: CallbackQuery,
    callback_data: StCert,
    staff: StaffMember,
    uow: CertificatesUnitOfWork,
    state: FSMContext,
) -> None:
    await state.clear()
    requests = await uow.certificates.open_for_clinics(staff.clinics)
    if not requests:
        kb = InlineKeyboardBuilder()
        kb.button(text=_("Refresh"), callback_data=StCert(action="list"))
        kb.button(text=_("Back"), callback_data=StMenu(to="home"))
        await show(query, _("No open certificate requests in your clinics."), kb.as_markup())
        return
    page = paginate(requests, callback_data.page, PER_PAGE)
    kb = InlineKeyboardBuilder()
    for request in page.items:
        label = f"№ {request.number} · {kind_name(request.kind)} · {status_name(request.status)}"
        kb.button(text=label[:64], callback_data=StCert(action="show", request_id=request.id))
    kb.adjust(1)
    kb.row(*pager_row(page.page, page.pages, lambda n: StCert(action="list", page=n)))
    kb.row(button(_("Back"), StMenu(to="home")))  # the list had no way back to /staff
    await show(
        query,
        _("Open certificate requests ({count}), oldest first:").format(count=page.total),
        kb.as_markup(),
    )


async def _show_request(
    query: CallbackQuery, request: CertificateRequest, uow: CertificatesUnitOfWork
) -> None:
    patient = await uow.users.patient(request.patient_id)
    clinic = await uow.directory.clinic(request.clinic_id)
    name = patient.full_name if patient else "—"
    if patient is not None and patient.birth_date is not None:
        name = f"{name}, {fmt_date(patient.birth_date)}"  # a birth date has no weekday
    text = request_text(
        request, name, clinic.name if clinic else "—", clinic.tz if clinic else "Europe/Moscow"
    )
    kb = InlineKeyboardBuilder()
    for document_id in request.document_ids:
        document = await uow.documents.get(document_id)
        if document is not None:
            kb.button(
                text=f"📎 {document.title}"[:60],
                callback_data=StCert(action="doc", request_id=request.id, document_id=document.id),
            )
    actions = {
        CertStatus.SUBMITTED: [
            ("take", _("Take into review")),
            ("refuse", _("Refuse the request")),
        ],
        CertStatus.IN_REVIEW: [
            ("ask", _("Ask for more information")),
            ("ready", _("Certificate is ready")),
            ("refuse", _("Refuse the request")),
        ],
        CertStatus.MORE_INFO: [("refuse", _("Refuse the request"))],
    }.get(request.status, [])
    for action, label in actions:
        kb.button(text=label, callback_data=StCert(action=action, request_id=request.id))
    kb.adjust(1)
    kb.row(button(_("Back"), StCert(action="list")))
    await show(query, text, kb.as_markup())


@router.callback_query(StCert.filter(F.action == "show"), Staff())
async def on_show(
    query: CallbackQuery,
    callback_data: StCert,
    staff: StaffMember,
    uow: CertificatesUnitOfWork,
    state: FSMContext,
) -> None:
    request = await certs.for_staff(uow, staff, callback_data.request_id)
    await state.clear()
    await _show_request(query, request, uow)


@router.callback_query(StCert.filter(F.action == "doc"), Staff())
async def on_document(
    query: CallbackQuery,
    callback_data: StCert,
    staff: StaffMember,
    uow: CertificatesUnitOfWork,
    bot: Bot,
    now: datetime,
) -> None:
    document = await certs.attached_for_staff(
        uow, now, query.from_user.id, staff, callback_data.request_id, callback_data.document_id
    )
    await query.answer()
    await send_document(bot, query.from_user.id, document)


@router.callback_query(StCert.filter(F.action == "take"), Staff())
async def on_take(
    query: CallbackQuery,
    callback_data: StCert,
    staff: StaffMember,
    uow: CertificatesUnitOfWork,
    now: datetime,
    policy: Policy,
) -> None:
    await certs.take(
        uow, now, query.from_user.id, staff, callback_data.request_id, policy.booking.quiet
    )
    await _show_request(query, await certs.for_staff(uow, staff, callback_data.request_id), uow)


@router.callback_query(StCert.filter(F.action == "ready"), Staff())
async def on_ready(
    query: CallbackQuery,
    callback_data: StCert,
    staff: StaffMember,
    uow: CertificatesUnitOfWork,
    now: datetime,
    policy: Policy,
) -> None:
    request = await certs.issue(
        uow, now, query.from_user.id, staff, callback_data.request_id, policy.booking.quiet
    )
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Back"), callback_data=StCert(action="list"))
    await show(
        query,
        _("Certificate № {number} is issued; the patient is told it is ready.").format(
            number=request.number
        ),
        kb.as_markup(),
    )


@router.callback_query(StCert.filter(F.action.in_({"ask", "refuse"})), Staff())
async def on_ask_or_refuse(
    query: CallbackQuery,
    callback_data: StCert,
    staff: StaffMember,
    uow: CertificatesUnitOfWork,
    state: FSMContext,
) -> None:
    request = await certs.for_staff(uow, staff, callback_data.request_id)
    target = CertStatus.MORE_INFO if callback_data.action == "ask" else CertStatus.REFUSED
    if target not in rules.TRANSITIONS[request.status]:
        raise rules.CertificateRefused("status")
    await state.set_state(
        StaffCertStates.question if callback_data.action == "ask" else StaffCertStates.reason
    )
    await state.set_data({"staff_cert": request.id})
    prompt = (
        _("Type the question for the patient (request № {number}).")
        if callback_data.action == "ask"
        else _("Type the reason of the refusal the patient will see (request № {number}).")
    )
    await show(query, prompt.format(number=request.number))


async def _request_in_dialogue(state: FSMContext) -> int:
    value = (await state.get_data()).get("staff_cert")
    if not isinstance(value, int):
        raise Stale
    return value


def _to_list() -> InlineKeyboardMarkup:
    """The way on after a typed step (it ended on a message with no buttons)."""
    return InlineKeyboardMarkup(
        inline_keyboard=[[button(_("Certificate requests"), StCert(action="list"))]]
    )


@router.message(StaffCertStates.question, F.text, not_navigation, Staff())
async def on_question(
    message: Message,
    staff: StaffMember,
    uow: CertificatesUnitOfWork,
    now: datetime,
    policy: Policy,
    state: FSMContext,
) -> None:
    request_id = await _request_in_dialogue(state)
    request = await certs.ask(
        uow, now, message.chat.id, staff, request_id, message.text or "", policy.booking.quiet
    )
    await state.clear()
    await message.answer(
        _("The question is sent to the patient (request № {number}).").format(
            number=request.number
        ),
        reply_markup=_to_list(),
    )


@router.message(StaffCertStates.reason, F.text, not_navigation, Staff())
async def on_reason(
    message: Message,
    staff: StaffMember,
    uow: CertificatesUnitOfWork,
    now: datetime,
    policy: Policy,
    state: FSMContext,
) -> None:
    request_id = await _request_in_dialogue(state)
    request = await certs.refuse(
        uow, now, message.chat.id, staff, request_id, message.text or "", policy.booking.quiet
    )
    await state.clear()
    await message.answer(
        _("Request № {number} is refused; the patient is told the reason.").format(
            number=request.number
        ),
        reply_markup=_to_list(),
    )


@router.message(StaffCertStates.question, not_navigation, Staff())
@router.message(StaffCertStates.reason, not_navigation, Staff())
async def on_text_other(message: Message) -> None:
    await message.answer(_("Please type it as text."))
