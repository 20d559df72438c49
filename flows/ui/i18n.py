"""The flows' ``_()``: aiogram's ``gettext`` with its two lookups read directly.

aiogram's ``gettext`` finds the update's I18n through ``I18n.get_current`` (a
class-level context variable behind two calls) and its locale through a property
(another context variable), then asks ``I18n.gettext``: ~1.8 µs a text, and a
booking step says 5–24 texts. This reads the same two context variables and the
same catalogue (~0.5 µs); a plural, or no I18n in context, goes to aiogram's own
function as before (which raises LookupError without a context).
tests/unit/test_flows_gettext.py compares both in every locale.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as aiogram_gettext


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
