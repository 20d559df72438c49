"""What «Документы», «Справки» and /staff «Справки» share: screens, labels, refusal texts.

``refusal`` is this section's part of flows/refusals.py: the words for the
refusals its services raise (a file of the wrong type, a text too long, a
request that moved on), with what to do instead.
"""

from __future__ import annotations

from typing import Any

from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from domain.certificates import MAX_TEXT, MIN_TEXT, CertificateRefused, CertKind, CertStatus
from domain.certificates import kind_name as _kind_name
from domain.documents import DocumentRefused
from domain.errors import AccountNotReady, DomainError
from domain.models import AccountLevel, Patient, User
from flows.ui.format import clip, current_locale, esc
from flows.ui.i18n import gettext as _
from flows.ui.reply import unchanged

MB = 1024 * 1024
CONFIRMED = "confirmed"
HISTORY_DETAILS = "confirmed:history"  # the same level, asked by a visit's details


class Confirmed(Filter):
    """After ``Registered()``: visit-history details, documents and certificates need a
    confirmed account (SPEC §1: the register vouched for the person); a standard one is
    told how to get there. ``needed`` picks the words (what was asked for)."""

    def __init__(self, needed: str = CONFIRMED) -> None:
        self.needed = needed

    async def __call__(self, event: Any, user: User) -> bool:
        if user.level is AccountLevel.CONFIRMED:
            return True
        raise AccountNotReady(self.needed)


def size_text(size: int) -> str:
    if size >= MB:
        return _("{n} MB").format(n=f"{size / MB:.1f}".rstrip("0").rstrip("."))
    return _("{n} KB").format(n=max(1, round(size / 1024)))


def limit_text(limit: int) -> str:
    return size_text(limit)


def patient_label(patient: Patient) -> str:
    if patient.relation == "self":
        return _("Me — {name}").format(name=patient.full_name)
    return patient.full_name


def kind_name(kind: CertKind) -> str:
    return _kind_name(kind, current_locale())


def status_name(status: CertStatus) -> str:
    return {
        CertStatus.SUBMITTED: _("Request submitted"),
        CertStatus.IN_REVIEW: _("In review at the clinic"),
        CertStatus.MORE_INFO: _("More information needed"),
        CertStatus.READY: _("Certificate ready"),
        CertStatus.REFUSED: _("Refused by the clinic"),
        CertStatus.WITHDRAWN: _("Withdrawn: the relative was removed"),
    }[status]


async def show(
    event: CallbackQuery | Message, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """A screen: a button press edits its own message, typed text gets a new one.

    Plain text: titles, file names and typed reasons go out as they are.
    """
    text = clip(text)
    if isinstance(event, CallbackQuery):
        message = event.message
        await event.answer()
        if isinstance(message, Message) and message.text is not None:
            if unchanged(message, text, markup):
                return
            try:
                await message.edit_text(text, reply_markup=markup, parse_mode=None)
            except TelegramBadRequest as exc:
                if "not modified" not in str(exc):
                    raise
            return
        if message is not None and event.bot is not None:
            await event.bot.send_message(
                message.chat.id, text, reply_markup=markup, parse_mode=None
            )
        return
    await event.answer(text, reply_markup=markup, parse_mode=None)


def refusal(error: DomainError) -> str | None:
    """This section's refusal texts (flows/refusals.py asks here first); None: not ours.

    Sent with the default parse mode (HTML): anything from the file is escaped.
    """
    if isinstance(error, DocumentRefused):
        return _document_refusal(error)
    if isinstance(error, AccountNotReady) and error.needed == CONFIRMED:
        return _(
            "Documents and certificates need a confirmed account: your data must match your "
            "clinic's attachment register. Ask the registry of your clinic to attach you, "
            "then check the data in «Profile»."
        )
    if isinstance(error, AccountNotReady) and error.needed == HISTORY_DETAILS:
        return _(
            "Visit details and their PDF need a confirmed account: your data must match your "
            "clinic's attachment register. Ask the registry of your clinic to attach you, "
            "then check the data in «Profile»."
        )
    if isinstance(error, CertificateRefused):
        if error.reason == "text":
            return _("Please type from {low} to {high} characters.").format(
                low=MIN_TEXT, high=MAX_TEXT
            )
        if error.reason == "no_clinic":
            return _("That clinic is not in the directory. Please start the request again.")
        return _(
            "This request has already moved on. Open it again: «Documents» → «My certificates»."
        )
    return None


def _document_refusal(error: DocumentRefused) -> str:
    again = _("Send another file: PDF, JPG or PNG.")
    if error.reason == "size":
        return _(
            "The file is larger than {limit}: it cannot be stored. "
            "Send a smaller file (a compressed scan or a photo)."
        ).format(limit=limit_text(error.limit))
    if error.reason == "empty":
        return _("The file is empty.") + " " + again
    if error.reason == "type":
        return (
            _("Files «.{ext}» are not accepted: only PDF, JPG and PNG.").format(
                ext=esc(error.claimed)
            )
            + " "
            + again
        )
    if error.reason == "content":
        return (
            _(
                "This file is not a real PDF, JPG or PNG: its contents are of another kind "
                "(an archive or a program with a changed name, perhaps)."
            )
            + " "
            + again
        )
    if error.reason == "mismatch":
        return (
            _("The file is named «.{claimed}» but holds a {found} file.").format(
                claimed=esc(error.claimed), found=error.found.upper()
            )
            + " "
            + again
        )
    return _(
        "Please type a title of 1 to {limit} characters, for example «Blood test, November»."
    ).format(limit=error.limit)
