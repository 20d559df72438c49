"""«Записаться к врачу»: patient → specialty → clinic → doctor → day → time → summary → confirm.

Thin handlers: parse the callback, check it against the dialogue's state and
the user's own patients, call the directory (read) or the booking services
(domain/booking.py: hold_slot, book), render a screen from flows/booking_views.py.
The choices made so far live in the FSM data (``bk_*`` keys), so «Назад»
can rebuild any earlier step; ids in callbacks are re-checked on every press.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.settings import Settings
from domain import booking, rules
from domain.directory import local_date
from domain.errors import AlreadyBooked, DomainError, NotOwner, SlotTaken, VisitOverlaps
from domain.models import AccountLevel, Patient, Specialty, User
from domain.ports import Clock
from flows import booking_views as views
from flows.booking_common import (
    Event,
    load_details,
    mark_confirmed_in_chat,
    policy_from,
    queue_files,
    refusal_text,
    show,
    stale,
    therapist_code_for,
)
from flows.ui import menu as menu_ui
from flows.ui.callbacks import (
    ApCancel,
    ApMove,
    BkBack,
    BkClinic,
    BkClinicPage,
    BkConfirm,
    BkDay,
    BkDoctor,
    BkJump,
    BkPatient,
    BkSlot,
    BkSpec,
    BkSpecPage,
    Noop,
    day_code,
    day_from_code,
)
from flows.ui.format import details_text
from flows.ui.keyboards import button, inline

if TYPE_CHECKING:
    from storage.uow import SqlUnitOfWork

DEFAULT_REGION = "msk"
KEYS = ("bk_p", "bk_s", "bk_c", "bk_d", "bk_q", "bk_cp", "bk_day", "bk_t", "bk_multi", "bk_r")


class BookingStates(StatesGroup):
    patient = State()
    specialty = State()
    clinic = State()  # text typed here searches clinics
    doctor = State()
    day = State()
    slot = State()
    summary = State()


class Ctx:
    """What a handler needs, gathered once: the unit of work, the clock, settings, the user."""

    def __init__(self, uow: SqlUnitOfWork, clock: Clock, settings: Settings, user: User) -> None:
        self.uow = uow
        self.now = clock.now()
        self.settings = settings
        self.user = user
        self.home_tz = settings.default_tz


async def leave_on_navigation(message: Message, state: FSMContext) -> None:
    """Another main-menu section or a command ends the booking dialogue: text typed
    later is not taken as an answer to a booking step («Выберите врача…»). The
    section's own handler then runs (SkipHandler)."""
    await state.clear()
    raise SkipHandler


def build_router() -> Router:
    router = Router(name="booking")
    router.message.register(start, F.text == menu_ui.BOOK)
    router.message.register(
        leave_on_navigation, StateFilter(BookingStates), F.text.func(menu_ui.is_navigation)
    )
    router.callback_query.register(noop, Noop.filter())
    router.callback_query.register(on_patient, BkPatient.filter())
    router.callback_query.register(on_spec_page, BkSpecPage.filter())
    router.callback_query.register(on_spec, BkSpec.filter())
    router.callback_query.register(on_clinic_page, BkClinicPage.filter())
    router.message.register(on_search, StateFilter(BookingStates.clinic), F.text)
    router.callback_query.register(on_clinic, BkClinic.filter())
    router.callback_query.register(on_doctor, BkDoctor.filter())
    router.callback_query.register(on_day, BkDay.filter())
    router.callback_query.register(on_slot, BkSlot.filter())
    router.callback_query.register(on_confirm, BkConfirm.filter())
    router.callback_query.register(on_back, BkBack.filter())
    router.callback_query.register(on_jump, BkJump.filter())
    return router


# --------------------------------------------------------------------------- helpers


async def _ctx(data: dict[str, Any]) -> Ctx | None:
    user: User | None = data.get("user")
    if user is None or user.level == AccountLevel.NONE:
        return None
    return Ctx(data["uow"], data["clock"], data["settings"], user)


async def _patient(ctx: Ctx, patient_id: int | None) -> Patient | None:
    """The user's own patient (self or relative) — anything else is a stale or forged id."""
    if patient_id is None:
        return None
    patient = await ctx.uow.users.patient(patient_id)
    if patient is None or patient.owner_user_id != ctx.user.id:
        return None
    return patient


