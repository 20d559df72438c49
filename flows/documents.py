"""«Документы и справки» — documents: upload (PDF/JPG/PNG), list, resend, delete.

Upload: for whom (self or a relative, asked only when there are relatives) →
the file, as a document or a photo → its title. The file is judged before
anything is kept: its name and size as Telegram reports them, then its first
bytes, downloaded through the Bot API (an archive renamed «.pdf» is caught
there). A refusal says why and the dialogue stays on the file step; the row is
written only with the title, so nothing half-saved exists. The file itself
stays at Telegram and is sent back by its file_id. Certificates are
flows/certificates.py; this module owns the section's home screen.
"""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain import documents as docs
from domain.certificates import CertificatesUnitOfWork
from domain.documents import DocType, Document, DocumentsUnitOfWork, Upload
from domain.models import User
from domain.policy import Policy
from flows.docs_common import Confirmed, limit_text, patient_label, show, size_text
from flows.guards import Registered
from flows.ui import menu as menu_ui
from flows.ui.docs_callbacks import DocAct, DocFor, DocHome
from flows.ui.format import fmt_day, local
from flows.ui.i18n import gettext as _
from flows.ui.keyboards import button
from flows.ui.menu import not_navigation
from flows.ui.pager import pager_row, paginate

router = Router(name="documents")

PER_PAGE = 6


class DocStates(StatesGroup):
    file = State()
    title = State()


# ---------------------------------------------------------------- home


def home_markup(documents: int, requests: int) -> InlineKeyboardBuilder:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("📎 Upload a document"), callback_data=DocHome(to="upload"))
    kb.button(
        text=_("📂 My documents ({count})").format(count=documents),
        callback_data=DocHome(to="list"),
    )
    kb.button(text=_("📝 Request a certificate"), callback_data=DocHome(to="newcert"))
    kb.button(
        text=_("📄 My certificates ({count})").format(count=requests),
        callback_data=DocHome(to="certs"),
    )
    kb.adjust(1)
    return kb


async def _home(
    event: Message | CallbackQuery, user: User, uow: CertificatesUnitOfWork, policy: Policy
) -> None:
    documents = await uow.documents.for_user(user.id)
    requests = await uow.certificates.for_user(user.id)
    text = _(
        "📁 Documents and certificates\n\n"
        "Keep your medical documents here (PDF, JPG or PNG up to {limit}) for yourself and "
        "your family, and request certificates from your clinic."
    ).format(limit=limit_text(policy.document_max_bytes))
    await show(event, text, home_markup(len(documents), len(requests)).as_markup())


@router.message(F.text == menu_ui.DOCUMENTS, Registered(), Confirmed())
async def on_section(
    message: Message, user: User, uow: CertificatesUnitOfWork, policy: Policy, state: FSMContext
) -> None:
    await state.clear()
    await _home(message, user, uow, policy)


@router.callback_query(DocHome.filter(F.to == "home"), Registered(), Confirmed())
async def on_home(
    query: CallbackQuery, user: User, uow: CertificatesUnitOfWork, policy: Policy, state: FSMContext
) -> None:
    await state.clear()
    await _home(query, user, uow, policy)


# ---------------------------------------------------------------- upload


@router.callback_query(DocHome.filter(F.to == "upload"), Registered(), Confirmed())
async def on_upload(
    query: CallbackQuery, user: User, uow: DocumentsUnitOfWork, policy: Policy, state: FSMContext
) -> None:
    patients = await uow.users.patients_of(user.id)
    if len(patients) == 1:
        await _ask_file(query, state, patients[0].id, policy)
        return
    kb = InlineKeyboardBuilder()
    for patient in patients:
        kb.button(text=patient_label(patient), callback_data=DocFor(patient_id=patient.id))
    kb.button(text=_("Back"), callback_data=DocHome(to="home"))
    kb.adjust(1)
    await show(query, _("Whose document is it?"), kb.as_markup())


@router.callback_query(DocFor.filter(), Registered(), Confirmed())
async def on_upload_for(
    query: CallbackQuery,
    callback_data: DocFor,
    user: User,
    uow: DocumentsUnitOfWork,
    policy: Policy,
    state: FSMContext,
) -> None:
    await docs.own_patient(uow, user.id, callback_data.patient_id)
    await _ask_file(query, state, callback_data.patient_id, policy)


