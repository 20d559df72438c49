"""«Документы и справки» — a certificate request, step by step.

Request: for whom (asked only with relatives) → the type → the purpose, typed
→ documents of that patient to attach (optional) → the clinic (the patient's
attached one; chosen from the directory when there is none) → summary →
«Отправить». The clinic's staff move it on in /staff (flows/staff_certificates.py);
each change arrives as a push (bot/notify_render.py) whose button opens the
request in «Мои справки» (flows/certificates_mine.py).
"""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from domain import certificate_requests as certs
from domain import certificates as rules
from domain import documents as docs
from domain.certificates import (
    KIND_NAMES,
    MAX_ATTACHED,
    CertificatesUnitOfWork,
    CertKind,
    NewRequest,
)
from domain.errors import Stale
from domain.family import SELF
from domain.models import User
from flows.docs_common import Confirmed, kind_name, patient_label, show
from flows.guards import Registered
from flows.ui.docs_callbacks import CertNew, DocHome
from flows.ui.i18n import gettext as _
from flows.ui.menu import not_navigation
from flows.ui.pager import pager_row, paginate

router = Router(name="certificates")

PER_PAGE = 6


class CertStates(StatesGroup):
    kind = State()
    purpose = State()
    attach = State()
    clinic = State()
    confirm = State()


# ---------------------------------------------------------------- a new request


@router.callback_query(DocHome.filter(F.to == "newcert"), Registered(), Confirmed())
async def on_new(
    query: CallbackQuery, user: User, uow: CertificatesUnitOfWork, state: FSMContext
) -> None:
    await state.clear()
    patients = await uow.users.patients_of(user.id)
    if len(patients) == 1:
        await _ask_kind(query, state, patients[0].id)
        return
    kb = InlineKeyboardBuilder()
    for patient in patients:
        kb.button(text=patient_label(patient), callback_data=CertNew(step="who", value=patient.id))
    kb.button(text=_("Back"), callback_data=DocHome(to="home"))
    kb.adjust(1)
    await show(query, _("Who is the certificate for?"), kb.as_markup())


@router.callback_query(CertNew.filter(F.step == "who"), Registered(), Confirmed())
async def on_who(
    query: CallbackQuery,
    callback_data: CertNew,
    user: User,
    uow: CertificatesUnitOfWork,
    state: FSMContext,
) -> None:
    await docs.own_patient(uow, user.id, callback_data.value)
    await _ask_kind(query, state, callback_data.value)


async def _ask_kind(query: CallbackQuery, state: FSMContext, patient_id: int) -> None:
    await state.set_state(CertStates.kind)
    await state.set_data({"cert_patient": patient_id})
    kb = InlineKeyboardBuilder()
    for kind in CertKind:
        kb.button(text=kind_name(kind), callback_data=CertNew(step="kind", kind=kind.value))
    kb.button(text=_("Cancel the request"), callback_data=DocHome(to="home"))
    kb.adjust(1)
    await show(query, _("Which certificate do you need?"), kb.as_markup())


async def _patient_in_dialogue(state: FSMContext) -> int:
    """The patient this request is for, from the dialogue; a button of a finished one is stale."""
    value = (await state.get_data()).get("cert_patient")
    if not isinstance(value, int):
        raise Stale
    return value


@router.callback_query(CertNew.filter(F.step == "kind"), CertStates.kind, Registered(), Confirmed())
async def on_kind(query: CallbackQuery, callback_data: CertNew, state: FSMContext) -> None:
    if callback_data.kind not in KIND_NAMES:
        raise Stale
    await _patient_in_dialogue(state)
    await state.update_data(cert_kind=callback_data.kind)
    await state.set_state(CertStates.purpose)
    await show(
        query,
        _(
            "{kind}.\n\nType the purpose: where the certificate is for, for example "
            "«for my employer» or «for the swimming pool»."
        ).format(kind=kind_name(CertKind(callback_data.kind))),
    )


