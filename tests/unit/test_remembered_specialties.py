"""The specialties' page (flows/booking_views.py ``_specialty_rows``) is remembered per
(specialties, page, locale): what comes back is the page built afresh for exactly those."""

from __future__ import annotations

from pathlib import Path

from aiogram.utils.i18n import I18n

from domain.models import Specialty
from flows.booking_views import REFERRAL_MARK, _specialty_rows

LOCALES = Path(__file__).resolve().parents[2] / "locales"


def _spec(n: int, ru: str, en: str, referral: bool = False) -> Specialty:
    return Specialty(n, f"s{n}", ru, en, referral, None, None, None, "", "")


def _texts(rows: object) -> list[list[tuple[str, str]]]:
    return [[(b.text, str(b.callback_data)) for b in row] for row in rows]  # type: ignore[attr-defined]


def test_each_page_locale_and_list_gets_its_own_buttons() -> None:
    specs = tuple(_spec(n, f"Врач {n:02d}", f"Doctor {20 - n:02d}", n == 3) for n in range(1, 11))
    i18n = I18n(path=LOCALES, default_locale="ru", domain="messages")
    with i18n.context():
        for loc in ("ru", "en", "ru"):
            with i18n.use_locale(loc):
                first = _texts(_specialty_rows(specs, 0, loc))
                fresh = _texts(_specialty_rows.__wrapped__(specs, 0, loc))
                assert first == fresh
                assert len(first) == 9 and first[-1][-1] == ("›", "bsp:1")  # 8 a page
                names = [t for row in first[:-1] for t, _d in row]
                if loc == "ru":
                    assert names[0] == "Врач 01" and f"Врач 03 {REFERRAL_MARK}" not in names
                else:
                    assert names[0] == "Doctor 10"  # by the English name
                second = _texts(_specialty_rows(specs, 1, loc))
                assert second == _texts(_specialty_rows.__wrapped__(specs, 1, loc))
                assert any(REFERRAL_MARK in t for row in second for t, _d in row)
        # another list (a renamed specialty) is another page
        renamed = (_spec(1, "Терапевт", "Therapist"), *specs[1:])
        with i18n.use_locale("ru"):
            assert _texts(_specialty_rows(renamed, 0, "ru"))[0][0] == ("Врач 02", "bs:2")
            page2 = [b for row in _texts(_specialty_rows(renamed, 1, "ru")) for b in row]
            assert page2[0] == ("Терапевт", "bs:1")  # «Т» after every «Врач»
