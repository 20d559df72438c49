"""The bot: runtime and wiring (docs/architecture.md)."""

from bot.lean_types import flat_post_init as _flat_post_init
from bot.lean_types import install as _lean_types
from bot.lean_types import lean_middleware_chain as _lean_middleware_chain

_lean_types()  # before anything imports aiogram: its types' schemas built on first use
_flat_post_init()  # one post-init hook per aiogram object, not one per class level
_lean_middleware_chain()  # aiogram's middleware chain without functools.wraps per call
