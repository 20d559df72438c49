"""Every message id the code uses has a real ru and en translation (not missing, empty or fuzzy),
and every entry of ru and en is one the code uses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[2]


def test_every_message_id_is_translated_in_both_languages(tmp_path: Path) -> None:
    """The same check as ``python scripts/i18n.py check``: extract, then compare with ru and en."""
    pot = tmp_path / "messages.pot"
    done = subprocess.run(
        [sys.executable, "scripts/i18n.py", "check", str(pot)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    with pot.open("rb") as fh:
        assert len([m for m in read_po(fh) if m.id]) > 100, "extraction found too few messages"


def test_a_message_id_written_twice_is_found() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from i18n import repeated_ids
    finally:
        sys.path.pop(0)
    po = 'msgid "Open"\nmsgstr "Открыть"\n\nmsgid ""\n"Op"\n"en"\nmsgstr "Открыть снова"\n'
    assert repeated_ids(po) == ["Open"]
    assert repeated_ids('msgid "A"\nmsgstr "А"\n\nmsgid "B"\nmsgstr "Б"\n') == []


def _script() -> ModuleType:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import i18n
    finally:
        sys.path.pop(0)
    return i18n


def _catalog(locale: str | None, translated: bool) -> Catalog:
    """The sources' messages: one plain, one plural, one with a context."""
    catalog = Catalog(locale=locale)
    catalog.add("Open", "Открыть" if translated else "")
    catalog.add(
        ("in {n} day", "in {n} days"),
        ("через {n} день", "через {n} дня", "через {n} дней") if translated else ("", ""),
    )
    catalog.add("May", "Май" if translated else "", context="month")
    return catalog


def test_an_entry_no_source_uses_is_found() -> None:
    """A reworded message leaves its old wording behind in ru and en: found by its msgid,
    a plural entry by its singular id, an entry with a context by both."""
    unused_ids = _script().unused_ids
    template = _catalog(None, translated=False)
    ru = _catalog("ru", translated=True)
    assert unused_ids(template, ru) == []
    ru.add("in {days} d", "через {days} сут.")
    ru.add(("in {n} hour", "in {n} hours"), ("через {n} час", "через {n} часа", "через {n} часов"))
    ru.add("May", "может", context="verb")
    assert unused_ids(template, ru) == ["in {days} d", "in {n} hour", "May"]


def test_the_check_fails_on_an_unused_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``scripts/i18n.py check`` reports the unused entry (in that language only) and fails."""
    i18n = _script()
    pot = tmp_path / "messages.pot"
    with pot.open("wb") as fh:
        write_po(fh, _catalog(None, translated=False))
    for lang in i18n.LANGS:
        catalog = _catalog(lang, translated=True)
        if lang == "en":
            catalog.add("in {days} d", "in {days} d")
        (tmp_path / lang).mkdir()
        with (tmp_path / lang / "messages.po").open("wb") as fh:
            write_po(fh, catalog)
    monkeypatch.setattr(i18n, "po_path", lambda lang: tmp_path / lang / "messages.po")
    assert i18n.check(pot) == 1
    assert capsys.readouterr().out.splitlines() == [
        "en: message id no source file uses: 'in {days} d'"
    ]


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
