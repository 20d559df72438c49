"""The bot: runtime and wiring (docs/architecture.md)."""

from bot.lean_types import install as _lean_types

_lean_types()  # before anything imports aiogram: its types' schemas built on first use