async def _region(ctx: Ctx, patient: Patient) -> str:
    if patient.attached_clinic_id is not None:
        clinic = await ctx.uow.directory.clinic(patient.attached_clinic_id)
        if clinic is not None:
            return clinic.region_id
    return DEFAULT_REGION


async def _precheck(ctx: Ctx, patient: Patient, spec: Specialty) -> DomainError | None:
    """Refuse early (at the specialty) what hold_slot would refuse later: age/sex, referral,
    one active appointment per specialty (named, with «move» / «cancel»). The take
    checks them all again."""
    today = local_date(ctx.now, ctx.home_tz)
    try:
        rules.check_age_sex(patient, spec, today)
        if spec.referral_required:
            referral = await ctx.uow.appointments.usable_referral(patient.id, spec.id, today)
            rules.check_referral(spec, patient.id, referral, today)
        if ctx.settings.limits.one_active_per_specialty:
            existing = await ctx.uow.appointments.active_for_specialty(patient.id, spec.id, ctx.now)
            rules.check_one_active(int(existing is not None), True, existing)
    except DomainError as exc:
        return exc
    return None


async def _refuse(
    event: Event, ctx: Ctx, error: DomainError, spec: Specialty | None, patient: Patient | None
) -> None:
    """A refusal in words plus the way forward (the therapist, other specialties; the
    visit in the way can be moved or cancelled right here)."""
    rows = []
    visit = error.clash if isinstance(error, VisitOverlaps) else None
    if isinstance(error, AlreadyBooked):
        visit = error.existing
    if isinstance(error, VisitOverlaps):  # the doctor and day stay chosen: back to their times
        rows.append([button(_("Choose another time"), BkBack(to="slots"))])
    if visit is not None:
        rows.append(
            [
                button(_("Reschedule"), ApMove(a=visit.appointment_id)),
                button(_("Cancel appointment"), ApCancel(a=visit.appointment_id, step=0)),
            ]
        )
    if patient is not None and not isinstance(error, NotOwner):
        code = therapist_code_for(patient, local_date(ctx.now, ctx.home_tz))
        if visit is None and (spec is None or spec.code != code):
            other = await ctx.uow.directory.specialty_by_code(code)
            if other is not None:
                rows.append(
                    [
                        button(
                            _("Book: {specialty}").format(specialty=other.name(_locale())),
                            BkJump(to="therapist"),
                        )
                    ]
                )
        rows.append([button(_("Other specialties"), BkBack(to="spec"))])
    await show(event, refusal_text(error, spec, patient), inline(rows))


def _locale() -> str:
    from flows.ui.format import current_locale

    return current_locale()


# --------------------------------------------------------------------------- steps


async def start(message: Message, state: FSMContext, **data: Any) -> None:
    ctx = await _ctx(data)
    if ctx is None:
        await message.answer(_("Please finish registration first: send /start."))
        return
    patients = await ctx.uow.users.patients_of(ctx.user.id)
    if not patients:
        await message.answer(_("Please finish registration first: send /start."))
        return
    await state.update_data({key: None for key in KEYS} | {"bk_multi": len(patients) > 1})
    if len(patients) == 1:
        await state.update_data(bk_p=patients[0].id)
        await _show_specialties(message, ctx, state, patients[0], 0)
        return
    await state.set_state(BookingStates.patient)
    text, kb = views.patients_screen(patients)
    await show(message, text, kb)


async def noop(query: CallbackQuery, callback_data: Noop) -> None:
    if callback_data.why == "day":
        await query.answer(_("No free time on this day."))
    elif callback_data.why == "past":
        await query.answer(_("This day has passed."))
    elif callback_data.why == "later":
        await query.answer(_("This day is not open for booking yet."))
    else:
        await query.answer()


async def on_patient(
    query: CallbackQuery, callback_data: BkPatient, state: FSMContext, **data: Any
) -> None:
    ctx = await _ctx(data)
    patient = await _patient(ctx, callback_data.p) if ctx else None
    if ctx is None or patient is None:
        await stale(query)
        return
    await state.update_data(bk_p=patient.id)
    await _show_specialties(query, ctx, state, patient, 0)


async def _show_specialties(
    event: Event, ctx: Ctx, state: FSMContext, patient: Patient, page: int
) -> None:
    await state.set_state(BookingStates.specialty)
    specs = await ctx.uow.directory.specialties()
    multi = bool((await state.get_data()).get("bk_multi"))
    text, kb = views.specialties_screen(patient, specs, page, multi)
    await show(event, text, kb)


