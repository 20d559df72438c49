"""A certificate request's new status, told to the patient who asked (issue 9.6).

A module of its own: the «Справки» notice reads codes only from the payload
(no typed text) and links back to the request; it shares nothing with the visit
notices but the result types.
"""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.notify_parts import Rendered, Unrenderable
from domain.certificates import CertKind, CertStatus, certificate_number, kind_name
from domain.notifications import OutboxRow
from flows.ui.docs_callbacks import CertAct
from flows.ui.format import esc


def render_certificate_status(row: OutboxRow, locale: str) -> Rendered:
    """A certificate request's new status. The payload holds codes only (no typed text):
    the clinic's question or reason is read by opening the request with the button."""
    request_id, clinic_id = row.ref("request_id"), row.ref("clinic_id")
    try:
        status = CertStatus(str(row.payload.get("status")))
        kind = CertKind(str(row.payload.get("kind")))
    except ValueError:
        raise Unrenderable("unknown certificate status or kind") from None
    if request_id is None or clinic_id is None:
        raise Unrenderable("certificate request missing")
    head = _("Certificate request № {number} ({kind})").format(
        number=certificate_number(clinic_id, request_id), kind=esc(kind_name(kind, locale))
    )
    if status is CertStatus.IN_REVIEW:
        text, label, action = _("📝 {head}: the clinic has taken it into review."), "", ""
    elif status is CertStatus.MORE_INFO:
        text = _("❓ {head}: the clinic needs more information. Open the request to answer.")
        label, action = _("Open the certificate request"), "show"
    elif status is CertStatus.READY:
        text = _(
            "✅ {head}: the certificate is ready. It stays in «Documents» → «My certificates»."
        )
        label, action = _("⬇️ Download PDF"), "pdf"
    elif status is CertStatus.REFUSED:
        text = _("❌ {head}: the clinic has refused it. Open the request to see the reason.")
        label, action = _("Open the certificate request"), "show"
    else:
        raise Unrenderable(f"no notice for status {status}")
    markup = None
    if action:
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=label,
                        callback_data=CertAct(action=action, request_id=request_id).pack(),
                    )
                ]
            ]
        )
    return Rendered(text.format(head=head), markup)