async def _ask_file(
    query: CallbackQuery, state: FSMContext, patient_id: int, policy: Policy
) -> None:
    await state.set_state(DocStates.file)
    await state.set_data({"doc_patient_id": patient_id})
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Cancel the upload"), callback_data=DocHome(to="home"))
    await show(
        query,
        _(
            "Send the file: PDF, JPG or PNG up to {limit}, as a document (📎 → File) or as a photo."
        ).format(limit=limit_text(policy.document_max_bytes)),
        kb.as_markup(),
    )


@router.message(DocStates.file, F.document | F.photo, Registered(), Confirmed())
async def on_file(
    message: Message, user: User, bot: Bot, policy: Policy, now: datetime, state: FSMContext
) -> None:
    limit = policy.document_max_bytes
    if message.document is not None:
        name, size, file_id = (
            message.document.file_name or "",
            message.document.file_size,
            message.document.file_id,
        )
        sent_as = "document"
    else:
        assert message.photo  # the filter above
        photo = message.photo[-1]  # the largest size
        name, size, file_id, sent_as = "", photo.file_size, photo.file_id, "photo"
    claimed = docs.declared_type(name, size, limit)  # refusals escape: the step stays
    buffer = await bot.download(file_id)  # the Bot API's getFile + the file itself
    data = buffer.read() if buffer is not None else b""
    kind = docs.content_type(data, claimed, limit, photo=sent_as == "photo")
    if not name:
        name = f"photo-{local(now, policy.home_tz):%Y%m%d-%H%M}.{kind.value}"
    await state.update_data(
        doc_file_id=file_id, doc_name=name, doc_kind=kind.value, doc_size=len(data), doc_as=sent_as
    )
    await state.set_state(DocStates.title)
    await message.answer(
        _(
            "✅ {kind} file accepted, {size}. Now type its title, for example "
            "«Blood test, November»."
        ).format(kind=kind.value.upper(), size=size_text(len(data))),
        parse_mode=None,
    )


@router.message(DocStates.file, not_navigation, Registered(), Confirmed())
async def on_file_other(message: Message, policy: Policy) -> None:
    await message.answer(
        _(
            "I am waiting for a file: PDF, JPG or PNG up to {limit}, as a document or a photo."
        ).format(limit=limit_text(policy.document_max_bytes))
    )


@router.message(DocStates.title, F.text, not_navigation, Registered(), Confirmed())
async def on_title(
    message: Message, user: User, uow: DocumentsUnitOfWork, now: datetime, state: FSMContext
) -> None:
    stored = await state.get_data()
    if "doc_file_id" not in stored:
        await state.clear()
        await message.answer(_("Please start again from «Documents»."))
        return
    upload = Upload(
        file_id=str(stored["doc_file_id"]),
        file_name=str(stored["doc_name"]),
        kind=DocType(str(stored["doc_kind"])),
        size=int(stored["doc_size"]),
        sent_as=str(stored["doc_as"]),
    )
    document = await docs.save(
        uow, now, user.id, int(stored["doc_patient_id"]), upload, message.text or ""
    )
    await state.clear()
    kb = InlineKeyboardBuilder()
    kb.button(text=_("📂 My documents"), callback_data=DocHome(to="list"))
    kb.button(text=_("📎 Upload another"), callback_data=DocHome(to="upload"))
    kb.adjust(2)
    await message.answer(
        _("Saved: «{title}».").format(title=document.title),
        reply_markup=kb.as_markup(),
        parse_mode=None,
    )


@router.message(DocStates.title, not_navigation, Registered(), Confirmed())
async def on_title_other(message: Message) -> None:
    await message.answer(_("Please type the document's title as text."))


# ---------------------------------------------------------------- list, show, resend, delete


def _line(document: Document, names: dict[int, str]) -> str:
    who = names.get(document.patient_id, "")
    return f"📄 {document.title} · {who}" if who else f"📄 {document.title}"


