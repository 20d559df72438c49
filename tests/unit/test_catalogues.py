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
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "_", "-k", "__", "-k", "lazy_gettext", "--no-location", "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
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
            if found is None or not found.string:
                problems.append(f"{lang}: no translation for {msgid!r}")
            elif found.fuzzy:
                problems.append(f"{lang}: fuzzy translation for {msgid!r}")
    assert problems == []


def test_russian_catalogue_really_is_russian() -> None:
    with (ROOT / "locales" / "ru" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="ru")
    main_menu = catalog.get("Book a doctor")
    assert main_menu is not None and main_menu.string == "Записаться к врачу"
