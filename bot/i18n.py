"""Locale choice for each update: the profile's language, then Telegram's, then Russian."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject
from aiogram.types import User as TgUser
from aiogram.utils.i18n import I18n, I18nMiddleware

from domain.models import User

# A checkout keeps the catalogues beside the packages (locales/, compiled by
# ./dev.sh); an installed wheel carries them compiled inside the package
# (setup.py compiles them at build time).
SOURCE_LOCALES = Path(__file__).resolve().parent.parent / "locales"
PACKAGED_LOCALES = Path(__file__).resolve().parent / "locales"
_IN_CHECKOUT = (SOURCE_LOCALES / "ru" / "LC_MESSAGES" / "messages.po").is_file()
LOCALES_DIR = SOURCE_LOCALES if _IN_CHECKOUT else PACKAGED_LOCALES
SUPPORTED = ("ru", "en")
log = logging.getLogger("zapis.i18n")


def compiled_catalogues(path: Path, domain: str = "messages") -> Path:
    """``path`` with every <lang>/LC_MESSAGES/messages.po compiled beside it; compiles the
    missing ones now (one warning), into a temporary folder when ``path`` is read-only.

    aiogram stops with "Found locale 'en' but this language is not compiled!"
    when a .po has no .mo: a fresh clone started without ./dev.sh, or
    `pip install .` then `python -m bot` run from the clone (which imports the
    clone). An installed wheel has them compiled already (setup.py).
    """
    sources = sorted(path.glob(f"*/LC_MESSAGES/{domain}.po"))
    missing = [po for po in sources if not po.with_suffix(".mo").exists()]
    if not missing:
        return path
    target = path
    try:
        for po in missing:
            _compile(po, po.with_suffix(".mo"))
    except OSError:
        target = Path(tempfile.mkdtemp(prefix="zapis-locales-"))
        for po in sources:
            _compile(po, target / po.relative_to(path).with_suffix(".mo"))
    log.warning(
        "message catalogues were not compiled: compiled %s into %s "
        "(python scripts/i18n.py compile does this ahead of time)",
        ", ".join(po.parent.parent.name for po in missing),
        target,
    )
    return target


def _compile(po: Path, mo: Path) -> None:
    """What `pybabel compile` does (fuzzy entries left out); the file appears whole or not."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as fh:
        catalog = read_po(fh, locale=po.parent.parent.name)
    mo.parent.mkdir(parents=True, exist_ok=True)
    partial = mo.with_name(f".{mo.name}.{os.getpid()}")
    with partial.open("wb") as fh:
        write_mo(fh, catalog)
    os.replace(partial, mo)


def build_i18n(default_locale: str = "ru", path: Path = LOCALES_DIR) -> I18n:
    return I18n(path=compiled_catalogues(path), default_locale=default_locale, domain="messages")


def telegram_locale(tg_user: TgUser | None) -> str | None:
    code = (tg_user.language_code or "") if tg_user else ""
    return "en" if code.startswith("en") else ("ru" if code.startswith("ru") else None)


class ZapisI18nMiddleware(I18nMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        """aiogram's ``I18nMiddleware.__call__`` with its two context managers
        (``i18n.context()``, ``i18n.use_locale(...)``, generator-based: ~3 µs an update)
        written as the context variables they set and reset, in the same order."""
        i18n = self.i18n
        locale = await self.get_locale(event=event, data=data) or i18n.default_locale
        if self.i18n_key:
            data[self.i18n_key] = i18n
        if self.middleware_key:
            data[self.middleware_key] = self
        current = i18n.set_current(i18n)
        try:
            chosen = i18n.ctx_locale.set(locale)
            try:
                return await handler(event, data)
            finally:
                i18n.ctx_locale.reset(chosen)
        finally:
            i18n.reset_current(current)

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user: User | None = data.get("user")
        if user is not None and user.locale in SUPPORTED:
            return user.locale
        return telegram_locale(data.get("event_from_user")) or self.i18n.default_locale
