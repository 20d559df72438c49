"""Texts of «История посещений» and its PDF: a visit's line, its details, the PDF rows."""

from __future__ import annotations

from datetime import date

from domain.records import HistoryFilter, HistoryItem, ReferralView, referral_status
from flows.ui.format import current_locale, fmt_when, local, status_label
from flows.ui.i18n import gettext as _


def ref_status_label(status: str) -> str:
    return {
        "active": _("active"),
        "used": _("used"),
        "expired": _("expired"),
    }.get(status, status)


def referral_line(view: ReferralView, today: date) -> str:
    loc = current_locale()
    name = view.specialty_en if loc == "en" else view.specialty_ru
    return _("{specialty}, valid until {until} ({status})").format(
        specialty=name,
        until=view.referral.valid_until.strftime("%d.%m.%Y"),
        status=ref_status_label(referral_status(view.referral, today)),
    )


def item_button(item: HistoryItem, home_tz: str) -> str:
    day = local(item.appointment.start, item.clinic_tz).strftime("%d.%m.%Y")
    surname = item.patient_name.split(" ")[0] if item.patient_name else ""
    return f"{day} · {item.specialty(current_locale())} · {surname}"[:60]


def filter_summary(f: HistoryFilter, names: dict[tuple[str, int], str]) -> str:
    parts = []
    for kind, value in (
        ("patient_id", f.patient_id),
        ("specialty_id", f.specialty_id),
        ("doctor_id", f.doctor_id),
        ("clinic_id", f.clinic_id),
    ):
        if value is not None:
            parts.append(names.get((kind, value), "?"))
    if f.period_days:
        parts.append(period_label(f.period_days))
    if f.only_done:
        parts.append(_("only visits that took place"))
    return _("Filters: {filters}").format(filters=", ".join(parts)) if parts else ""


def period_label(days: int) -> str:
    return {
        30: _("last 30 days"),
        180: _("last 6 months"),
        365: _("last year"),
    }.get(days, _("all time"))


def detail_rows(item: HistoryItem, home_tz: str, today: date) -> list[tuple[str, str]]:
    a = item.appointment
    result = item.result
    rows = [
        (_("Visit"), f"№ {a.number}"),
        (_("Date"), fmt_when(a.start, item.clinic_tz, home_tz)),
        (_("Patient"), item.patient_name),
        (_("Doctor"), f"{item.specialty(current_locale())} — {item.doctor_name}"),
        (_("Clinic"), item.clinic_name),
        (_("Status"), status_label(a)),
        (_("Conclusion"), result.conclusion if result else _("not written yet")),
    ]
    if result is not None:
        rows.append((_("Recommendations"), result.recommendations or "—"))
        rows.append((_("Prescriptions"), result.prescriptions or "—"))
    refs = "; ".join(referral_line(v, today) for v in item.referrals)
    rows.append((_("Referrals"), refs or "—"))
    return rows


# A doctor's conclusion, recommendations and prescriptions take up to 2,000 characters
# each: all three in full would pass Telegram's 4,096 and the message's end (the
# prescriptions, the referrals) was cut off unseen. Each is shortened to this in the
# chat instead, and the PDF has them whole.
CHAT_FIELD_CHARS = 900


def details_text(item: HistoryItem, home_tz: str, today: date) -> str:
    lines = []
    shortened = False
    for label, value in detail_rows(item, home_tz, today):
        if len(value) > CHAT_FIELD_CHARS:
            value = value[: CHAT_FIELD_CHARS - 1].rstrip() + "…"
            shortened = True
        lines.append(f"{label}: {value}")
    if shortened:
        lines += ["", _("Shortened here: the PDF (button below) has the full text.")]
    return "\n".join(lines)
