"""The flows' ``_()``: aiogram's ``gettext`` with its two lookups read directly.

aiogram's ``gettext`` finds the update's I18n through ``I18n.get_current`` (a
class-level context variable behind two calls) and its locale through a property
(another context variable), then asks ``I18n.gettext``: ~1.8 µs a text, and a
booking step says 5–24 texts. This reads the same two context variables and the
same catalogue (~0.5 µs); any other argument, or no I18n in context, goes to
aiogram's own function as before (which raises LookupError without a context).
``ngettext`` and ``current_locale`` read them the same way.
tests/unit/test_flows_gettext.py compares both in every locale.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as aiogram_gettext
from aiogram.utils.i18n import ngettext as aiogram_ngettext


def _current_i18n() -> ContextVar[I18n | None] | None:
    """aiogram's context variable of the current I18n (ContextInstanceMixin's), if this
    aiogram keeps it where it is expected."""
    found = getattr(I18n, "_ContextInstanceMixin__context_instance", None)
    return found if isinstance(found, ContextVar) else None


_CURRENT = _current_i18n()


def gettext(singular: str, *args: Any, **kwargs: Any) -> str:
    """``aiogram.utils.i18n.gettext(singular)`` (any other argument: aiogram's own)."""
    i18n = _CURRENT.get(None) if _CURRENT is not None and not args and not kwargs else None
    if i18n is None:
        return aiogram_gettext(singular, *args, **kwargs)
    translations = i18n.locales.get(i18n.ctx_locale.get())
    if translations is None:
        return singular
    return translations.gettext(singular)


def ngettext(singular: str, plural: str, n: int) -> str:
    """``aiogram.utils.i18n.ngettext(singular, plural, n)``."""
    i18n = _CURRENT.get(None) if _CURRENT is not None else None
    if i18n is None:
        return aiogram_ngettext(singular, plural, n)
    translations = i18n.locales.get(i18n.ctx_locale.get())
    if translations is None:
        return singular if n == 1 else plural or singular
    return translations.ngettext(singular, plural, n)


def current_locale() -> str | None:
    """The update's locale (aiogram's ``get_i18n().current_locale``); None outside one."""
    i18n = _CURRENT.get(None) if _CURRENT is not None else None
    return None if i18n is None else i18n.ctx_locale.get()