@router.message(CertStates.purpose, F.text, not_navigation, Registered(), Confirmed())
async def on_purpose(
    message: Message, user: User, uow: CertificatesUnitOfWork, state: FSMContext
) -> None:
    purpose = rules.clean_text(message.text)  # a refusal keeps the step
    await state.update_data(cert_purpose=purpose, cert_docs=[])
    await _ask_attach(message, user, uow, state)


@router.message(CertStates.purpose, not_navigation, Registered(), Confirmed())
async def on_purpose_other(message: Message) -> None:
    await message.answer(_("Please type the purpose as text."))


async def _ask_attach(
    event: Message | CallbackQuery, user: User, uow: CertificatesUnitOfWork, state: FSMContext
) -> None:
    data = await state.get_data()
    patient_id = await _patient_in_dialogue(state)
    documents = await uow.documents.for_user(user.id, patient_id=patient_id)
    if not documents:
        await _ask_clinic(event, user, uow, state)
        return
    chosen = set(data.get("cert_docs") or [])
    await state.set_state(CertStates.attach)
    kb = InlineKeyboardBuilder()
    for document in documents[:20]:
        mark = "✅ " if document.id in chosen else ""
        kb.button(
            text=f"{mark}📄 {document.title}"[:60],
            callback_data=CertNew(step="att", value=document.id),
        )
    kb.button(
        text=_("Continue ({count} attached)").format(count=len(chosen)),
        callback_data=CertNew(step="done"),
    )
    kb.adjust(1)
    await show(
        event,
        _("Attach documents from your section? Tap to attach or detach (up to {n}).").format(
            n=MAX_ATTACHED
        ),
        kb.as_markup(),
    )


@router.callback_query(
    CertNew.filter(F.step == "att"), CertStates.attach, Registered(), Confirmed()
)
async def on_attach(
    query: CallbackQuery,
    callback_data: CertNew,
    user: User,
    uow: CertificatesUnitOfWork,
    state: FSMContext,
) -> None:
    patient_id = await _patient_in_dialogue(state)
    document = await docs.own_document(uow, user.id, callback_data.value)
    if document.patient_id != patient_id:
        raise Stale
    chosen = list((await state.get_data()).get("cert_docs") or [])
    if document.id in chosen:
        chosen.remove(document.id)
    elif len(chosen) < MAX_ATTACHED:
        chosen.append(document.id)
    await state.update_data(cert_docs=chosen)
    await _ask_attach(query, user, uow, state)


@router.callback_query(
    CertNew.filter(F.step == "done"), CertStates.attach, Registered(), Confirmed()
)
async def on_attach_done(
    query: CallbackQuery, user: User, uow: CertificatesUnitOfWork, state: FSMContext
) -> None:
    await _ask_clinic(query, user, uow, state)


async def _ask_clinic(
    event: Message | CallbackQuery,
    user: User,
    uow: CertificatesUnitOfWork,
    state: FSMContext,
    page: int = 0,
) -> None:
    patient_id = await _patient_in_dialogue(state)
    patient = await docs.own_patient(uow, user.id, patient_id)
    if patient.attached_clinic_id is not None:
        await state.update_data(cert_clinic=patient.attached_clinic_id)
        await _summary(event, user, uow, state)
        return
    await state.set_state(CertStates.clinic)
    choices = paginate(await uow.certificates.clinic_choices(), page, PER_PAGE)
    kb = InlineKeyboardBuilder()
    for clinic_id, name in choices.items:
        kb.button(text=name[:60], callback_data=CertNew(step="clinic", value=clinic_id))
    kb.adjust(1)
    kb.row(*pager_row(choices.page, choices.pages, lambda n: CertNew(step="clinics", value=n)))
    kb.row(
        InlineKeyboardButton(text=_("Cancel the request"), callback_data=DocHome(to="home").pack())
    )
    if patient.relation == SELF:
        text = _("You have no attached clinic. Which clinic should issue the certificate?")
    else:  # the relative's: «Вы не прикреплены» read as the account holder's own
        text = _("{name} has no attached clinic. Which clinic should issue the certificate?")
        text = text.format(name=patient.full_name)
    await show(event, text, kb.as_markup())


