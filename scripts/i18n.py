"""The pybabel workflow in one script: extract, update, compile, check.

python scripts/i18n.py extract   # sources -> locales/messages.pot
python scripts/i18n.py update    # messages.pot -> ru/en messages.po (new ids appear untranslated)
python scripts/i18n.py compile   # messages.po -> messages.mo (what the bot loads)
python scripts/i18n.py check     # fails on a missing, empty, fuzzy, repeated or unused entry

An unused entry is a msgid of locales/*/messages.po that no source file uses
(extracted with KEYWORDS from the files babel.cfg names): dead text that looks
alive, and a reworded message whose old wording stays behind. A msgid built in
code is marked where it is written (``N_("…")``), so extraction finds it too.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
LANGS = ("ru", "en")
KEYWORDS = ["-k", "_", "-k", "__", "-k", "lazy_gettext", "-k", "N_", "-k", "gettext"]


def pybabel(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "-q", *args], check=True, cwd=ROOT
    )


def po_path(lang: str) -> Path:
    return LOCALES / lang / "LC_MESSAGES" / "messages.po"


POT = LOCALES / "messages.pot"


def extract(pot: Path = POT) -> None:
    pybabel("extract", "-F", "babel.cfg", *KEYWORDS, "--no-location", "-o", str(pot), ".")


def update() -> None:
    for lang in LANGS:
        pybabel(
            "update",
            "-i",
            "locales/messages.pot",
            "-d",
            "locales",
            "-D",
            "messages",
            "-l",
            lang,
            "--no-fuzzy-matching",
            "--ignore-obsolete",
            "-w",
            "100",
        )


def compile_() -> None:
    pybabel("compile", "-d", "locales", "-D", "messages", "--statistics")


def repeated_ids(po_text: str) -> list[str]:
    """Message ids written twice in one .po file: the compiled catalogue keeps one of the
    translations silently, so the other is dead text that looks alive."""
    seen: set[str] = set()
    repeated = []
    lines = po_text.splitlines()
    for n, line in enumerate(lines):
        if not line.startswith("msgid "):
            continue
        parts = [line[len("msgid ") :]]
        for more in lines[n + 1 :]:
            if not more.startswith('"'):
                break
            parts.append(more)
        key = "".join(part.strip()[1:-1] for part in parts)
        if key in seen:
            repeated.append(key)
        seen.add(key)
    return repeated


def _key(message_id: str | tuple[str, ...], context: str | None) -> tuple[str | None, str]:
    """A message as the catalogue looks it up: a plural entry by its singular id."""
    return context, message_id if isinstance(message_id, str) else message_id[0]


def unused_ids(template: Catalog, catalog: Catalog) -> list[str]:
    """Message ids of ``catalog`` (a language's .po) that ``template`` (what extraction
    found in the sources) does not have: translations no code can ask for."""
    used = {_key(m.id, m.context) for m in template if m.id}
    return [
        m.id if isinstance(m.id, str) else m.id[0]
        for m in catalog
        if m.id and _key(m.id, m.context) not in used
    ]


def check(pot: Path = POT) -> int:
    """Every message id the code uses has a non-empty, non-fuzzy translation in every
    language, written once; every entry of a language is one the code uses."""
    with pot.open("rb") as fh:
        template = read_po(fh)
    problems = []
    for lang in LANGS:
        for key in repeated_ids(po_path(lang).read_text(encoding="utf-8")):
            problems.append(f"{lang}: message id written twice: {key!r}")
        with po_path(lang).open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        for message in template:
            if not message.id:
                continue
            found = catalog.get(message.id, message.context)
            if (
                found is None
                or not found.string
                or (isinstance(found.string, tuple) and not all(found.string))
            ):
                problems.append(f"{lang}: missing translation for {message.id!r}")
            elif found.fuzzy:
                problems.append(f"{lang}: fuzzy translation for {message.id!r}")
        for key in unused_ids(template, catalog):
            problems.append(f"{lang}: message id no source file uses: {key!r}")
    for line in problems:
        print(line)
    return 1 if problems else 0


def main() -> int:
    command = sys.argv[1] if len(sys.argv) > 1 else "compile"
    if command == "extract":
        extract()
    elif command == "update":
        extract()
        update()
    elif command == "compile":
        compile_()
    elif command == "check":
        pot = Path(sys.argv[2]) if len(sys.argv) > 2 else POT
        extract(pot)
        return check(pot)
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
