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

aiogram's Bot API methods (``SendMessage`` …, ~190 pydantic models) are built at class
creation instead: they are declared ``defer_build=True`` too while aiogram imports, so
a process builds only the few it sends (another ~30 MiB: bench/README-moscow.md).

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

    # aiogram's methods (SendMessage, …: ~190 classes) are pydantic models too, built at
    # class creation (not by the loop): deferred the same way, ~30 MiB. The flag goes in as
    # a class keyword (pydantic merges it into the class's config) while aiogram imports.
    metaclass = type(BaseModel)
    create = metaclass.__dict__["__new__"]

    def new(
        mcs: type, name: str, bases: tuple[type, ...], ns: dict[str, Any], *a: Any, **kw: Any
    ) -> Any:
        if str(ns.get("__module__", "")).startswith("aiogram.methods."):
            kw.setdefault("defer_build", True)
        return create(mcs, name, bases, ns, *a, **kw)

    BaseModel.model_rebuild = classmethod(model_rebuild)  # type: ignore[assignment,method-assign]
    metaclass.__new__ = new  # type: ignore[assignment,method-assign]
    try:
        import aiogram.types  # the import that runs the rebuild loop
    except Exception:  # an aiogram or pydantic this was not written for: aiogram's own way
        BaseModel.model_rebuild = original  # type: ignore[method-assign]
        metaclass.__new__ = create  # type: ignore[method-assign]
        for name in [m for m in sys.modules if m == "aiogram" or m.startswith("aiogram.")]:
            del sys.modules[name]
        import aiogram.types  # noqa: F401

        return False
    finally:
        BaseModel.model_rebuild = original  # type: ignore[method-assign]
        metaclass.__new__ = create  # type: ignore[method-assign]
    return True


def flat_post_init() -> int:
    """One ``model_post_init`` per aiogram object instead of one per class level.

    pydantic wraps an inherited ``model_post_init`` again in every subclass of a
    model with private attributes, so building an ``InlineKeyboardButton`` (three
    levels under aiogram's BotContextController) ran the private-attribute set-up
    four times and the base's ``_bot`` assignment three times: ~6 % of a booking
    update's CPU (every button, markup, method and received object). For each class
    whose only private attribute is ``_bot`` (no default), the wrapper chain is
    replaced by what it amounts to: an empty private dict, then the base's hook.
    pydantic-core calls ``model_post_init`` by name, so the class attribute is what
    runs. Returns how many classes were changed; idempotent.
    """
    from aiogram.client.context_controller import BotContextController
    from pydantic_core import PydanticUndefined

    base = BotContextController.__dict__["model_post_init"]
    private = BotContextController.__private_attributes__
    if set(private) != {"_bot"} or private["_bot"].get_default() is not PydanticUndefined:
        return 0  # an aiogram this was not written for: leave pydantic's chain

    def model_post_init(self: BotContextController, context: Any, /) -> None:
        if getattr(self, "__pydantic_private__", None) is None:
            object.__setattr__(self, "__pydantic_private__", {})
        base(self, context)

    changed = 0
    pending = list(BotContextController.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        hook = cls.__dict__.get("model_post_init")
        if hook is None or hook is model_post_init or set(cls.__private_attributes__) != {"_bot"}:
            continue
        if getattr(hook, "__wrapped__", None) is None:
            continue  # a class's own hook (none in aiogram today): keep it
        cls.model_post_init = model_post_init  # type: ignore[method-assign,assignment]
        changed += 1
    return changed


def lean_middleware_chain() -> bool:
    """aiogram's middleware chain built without ``functools.wraps`` per call.

    ``MiddlewareManager.wrap_middlewares`` runs ~9 times per update (each router's
    outer chain, each handler's inner chain) and copied the handler's name, doc,
    module, qualname and ``__dict__`` onto a fresh wrapper each time — a wrapper
    nothing reads. The chain itself is aiogram's: the handler called with the data
    as keyword arguments, each middleware a ``partial`` over the next, in order.
    Returns whether it was installed (only over the aiogram code it was written for).
    """
    import functools
    import inspect

    from aiogram.dispatcher.middlewares.manager import MiddlewareManager

    current = inspect.getattr_static(MiddlewareManager, "wrap_middlewares")
    original = getattr(current, "__func__", current)
    if getattr(original, "zapis_lean", False):
        return True
    source = inspect.getsource(original)
    if "functools.wraps(handler)" not in source or "functools.partial(m, middleware)" not in source:
        return False  # another aiogram: keep its own

    def wrap_middlewares(middlewares: Any, handler: Any) -> Any:
        def handler_wrapper(event: Any, kwargs: dict[str, Any]) -> Any:
            return handler(event, **kwargs)

        if middlewares.__class__ is MiddlewareManager:
            # Its own list: ``reversed`` of the Sequence goes through __len__ and
            # __getitem__ per item (collections.abc), ~12 times an update.
            middlewares = middlewares._middlewares
        middleware: Any = handler_wrapper
        for m in reversed(middlewares):
            middleware = functools.partial(m, middleware)
        return middleware

    wrap_middlewares.zapis_lean = True  # type: ignore[attr-defined]
    if not isinstance(getattr(MiddlewareManager(), "_middlewares", None), list):
        return False  # another aiogram: keep its own
    MiddlewareManager.wrap_middlewares = staticmethod(wrap_middlewares)  # type: ignore[method-assign]
    return True


# What nearly every update of a run mode validates or sends: built at start-up (live.py),
# so the first users' updates do not pay the deferred builds (up to ~30 ms each, once).
HOT_MODELS = (
    "Update",
    "Message",
    "CallbackQuery",
    "SendMessage",
    "EditMessageText",
    "AnswerCallbackQuery",
    "SendDocument",
)


def warm_up() -> list[str]:
    """Complete the hot models' deferred schemas now; the names built (not built before)."""
    import aiogram.methods
    import aiogram.types

    built = []
    for name in HOT_MODELS:
        model = getattr(aiogram.types, name, None) or getattr(aiogram.methods, name)
        if not model.__pydantic_complete__:
            model.model_rebuild(force=True)
            built.append(name)
    return built