@router.callback_query(DocHome.filter(F.to == "list"), Registered(), Confirmed())
async def on_list(
    query: CallbackQuery,
    callback_data: DocHome,
    user: User,
    uow: DocumentsUnitOfWork,
    state: FSMContext,
) -> None:
    await state.clear()
    documents = await uow.documents.for_user(user.id)
    patients = await uow.users.patients_of(user.id)
    names = {p.id: p.name for p in patients} if len(patients) > 1 else {}
    kb = InlineKeyboardBuilder()
    if not documents:
        kb.button(text=_("📎 Upload a document"), callback_data=DocHome(to="upload"))
        kb.button(text=_("Back"), callback_data=DocHome(to="home"))
        kb.adjust(1)
        await show(query, _("No documents yet."), kb.as_markup())
        return
    page = paginate(documents, callback_data.page, PER_PAGE)
    for document in page.items:
        kb.button(
            text=_line(document, names)[:60],
            callback_data=DocAct(action="show", document_id=document.id),
        )
    kb.adjust(1)
    kb.row(*pager_row(page.page, page.pages, lambda n: DocHome(to="list", page=n)))
    kb.row(button(_("Back"), DocHome(to="home")))
    await show(
        query, _("Your documents ({count}). Choose one:").format(count=page.total), kb.as_markup()
    )


@router.callback_query(DocAct.filter(F.action == "show"), Registered(), Confirmed())
async def on_show(
    query: CallbackQuery,
    callback_data: DocAct,
    user: User,
    uow: DocumentsUnitOfWork,
    policy: Policy,
) -> None:
    document = await docs.own_document(uow, user.id, callback_data.document_id)
    patient = await docs.own_patient(uow, user.id, document.patient_id)
    text = "\n".join(
        [
            f"📄 {document.title}",
            _("Patient: {name}").format(name=patient.full_name),
            _("File: {name} ({kind}, {size})").format(
                name=document.file_name,
                kind=document.kind.value.upper(),
                size=size_text(document.size),
            ),
            _("Added: {day}").format(
                day=fmt_day(local(document.created_at, policy.home_tz).date())
            ),
        ]
    )
    kb = InlineKeyboardBuilder()
    kb.button(text=_("⬇️ Download"), callback_data=DocAct(action="get", document_id=document.id))
    kb.button(text=_("🗑 Delete"), callback_data=DocAct(action="del", document_id=document.id))
    kb.button(text=_("Back"), callback_data=DocHome(to="list"))
    kb.adjust(2, 1)
    await show(query, text, kb.as_markup())


@router.callback_query(DocAct.filter(F.action == "get"), Registered(), Confirmed())
async def on_get(
    query: CallbackQuery,
    callback_data: DocAct,
    user: User,
    uow: DocumentsUnitOfWork,
    bot: Bot,
    now: datetime,
) -> None:
    document = await docs.fetch(uow, now, user.id, callback_data.document_id)
    await query.answer()
    await send_document(bot, query.from_user.id, document)


async def send_document(bot: Bot, chat_id: int, document: Document) -> None:
    """Resend by Telegram's file id: a photo as a photo (Telegram refuses a photo's id
    in sendDocument), anything else as a document; the title as the caption."""
    caption = document.title[:1000]
    if document.sent_as == "photo":
        await bot.send_photo(chat_id, document.file_id, caption=caption, parse_mode=None)
    else:
        await bot.send_document(chat_id, document.file_id, caption=caption, parse_mode=None)


@router.callback_query(DocAct.filter(F.action == "del"), Registered(), Confirmed())
async def on_delete_ask(
    query: CallbackQuery, callback_data: DocAct, user: User, uow: DocumentsUnitOfWork
) -> None:
    document = await docs.own_document(uow, user.id, callback_data.document_id)
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Yes, delete"), callback_data=DocAct(action="delok", document_id=document.id))
    kb.button(text=_("No, keep it"), callback_data=DocAct(action="show", document_id=document.id))
    kb.adjust(2)
    await show(
        query,
        _("Delete the document «{title}»? This cannot be undone.").format(title=document.title),
        kb.as_markup(),
    )


@router.callback_query(DocAct.filter(F.action == "delok"), Registered(), Confirmed())
async def on_delete(
    query: CallbackQuery, callback_data: DocAct, user: User, uow: DocumentsUnitOfWork, now: datetime
) -> None:
    document = await docs.delete(uow, now, user.id, callback_data.document_id)
    kb = InlineKeyboardBuilder()
    kb.button(text=_("📂 My documents"), callback_data=DocHome(to="list"))
    await show(query, _("Deleted: «{title}».").format(title=document.title), kb.as_markup())
