"""Our directory's Russian phrases in the reader's language: working hours, qualifications.

The directory keeps clinic hours («Пн–Пт 08:00–20:00») and doctors'
qualifications («врач второй категории») in Russian only (specialties and
regions have ``name_en`` columns; these have none), so English screens showed
them in Russian. The phrases are a small closed set — weekday abbreviations
and the qualification categories — so they are translated here, through the
catalogue, when shown. Anything else (a clinic's own wording from an import)
is shown as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flows.ui.i18n import gettext as _

WEEKDAYS: dict[str, Callable[[], str]] = {
    "Пн": lambda: _("Mon"),
    "Вт": lambda: _("Tue"),
    "Ср": lambda: _("Wed"),
    "Чт": lambda: _("Thu"),
    "Пт": lambda: _("Fri"),
    "Сб": lambda: _("Sat"),
    "Вс": lambda: _("Sun"),
}
QUALIFICATIONS: dict[str, Callable[[], str]] = {
    "врач высшей категории": lambda: _("highest category doctor"),
    "врач первой категории": lambda: _("first category doctor"),
    "врач второй категории": lambda: _("second category doctor"),
    "врач без категории": lambda: _("doctor without a category"),
    "кандидат медицинских наук": lambda: _("Candidate of Medical Sciences"),
    "доктор медицинских наук": lambda: _("Doctor of Medical Sciences"),
    "профессор": lambda: _("professor"),
}
_WEEKDAY = re.compile(r"\b(" + "|".join(WEEKDAYS) + r")\b")


def hours_text(hours: str) -> str:
    """«Пн–Пт 08:00–20:00, Сб 09:00–15:00» → «Mon–Fri 08:00–20:00, Sat 09:00–15:00» in English."""
    return _WEEKDAY.sub(lambda m: WEEKDAYS[m.group(1)](), hours)


def qualification_text(qualification: str) -> str:
    """Each known comma-separated part translated, unknown parts kept as written."""
    parts = [part.strip() for part in qualification.split(",")]
    known = QUALIFICATIONS
    return ", ".join(known[p.lower()]() if p.lower() in known else p for p in parts)