async def _current_patient(ctx: Ctx, state: FSMContext) -> tuple[dict[str, Any], Patient | None]:
    fsm = await state.get_data()
    return fsm, await _patient(ctx, fsm.get("bk_p"))


async def on_spec_page(
    query: CallbackQuery, callback_data: BkSpecPage, state: FSMContext, **data: Any
) -> None:
    ctx = await _ctx(data)
    if ctx is None:
        await stale(query)
        return
    _fsm, patient = await _current_patient(ctx, state)
    if patient is None:
        await stale(query)
        return
    await _show_specialties(query, ctx, state, patient, callback_data.page)


async def on_spec(
    query: CallbackQuery, callback_data: BkSpec, state: FSMContext, **data: Any
) -> None:
    ctx = await _ctx(data)
    if ctx is None:
        await stale(query)
        return
    _fsm, patient = await _current_patient(ctx, state)
    spec = await ctx.uow.directory.specialty(callback_data.s)
    if patient is None or spec is None:
        await stale(query)
        return
    await _choose_specialty(query, ctx, state, patient, spec)


async def _choose_specialty(
    event: Event, ctx: Ctx, state: FSMContext, patient: Patient, spec: Specialty
) -> None:
    error = await _precheck(ctx, patient, spec)
    if error is not None:
        await _refuse(event, ctx, error, spec, patient)
        return
    region = await _region(ctx, patient)
    await state.update_data(bk_s=spec.id, bk_r=region, bk_q=None, bk_cp=0, bk_c=None, bk_d=None)
    await _show_clinics(event, ctx, state)


async def _show_clinics(event: Event, ctx: Ctx, state: FSMContext) -> None:
    fsm, patient = await _current_patient(ctx, state)
    spec = await ctx.uow.directory.specialty(fsm.get("bk_s") or 0)
    if patient is None or spec is None:
        await stale(event)
        return
    await state.set_state(BookingStates.clinic)
    text, kb = await views.clinics_screen(
        ctx.uow,
        patient,
        spec,
        fsm.get("bk_r") or DEFAULT_REGION,
        fsm.get("bk_cp") or 0,
        fsm.get("bk_q"),
    )
    await show(event, text, kb)


async def on_clinic_page(
    query: CallbackQuery, callback_data: BkClinicPage, state: FSMContext, **data: Any
) -> None:
    ctx = await _ctx(data)
    if ctx is None:
        await stale(query)
        return
    await state.update_data(bk_cp=callback_data.page)
    await _show_clinics(query, ctx, state)


async def on_search(message: Message, state: FSMContext, **data: Any) -> None:
    """Text typed at the clinic step searches names and addresses; menu buttons pass through."""
    text = (message.text or "").strip()
    ctx = await _ctx(data)
    if ctx is None or not text or menu_ui.is_navigation(text):
        raise SkipHandler()
    await state.update_data(bk_q=text[:64], bk_cp=0)
    await _show_clinics(message, ctx, state)


async def on_clinic(
    query: CallbackQuery, callback_data: BkClinic, state: FSMContext, **data: Any
) -> None:
    ctx = await _ctx(data)
    if ctx is None:
        await stale(query)
        return
    await state.update_data(bk_c=callback_data.c)
    await _show_doctors(query, ctx, state, 0)


async def _show_doctors(event: Event, ctx: Ctx, state: FSMContext, page: int) -> None:
    fsm, patient = await _current_patient(ctx, state)
    spec = await ctx.uow.directory.specialty(fsm.get("bk_s") or 0)
    clinic = await ctx.uow.directory.clinic(fsm.get("bk_c") or 0)
    if patient is None or spec is None or clinic is None:
        await stale(event)
        return
    await state.set_state(BookingStates.doctor)
    text, kb = await views.doctors_screen(
        ctx.uow, clinic, spec, ctx.now, ctx.home_tz, ctx.user.id, page
    )
    await show(event, text, kb)


async def on_doctor(
    query: CallbackQuery, callback_data: BkDoctor, state: FSMContext, **data: Any
) -> None:
    ctx = await _ctx(data)
    if ctx is None:
        await stale(query)
        return
    if callback_data.d < 0:  # the doctors list's pager: d = -(page + 1)
        await _show_doctors(query, ctx, state, -callback_data.d - 1)
        return
    await state.update_data(bk_d=callback_data.d)
    await _show_calendar(query, ctx, state)


