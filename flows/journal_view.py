"""«Профиль» → «Журнал действий»: every action on the account and its relatives, paged,
filtered by period and kind, and exported as a PDF.

The journal is written by the services (sign-up, profile edits, bookings,
cancellations, moves, staff marks, tickets, reviews); the notifications sent
(reminders, clinic changes) come from the outbox. The PDF carries the
account's name, the period and its generation time on the app clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import F, Router
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardButton, Message

from domain import journal_view as jv
from domain.models import User
from domain.policy import Policy
from flows.guards import Registered
from flows.ui import keyboards as kb
from flows.ui.files import appointment_pdf  # type: ignore[attr-defined]  # bot's PDF builder
from flows.ui.format import local
from flows.ui.i18n import gettext as _
from flows.ui.safe_callback import SafeCallback

router = Router(name="journal_view")
PER_PAGE = 10


class JvCb(SafeCallback, prefix="jv"):
    period: str = "30"
    kind: str = "all"
    page: int = 0
    pdf: int = 0


PERIOD_LABELS: dict[str, Callable[[], str]] = {
    "7": lambda: _("7 days"),
    "30": lambda: _("30 days"),
    "365": lambda: _("Year"),
    "all": lambda: _("All time"),
}
KIND_LABELS: dict[str, Callable[[], str]] = {
    "all": lambda: _("Everything"),
    "visits": lambda: _("Visits"),
    "account": lambda: _("Account"),
    "support": lambda: _("Support"),
    "notices": lambda: _("Notifications"),
}
ACTIONS: dict[str, Callable[[], str]] = {
    "account.started": lambda: _("Started the bot"),
    "account.language": lambda: _("Language chosen"),
    "account.consent": lambda: _("Consent to data processing given"),
    "account.phone": lambda: _("Phone shared"),
    "account.registered": lambda: _("Registered"),
    "account.verification": lambda: _("Policy checked against the register"),
    "account.reconfirmation": lambda: _("Sent for confirmation again"),
    "profile.edited": lambda: _("Profile edited"),
    "appointment.booked": lambda: _("Appointment booked"),
    "appointment.confirmed": lambda: _("Attendance confirmed"),
    "appointment.cancelled": lambda: _("Appointment cancelled"),
    "appointment.rescheduled": lambda: _("Appointment moved"),
    "appointment.completed": lambda: _("Visit marked completed by the clinic"),
    "appointment.no_show": lambda: _("Visit marked missed by the clinic"),
    "ticket.opened": lambda: _("Support request sent"),
    "ticket.taken": lambda: _("Support request taken by the clinic"),
    "ticket.answered": lambda: _("Support answered"),
    "ticket.replied": lambda: _("Reply to support"),
    "ticket.closed": lambda: _("Support request closed"),
    "ticket.escalated": lambda: _("Support request escalated to the administrator"),
    "review.added": lambda: _("Review left"),
    "review.changed": lambda: _("Review changed"),
    "review.hidden": lambda: _("Review text hidden by the clinic"),
    "notification.reminder": lambda: _("Reminder sent"),
    "notification.booked": lambda: _("Booking confirmation sent"),
    "notification.clinic_cancelled": lambda: _("Clinic's cancellation notice sent"),
    "notification.clinic_moved": lambda: _("Clinic's move notice sent"),
    "notification.waitlist_offer": lambda: _("Wait-list offer sent"),
    "notification.ticket_answered": lambda: _("Support answer notice sent"),
    "notification.review_ask": lambda: _("Review request sent"),
    "family.added": lambda: _("Relative added"),
    "family.edited": lambda: _("Relative's data edited"),
    "family.removed": lambda: _("Relative removed"),
    "family.consent_requested": lambda: _("Consent of a relative requested"),
    "family.consent_approved": lambda: _("You allowed being added as a relative"),
    "family.consent_declined": lambda: _("You declined being added as a relative"),
    "family.request_approved": lambda: _("Your request to add a relative was approved"),
    "family.request_declined": lambda: _("Your request to add a relative was declined"),
    "family.request_withdrawn": lambda: _("Request to add a relative withdrawn"),
    "history.pdf": lambda: _("Visit summary downloaded (PDF)"),
    "visit.results": lambda: _("Visit results received"),
    "document_added": lambda: _("Document uploaded"),
    "document_deleted": lambda: _("Document deleted"),
    "document_sent": lambda: _("Document downloaded"),
    "certificate_requested": lambda: _("Certificate requested"),
    "certificate_answered": lambda: _("Answer to the clinic's question about a certificate"),
    "certificate_downloaded": lambda: _("Certificate downloaded"),
    "certificate_in_review": lambda: _("Certificate request taken into work"),
    "certificate_more_info": lambda: _("The clinic asked for more information about a certificate"),
    "certificate_ready": lambda: _("Certificate issued"),
    "certificate_refused": lambda: _("Certificate refused"),
    "certificate_withdrawn": lambda: _("Certificate request withdrawn with the relative"),
    "certificate_document_viewed": lambda: _("Document of a certificate request viewed"),
    "account.deleted": lambda: _("Data deleted"),
}


def describe(item: jv.Item) -> str:
    label = ACTIONS.get(item.action)
    text = label() if label else item.action
    ref = item.details.get("number") or item.details.get("ticket")
    if isinstance(ref, str | int):
        text += f" № {ref}"
    return text


def line(item: jv.Item, tz: str) -> str:
    return f"{local(item.at, tz):%d.%m.%Y %H:%M} — {describe(item)}"


def _choice_row(
    options: dict[str, Callable[[], str]], current: str, make: Callable[[str], JvCb]
) -> list[InlineKeyboardButton]:
    return [
        kb.button(("• " if key == current else "") + label(), make(key))
        for key, label in options.items()
    ]


async def _items(
    uow: jv.JournalViewUnitOfWork, user: User, cb: JvCb, now: datetime
) -> list[jv.Item]:
    prefixes = jv.KINDS.get(cb.kind, jv.KINDS["all"])
    return await uow.journal_view.items(user.id, jv.since(cb.period, now), prefixes)


@router.callback_query(JvCb.filter(F.pdf == 0), Registered())
async def on_journal(
    query: CallbackQuery,
    callback_data: JvCb,
    user: User,
    uow: jv.JournalViewUnitOfWork,
    now: datetime,
    policy: Policy,
) -> None:
    cb = callback_data
    items = await _items(uow, user, cb, now)
    pages = max(1, -(-len(items) // PER_PAGE))
    page = min(cb.page, pages - 1)
    shown = items[page * PER_PAGE : (page + 1) * PER_PAGE]
    head = _("Activity journal · {period} · {kind}").format(
        period=PERIOD_LABELS.get(cb.period, PERIOD_LABELS["30"])(),
        kind=KIND_LABELS.get(cb.kind, KIND_LABELS["all"])(),
    )
    body = "\n".join(line(i, policy.home_tz) for i in shown) or _("Nothing in this period.")
    kinds = _choice_row(KIND_LABELS, cb.kind, lambda k: JvCb(period=cb.period, kind=k))
    rows = [
        _choice_row(PERIOD_LABELS, cb.period, lambda p: JvCb(period=p, kind=cb.kind)),
        kinds[:3],
        kinds[3:],
        kb.pager_row(page, pages, lambda p: JvCb(period=cb.period, kind=cb.kind, page=p)),
        [kb.button(_("PDF"), JvCb(period=cb.period, kind=cb.kind, pdf=1))],
    ]
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            f"{head}\n\n{body}", reply_markup=kb.inline(rows), parse_mode=None
        )


@router.callback_query(JvCb.filter(F.pdf == 1), Registered())
async def on_pdf(
    query: CallbackQuery,
    callback_data: JvCb,
    user: User,
    uow: jv.JournalViewUnitOfWork,
    now: datetime,
    policy: Policy,
) -> None:
    cb = callback_data
    items = await _items(uow, user, cb, now)
    patient = await uow.users.self_patient(user.id)
    tz = policy.home_tz
    start = jv.since(cb.period, now)
    period = (
        _("from {start} to {end}").format(
            start=f"{local(start, tz):%d.%m.%Y}", end=f"{local(now, tz):%d.%m.%Y}"
        )
        if start is not None
        else _("all time, to {end}").format(end=f"{local(now, tz):%d.%m.%Y}")
    )
    data = appointment_pdf(
        title=_("Activity journal"),
        rows=[
            (_("Account"), patient.full_name if patient else str(user.id)),
            (_("Period"), period),
            (_("Kind"), KIND_LABELS.get(cb.kind, KIND_LABELS["all"])()),
            (_("Generated"), f"{local(now, tz):%d.%m.%Y %H:%M}"),
        ],
        created=now,
        notes_title=_("Actions, newest first"),
        notes="\n".join(line(i, tz) for i in items) or _("Nothing in this period."),
        footer=_("Generated by Zapis from the account's activity journal."),
    )
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer_document(
            BufferedInputFile(data, filename=f"journal-{local(now, tz):%Y%m%d}.pdf"),
            caption=_("Activity journal, PDF"),
        )
