"""Every message id the code uses has a real ru and en translation (not missing, empty or fuzzy)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def _extract(tmp_path: Path) -> Path:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_",
            "-k",
            "__",
            "-k",
            "lazy_gettext",
            "--no-location",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return pot


def test_every_message_id_is_translated_in_both_languages(tmp_path: Path) -> None:
    with _extract(tmp_path).open("rb") as fh:
        template = read_po(fh)
    ids = [m.id for m in template if m.id]
    assert len(ids) > 10, "extraction found suspiciously few messages"
    problems = []
    for lang in ("ru", "en"):
        with (ROOT / "locales" / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        for msgid in ids:
            found = catalog.get(msgid)
            strings = found.string if found is not None else ""
            if isinstance(strings, tuple):
                strings = "" if not all(strings) else strings[0]
            if found is None or not strings:
                problems.append(f"{lang}: no translation for {msgid!r}")
            elif found.fuzzy:
                problems.append(f"{lang}: fuzzy translation for {msgid!r}")
    assert problems == []


def test_russian_catalogue_really_is_russian() -> None:
    with (ROOT / "locales" / "ru" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="ru")
    main_menu = catalog.get("Book a doctor")
    assert main_menu is not None and main_menu.string == "Записаться к врачу"


def test_plurals_follow_russian_rules() -> None:
    from aiogram.utils.i18n import ngettext

    from bot.i18n import build_i18n

    i18n = build_i18n()
    expected = {
        1: "стаж 1 год",
        3: "стаж 3 года",
        11: "стаж 11 лет",
        21: "стаж 21 год",
        25: "стаж 25 лет",
    }
    with i18n.context(), i18n.use_locale("ru"):
        for years, text in expected.items():
            got = ngettext("{years} year of experience", "{years} years of experience", years)
            assert got.format(years=years) == text
    with i18n.context(), i18n.use_locale("en"):
        assert (
            ngettext("{years} year of experience", "{years} years of experience", 1).format(years=1)
            == "1 year of experience"
        )
