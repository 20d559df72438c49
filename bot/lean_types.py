"""aiogram's Telegram types get their pydantic schemas on first use, not all at import.

``import aiogram`` ends with ``model_rebuild()`` of every one of its ~300 Telegram
types, so pydantic builds a validator and a serializer for each — nested types
copied into each parent's schema — ~156 MiB of one bot process's resident memory
(measured: 166 MiB after ``import aiogram`` against 10 MiB before), most of it for
types the bot never receives or sends (giveaways, business accounts, stickers, …).

The types are declared ``defer_build=True``: pydantic builds a type's schema the
first time it validates or serializes one, which is all the bot needs. The rebuild
loop is there only to resolve the types' forward references ("Message" inside
"Update") with aiogram's namespace; here that namespace goes into the types'
modules instead (names they only imported for type checking), so the first use
resolves the same references, and the loop's ``model_rebuild`` is skipped. Every
type then validates exactly as before; the first update of a kind costs ~0.1 s more
(the Update schema is built then), the process ~100 MiB less.

Installed by ``bot/__init__.py`` (before anything of the bot imports aiogram); a
process that imported aiogram first (the test suite through ``flows``) keeps
aiogram's eager build: nothing changes for it.
"""

from __future__ import annotations

import sys
from typing import Any


def install() -> bool:
    """Import aiogram with its types' schemas deferred; False when it was too late."""
    if "aiogram.types" in sys.modules:
        return False
    from pydantic import BaseModel

    original = BaseModel.__dict__["model_rebuild"]  # the classmethod object itself

    def model_rebuild(
        cls: type[BaseModel],
        *,
        force: bool = False,
        raise_errors: bool = True,
        _parent_namespace_depth: int = 2,
        _types_namespace: Any = None,
    ) -> bool | None:
        deferred = cls.model_config.get("defer_build") and cls.__module__.startswith("aiogram.")
        if _types_namespace is not None and deferred and not force:
            module = sys.modules[cls.__module__].__dict__
            for name, value in _types_namespace.items():
                module.setdefault(name, value)
            return None
        rebuilt: bool | None = original.__func__(
            cls,
            force=force,
            raise_errors=raise_errors,
            _parent_namespace_depth=_parent_namespace_depth + 1,
            _types_namespace=_types_namespace,
        )
        return rebuilt

    BaseModel.model_rebuild = classmethod(model_rebuild)  # type: ignore[assignment,method-assign]
    try:
        import aiogram.types  # noqa: F401  (the import that runs the rebuild loop)
    finally:
        BaseModel.model_rebuild = original  # type: ignore[method-assign]
    return True