@router.callback_query(
    CertNew.filter(F.step == "clinics"), CertStates.clinic, Registered(), Confirmed()
)
async def on_clinic_page(
    query: CallbackQuery,
    callback_data: CertNew,
    user: User,
    uow: CertificatesUnitOfWork,
    state: FSMContext,
) -> None:
    await _ask_clinic(query, user, uow, state, callback_data.value)


@router.callback_query(
    CertNew.filter(F.step == "clinic"), CertStates.clinic, Registered(), Confirmed()
)
async def on_clinic(
    query: CallbackQuery,
    callback_data: CertNew,
    user: User,
    uow: CertificatesUnitOfWork,
    state: FSMContext,
) -> None:
    if await uow.directory.clinic(callback_data.value) is None:
        raise Stale
    await state.update_data(cert_clinic=callback_data.value)
    await _summary(query, user, uow, state)


async def _summary(
    event: Message | CallbackQuery, user: User, uow: CertificatesUnitOfWork, state: FSMContext
) -> None:
    data = await state.get_data()
    patient = await docs.own_patient(uow, user.id, await _patient_in_dialogue(state))
    clinic = await uow.directory.clinic(int(data.get("cert_clinic") or 0))
    if clinic is None or data.get("cert_kind") not in KIND_NAMES:
        raise Stale
    await state.set_state(CertStates.confirm)
    text = "\n".join(
        [
            _("Check the request:"),
            _("Certificate: {kind}").format(kind=kind_name(CertKind(str(data["cert_kind"])))),
            _("Patient: {name}").format(name=patient.full_name),
            _("Purpose: {purpose}").format(purpose=data.get("cert_purpose", "")),
            _("Clinic: {clinic}").format(clinic=clinic.name),
            _("Attached documents: {count}").format(count=len(data.get("cert_docs") or [])),
        ]
    )
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Send the request"), callback_data=CertNew(step="send"))
    kb.button(text=_("Cancel the request"), callback_data=DocHome(to="home"))
    kb.adjust(1)
    await show(event, text, kb.as_markup())


@router.callback_query(
    CertNew.filter(F.step == "send"), CertStates.confirm, Registered(), Confirmed()
)
async def on_send(
    query: CallbackQuery,
    user: User,
    uow: CertificatesUnitOfWork,
    now: datetime,
    state: FSMContext,
) -> None:
    data = await state.get_data()
    patient_id = await _patient_in_dialogue(state)
    attached = []
    for document_id in data.get("cert_docs") or []:
        document = await docs.own_document(uow, user.id, int(document_id))
        if document.patient_id == patient_id:
            attached.append(document.id)
    request = await certs.submit(
        uow,
        now,
        NewRequest(
            patient_id=patient_id,
            user_id=user.id,
            clinic_id=int(data.get("cert_clinic") or 0),
            kind=CertKind(str(data.get("cert_kind"))),
            purpose=str(data.get("cert_purpose") or ""),
            document_ids=tuple(attached),
        ),
    )
    await state.clear()
    kb = InlineKeyboardBuilder()
    kb.button(text=_("📄 My certificates"), callback_data=DocHome(to="certs"))
    await show(
        query,
        _(
            "Request № {number} is sent to the clinic. Every change of its status will come "
            "as a message; the ready certificate will be in «Documents» → «My certificates»."
        ).format(number=request.number),
        kb.as_markup(),
    )


@router.message(
    StateFilter(CertStates.kind, CertStates.attach, CertStates.clinic, CertStates.confirm),
    not_navigation,
    Registered(),
    Confirmed(),
)
async def on_button_step_message(message: Message) -> None:
    """Typed text at a button step: say what the step waits for; its buttons stay usable."""
    await message.answer(_("Please choose with a button above."))