async def _show_calendar(event: Event, ctx: Ctx, state: FSMContext) -> None:
    fsm, patient = await _current_patient(ctx, state)
    directory = ctx.uow.directory
    spec = await directory.specialty(fsm.get("bk_s") or 0)
    clinic = await directory.clinic(fsm.get("bk_c") or 0)
    if patient is None or spec is None or clinic is None or fsm.get("bk_d") is None:
        await stale(event)
        return
    doctor_id = int(fsm["bk_d"])
    await state.set_state(BookingStates.day)
    if doctor_id == 0:
        text, kb = await views.earliest_screen(ctx.uow, patient, clinic, spec, ctx.now, ctx.user.id)
        await show(event, text, kb)
        return
    doctor = await directory.doctor(doctor_id)
    if doctor is None or not await directory.has_role(doctor_id, clinic.id, spec.id):
        await stale(event)
        return
    text, kb = await views.doctor_calendar(
        ctx.uow,
        doctor,
        clinic,
        spec,
        ctx.now,
        ctx.home_tz,
        ctx.user.id,
        lambda day: BkDay(d=doctor_id, day=day_code(day)),
        views.back("doctors"),
        join_waitlist=True,
    )
    await show(event, text, kb)


async def on_day(
    query: CallbackQuery, callback_data: BkDay, state: FSMContext, **data: Any
) -> None:
    ctx = await _ctx(data)
    if ctx is None:
        await stale(query)
        return
    await state.update_data(bk_d=callback_data.d, bk_day=callback_data.day)
    await _show_day(query, ctx, state, callback_data.pg)


async def _show_day(event: Event, ctx: Ctx, state: FSMContext, page: int = 0) -> None:
    fsm, patient = await _current_patient(ctx, state)
    directory = ctx.uow.directory
    spec = await directory.specialty(fsm.get("bk_s") or 0)
    clinic = await directory.clinic(fsm.get("bk_c") or 0)
    doctor = await directory.doctor(fsm.get("bk_d") or 0)
    if patient is None or spec is None or clinic is None or doctor is None or not fsm.get("bk_day"):
        await stale(event)
        return
    try:
        day = day_from_code(int(fsm["bk_day"]))
    except ValueError:
        await stale(event)
        return
    slots = await directory.free_slots_on_day(
        doctor.id, clinic.id, spec.id, day, clinic.tz, ctx.now, for_user_id=ctx.user.id
    )
    await state.set_state(BookingStates.slot)
    header = f"{doctor.full_name}\n🏥 {clinic.name}"
    text, kb = views.day_slots_screen(
        header,
        day,
        slots,
        clinic.tz,
        lambda s: BkSlot(p=patient.id, t=s.id),
        views.back("days"),
        page,
        lambda n: BkDay(d=doctor.id, day=day_code(day), pg=n),
    )
    await show(event, text, kb)


async def on_slot(
    query: CallbackQuery, callback_data: BkSlot, state: FSMContext, **data: Any
) -> None:
    """Open the summary: hold the slot for this user, or explain why not."""
    ctx = await _ctx(data)
    if ctx is None:
        await stale(query)
        return
    patient = await _patient(ctx, callback_data.p)
    slot = await ctx.uow.directory.slot(callback_data.t)
    if patient is None or slot is None:
        await stale(query)
        return
    policy = policy_from(ctx.settings)
    spec = await ctx.uow.directory.specialty(slot.specialty_id)
    try:
        await booking.hold_slot(ctx.uow, ctx.now, ctx.user.id, patient.id, slot.id, policy)
    except SlotTaken as taken:
        await _slot_taken(query, ctx, patient, taken)
        return
    except NotOwner:
        await stale(query)
        return
    except DomainError as exc:
        await _refuse(query, ctx, exc, spec, patient)
        return
    details = await load_details(ctx.uow, patient, slot=slot)
    if details is None:
        await stale(query)
        return
    await state.update_data(
        bk_p=patient.id,
        bk_t=slot.id,
        bk_s=slot.specialty_id,
        bk_c=slot.clinic_id,
        bk_d=slot.doctor_id,
        bk_day=views.day_of(slot, details.clinic.tz),
    )
    await state.set_state(BookingStates.summary)
    text, kb = views.summary_screen(details, ctx.home_tz, policy.hold_minutes, slot.id)
    await show(query, text, kb)


async def _slot_taken(event: Event, ctx: Ctx, patient: Patient, taken: SlotTaken) -> None:
    text, kb = await views.taken_screen(
        ctx.uow, taken.alternatives, lambda s: BkSlot(p=patient.id, t=s.id), views.back("days")
    )
    await show(event, text, kb, new=True)


