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
    """Import aiogram with its types' schemas deferred; False when it was too late (or
    when this aiogram/pydantic does not take it: then aiogram is imported as usual)."""
    if "aiogram.types" in sys.modules:
        return False
    from pydantic import BaseModel

    original = BaseModel.__dict__["model_rebuild"]  # the classmethod object itself

    def model_rebuild(cls: type[BaseModel], *args: Any, **kwargs: Any) -> bool | None:
        namespace = kwargs.get("_types_namespace")
        deferred = cls.model_config.get("defer_build") and cls.__module__.startswith("aiogram.")
        if namespace is not None and deferred and not args and not kwargs.get("force"):
            module = sys.modules[cls.__module__].__dict__
            for name, value in namespace.items():
                module.setdefault(name, value)
            return None
        # Anything else as pydantic does it (one frame deeper: this wrapper).
        kwargs["_parent_namespace_depth"] = kwargs.get("_parent_namespace_depth", 2) + 1
        rebuilt: bool | None = original.__func__(cls, *args, **kwargs)
        return rebuilt

    BaseModel.model_rebuild = classmethod(model_rebuild)  # type: ignore[assignment,method-assign]
    try:
        import aiogram.types  # the import that runs the rebuild loop
    except Exception:  # an aiogram or pydantic this was not written for: aiogram's own way
        BaseModel.model_rebuild = original  # type: ignore[method-assign]
        for name in [m for m in sys.modules if m == "aiogram" or m.startswith("aiogram.")]:
            del sys.modules[name]
        import aiogram.types  # noqa: F401

        return False
    finally:
        BaseModel.model_rebuild = original  # type: ignore[method-assign]
    return True
