"""Locale choice for each update: the profile's language, then Telegram's, then Russian."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject
from aiogram.types import User as TgUser
from aiogram.utils.i18n import I18n, I18nMiddleware

from domain.models import User

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
SUPPORTED = ("ru", "en")


def build_i18n(default_locale: str = "ru") -> I18n:
    return I18n(path=LOCALES_DIR, default_locale=default_locale, domain="messages")


def telegram_locale(tg_user: TgUser | None) -> str | None:
    code = (tg_user.language_code or "") if tg_user else ""
    return "en" if code.startswith("en") else ("ru" if code.startswith("ru") else None)


class ZapisI18nMiddleware(I18nMiddleware):
    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user: User | None = data.get("user")
        if user is not None and user.locale in SUPPORTED:
            return user.locale
        return telegram_locale(data.get("event_from_user")) or self.i18n.default_locale