async def on_confirm(
    query: CallbackQuery, callback_data: BkConfirm, state: FSMContext, **data: Any
) -> None:
    ctx = await _ctx(data)
    if ctx is None:
        await stale(query)
        return
    patient = await _patient(ctx, callback_data.p)
    if patient is None:
        await stale(query)
        return
    policy = policy_from(ctx.settings)
    slot = await ctx.uow.directory.slot(callback_data.t)
    spec = await ctx.uow.directory.specialty(slot.specialty_id) if slot else None
    try:
        appointment, created = await booking.book_once(
            ctx.uow, ctx.now, ctx.user.id, patient.id, callback_data.t, policy
        )
    except SlotTaken as taken:
        await _slot_taken(query, ctx, patient, taken)
        return
    except NotOwner:
        await stale(query)
        return
    except DomainError as exc:
        await _refuse(query, ctx, exc, spec, patient)
        return
    await state.set_state(None)
    await state.update_data({key: None for key in KEYS})
    details = await load_details(ctx.uow, patient, appointment=appointment)
    if query.message is not None and hasattr(query.message, "edit_reply_markup"):
        await query.message.edit_reply_markup(reply_markup=None)
    if details is None:
        await show(
            query,
            _("Booked. Appointment number: {number}").format(number=appointment.number),
            new=True,
        )
        return
    if not created:  # a second tap on «Подтвердить»: the booking it already made
        text = _("You are already booked for this time. Appointment number: {number}").format(
            number=appointment.number
        )
        await show(query, text + "\n\n" + details_text(details, ctx.home_tz), new=True)
        return
    text = _("Booked! Appointment number: {number}").format(number=appointment.number)
    text += "\n\n" + details_text(details, ctx.home_tz)
    text += "\n\n" + _(
        "You will get reminders before the visit. To move or cancel it, open «My appointments»."
    )
    # The .ics and PDF follow through the outbox (the notifier), after the confirmation.
    await queue_files(ctx.uow, appointment, ctx.now)
    await show(query, text, new=True)
    await mark_confirmed_in_chat(ctx.uow, appointment, ctx.now)


async def on_back(
    query: CallbackQuery, callback_data: BkBack, state: FSMContext, **data: Any
) -> None:
    ctx = await _ctx(data)
    if ctx is None:
        await stale(query)
        return
    fsm, patient = await _current_patient(ctx, state)
    if fsm.get("bk_t") is not None:  # leaving the summary gives the held slot back now
        await booking.release_hold(ctx.uow, ctx.user.id)
        await state.update_data(bk_t=None)
    to = callback_data.to
    if to == "patient":
        patients = await ctx.uow.users.patients_of(ctx.user.id)
        await state.set_state(BookingStates.patient)
        text, kb = views.patients_screen(patients)
        await show(query, text, kb)
    elif patient is None:
        await stale(query)
    elif to == "spec":
        await _show_specialties(query, ctx, state, patient, 0)
    elif to == "clinics":
        await _show_clinics(query, ctx, state)
    elif to == "doctors":
        await _show_doctors(query, ctx, state, 0)
    elif to == "days":
        await _show_calendar(query, ctx, state)
    elif to == "slots":
        if fsm.get("bk_day"):
            await _show_day(query, ctx, state)
        else:
            await _show_calendar(query, ctx, state)
    else:
        await stale(query)


async def on_jump(
    query: CallbackQuery, callback_data: BkJump, state: FSMContext, **data: Any
) -> None:
    ctx = await _ctx(data)
    if ctx is None:
        await stale(query)
        return
    if callback_data.to == "waitlist":
        from flows.waitlist import WaitListSteps, offer_join

        await state.set_state(WaitListSteps.period)  # typed text gets that step's hint
        await offer_join(query, await state.get_data(), **data)
        return
    _fsm, patient = await _current_patient(ctx, state)
    if patient is None:
        await stale(query)
        return
    if callback_data.to == "therapist":
        code = therapist_code_for(patient, local_date(ctx.now, ctx.home_tz))
        spec = await ctx.uow.directory.specialty_by_code(code)
        if spec is None:
            await stale(query)
            return
        await _choose_specialty(query, ctx, state, patient, spec)
    elif callback_data.to == "clinics":
        await state.update_data(bk_q=None, bk_cp=0)
        await _show_clinics(query, ctx, state)
    else:
        await stale(query)
