"""Issue 8.5: README's settings tables and bot/settings.py name the same settings.

README documented settings nothing read (``ZAPIS_LIMITS__MAX_RELATIVES``,
``ZAPIS_LIMITS__DOCUMENT_MAX_BYTES``, now carried into domain.policy.Policy by
bot/policy.py) and read settings it did not document (the no-show rule). A row
naming a setting that is not a field, a field without a row, or a field no module
reads, fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
FULL = re.compile(r"`ZAPIS_([A-Z0-9_]+)`")
CONTINUED = re.compile(r"`__([A-Z0-9_]+)`")
NOT_SETTINGS = {"TEST_PG_URL", "TEST_REDIS_URL"}  # read by the tests, not by the bot


def documented() -> set[str]:
    names: set[str] = set()
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        if not line.startswith("| `ZAPIS_"):
            continue
        first = line.split("|")[1]
        full = FULL.findall(first)
        names.update(full)
        group = full[0].split("__")[0]
        names.update(f"{group}__{tail}" for tail in CONTINUED.findall(first))
    return names - NOT_SETTINGS


def fields(model: type[BaseModel], prefix: str = "") -> set[str]:
    names: set[str] = set()
    for name, info in model.model_fields.items():
        kind = info.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel) and prefix == "":
            names |= fields(kind, f"{name.upper()}__")
        else:
            names.add(prefix + name.upper())
    return names


def test_every_documented_setting_is_a_field_and_every_field_is_documented() -> None:
    doc, code = documented(), fields(Settings)
    assert doc - code == set(), "documented in README, not a setting"
    assert code - doc == set(), "a setting README does not document"


def test_every_setting_is_read_by_the_code() -> None:
    """Each field's name is read (``.name``) somewhere besides bot/settings.py itself."""
    sources = [
        path.read_text(encoding="utf-8")
        for package in ("bot", "flows", "domain", "storage", "emulator")
        for path in (ROOT / package).rglob("*.py")
        if path != ROOT / "bot" / "settings.py"
    ]
    unread = []
    for name in fields(Settings):
        leaf = name.split("__")[-1].lower()
        if not any(re.search(rf"\.{leaf}\b", text) for text in sources):
            unread.append(name)
    assert unread == [], "settings nothing reads (read them or drop them from README)"
