"""«Документы и справки» — «Мои справки»: follow a request, answer the clinic, get the PDF.

Each status change arrives as a push (bot/notify_render.py) whose button opens
the request here: the clinic's question with «Ответить» (the answer is typed in
chat and sends the request back to review), the reason of a refusal, or
«Скачать PDF». A ready certificate's PDF is built from the data frozen at issue
by the injected ``certificate_pdf`` (documents/certificate.py) on every
download: nothing to store, the same file each time. New requests are
flows/certificates.py.
"""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from documents.worker import build_off_loop
from domain import certificate_requests as certs
from domain import certificates as rules
from domain import documents as docs
from domain.certificates import (
    CertificatePdf,
    CertificateRequest,
    CertificatesUnitOfWork,
    CertStatus,
)
from domain.errors import Stale
from domain.models import User
from flows.docs_common import Confirmed, kind_name, show, status_name
from flows.guards import Registered
from flows.ui.docs_callbacks import CertAct, DocHome
from flows.ui.format import fmt_day, local
from flows.ui.i18n import gettext as _
from flows.ui.keyboards import button
from flows.ui.menu import not_navigation
from flows.ui.pager import pager_row, paginate

router = Router(name="certificates_mine")

PER_PAGE = 6


class CertAnswer(StatesGroup):
    text = State()


@router.callback_query(DocHome.filter(F.to == "certs"), Registered(), Confirmed())
async def on_list(
    query: CallbackQuery,
    callback_data: DocHome,
    user: User,
    uow: CertificatesUnitOfWork,
    state: FSMContext,
) -> None:
    await state.clear()
    requests = await uow.certificates.for_user(user.id)
    kb = InlineKeyboardBuilder()
    if not requests:
        kb.button(text=_("📝 Request a certificate"), callback_data=DocHome(to="newcert"))
        kb.button(text=_("Back"), callback_data=DocHome(to="home"))
        kb.adjust(1)
        await show(query, _("No certificate requests yet."), kb.as_markup())
        return
    page = paginate(requests, callback_data.page, PER_PAGE)
    for request in page.items:
        label = f"№ {request.number} · {kind_name(request.kind)} · {status_name(request.status)}"
        kb.button(text=label[:64], callback_data=CertAct(action="show", request_id=request.id))
    kb.adjust(1)
    kb.row(*pager_row(page.page, page.pages, lambda n: DocHome(to="certs", page=n)))
    kb.row(button(_("Back"), DocHome(to="home")))
    await show(
        query, _("Your certificate requests ({count}):").format(count=page.total), kb.as_markup()
    )


def request_text(request: CertificateRequest, patient_name: str, clinic_name: str, tz: str) -> str:
    lines = [
        _("Certificate request № {number}").format(number=request.number),
        _("Certificate: {kind}").format(kind=kind_name(request.kind)),
        _("Patient: {name}").format(name=patient_name),
        _("Clinic: {clinic}").format(clinic=clinic_name),
        _("Purpose: {purpose}").format(purpose=request.purpose),
        _("Submitted: {day}").format(day=fmt_day(local(request.created_at, tz).date())),
        _("Status: {status}").format(status=status_name(request.status)),
    ]
    if request.question:
        lines.append(_("The clinic asks: {question}").format(question=request.question))
    if request.answer:
        lines.append(_("Answer: {answer}").format(answer=request.answer))
    if request.status is CertStatus.REFUSED and request.refusal:
        lines.append(_("Reason of the refusal: {reason}").format(reason=request.refusal))
    return "\n".join(lines)


@router.callback_query(CertAct.filter(F.action == "show"), Registered(), Confirmed())
async def on_show(
    query: CallbackQuery,
    callback_data: CertAct,
    user: User,
    uow: CertificatesUnitOfWork,
    state: FSMContext,
) -> None:
    request = await certs.own_request(uow, user.id, callback_data.request_id)
    await state.clear()
    patient = await docs.own_patient(uow, user.id, request.patient_id)
    clinic = await uow.directory.clinic(request.clinic_id)
    kb = InlineKeyboardBuilder()
    if request.status is CertStatus.MORE_INFO:
        kb.button(text=_("✍️ Answer"), callback_data=CertAct(action="answer", request_id=request.id))
    if request.status is CertStatus.READY:
        kb.button(
            text=_("⬇️ Download PDF"), callback_data=CertAct(action="pdf", request_id=request.id)
        )
    kb.button(text=_("Back"), callback_data=DocHome(to="certs"))
    kb.adjust(1)
    text = request_text(
        request,
        patient.full_name,
        clinic.name if clinic else "—",
        clinic.tz if clinic else "Europe/Moscow",
    )
    await show(query, text, kb.as_markup())


@router.callback_query(CertAct.filter(F.action == "answer"), Registered(), Confirmed())
async def on_answer_start(
    query: CallbackQuery,
    callback_data: CertAct,
    user: User,
    uow: CertificatesUnitOfWork,
    state: FSMContext,
) -> None:
    request = await certs.own_request(uow, user.id, callback_data.request_id)
    if request.status is not CertStatus.MORE_INFO:
        raise rules.CertificateRefused("status")
    await state.set_state(CertAnswer.text)
    await state.set_data({"cert_request": request.id})
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            _("The clinic asks: {question}\n\nType your answer in one message.").format(
                question=request.question
            ),
            parse_mode=None,
        )


@router.message(CertAnswer.text, F.text, not_navigation, Registered(), Confirmed())
async def on_answer(
    message: Message, user: User, uow: CertificatesUnitOfWork, now: datetime, state: FSMContext
) -> None:
    request_id = (await state.get_data()).get("cert_request")
    if not isinstance(request_id, int):
        raise Stale
    request = await certs.answer(uow, now, user.id, request_id, message.text or "")
    await state.clear()
    await message.answer(
        _("Your answer is sent to the clinic (request № {number}).").format(number=request.number)
    )


@router.message(CertAnswer.text, not_navigation, Registered(), Confirmed())
async def on_answer_other(message: Message) -> None:
    await message.answer(_("Please type your answer as text."))


@router.callback_query(CertAct.filter(F.action == "pdf"), Registered(), Confirmed())
async def on_pdf(
    query: CallbackQuery,
    callback_data: CertAct,
    user: User,
    uow: CertificatesUnitOfWork,
    bot: Bot,
    now: datetime,
    certificate_pdf: CertificatePdf,
) -> None:
    request = await certs.own_request(uow, user.id, callback_data.request_id)
    if request.status is not CertStatus.READY or request.sheet is None:
        raise rules.CertificateRefused("status")
    await certs.journal_download(uow, now, user.id, request)
    data = await build_off_loop(pdf_of, request, certificate_pdf, now)
    await query.answer()
    await bot.send_document(
        query.from_user.id,
        BufferedInputFile(data, filename=f"certificate-{request.number}.pdf"),
        caption=_("Certificate № {number}").format(number=request.number),
        parse_mode=None,
    )


def pdf_of(request: CertificateRequest, build: CertificatePdf, now: datetime) -> bytes:
    """The issued certificate's file (its data as frozen at issue, in Russian)."""
    sheet = request.sheet
    assert sheet is not None
    created = datetime.combine(sheet.issued_on, datetime.min.time(), tzinfo=now.tzinfo)
    return build(
        number=request.number,
        kind_name=rules.kind_name(request.kind, "ru"),
        patient_name=sheet.patient_name,
        birth_date=sheet.birth_date,
        purpose=request.purpose,
        clinic_name=sheet.clinic_name,
        clinic_address=sheet.clinic_address,
        issued_on=sheet.issued_on,
        created=created,
    )
