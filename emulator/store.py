"""Where the emulator keeps chat history between runs (a Protocol; SQL: emulator/persistence.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class StoredMessage:
    """A message of a chat as the emulator knows it.

    ``message`` is the Telegram Message object as JSON (what the Bot API
    returns; reply keyboards are not part of it), ``markup`` the full
    reply_markup that was sent (inline or reply keyboard), ``out`` whether
    the bot sent it.
    """

    message: dict[str, Any]
    markup: dict[str, Any] | None = None
    out: bool = True
    removed_keyboard: bool = False
    seq: int = 0  # recency in this process: sent or edited later = larger (not stored)

    def to_payload(self) -> dict[str, Any]:
        return {"message": self.message, "markup": self.markup, "out": self.out}

    @classmethod
    def from_payload(cls, payload: dict[str, Any], removed: bool) -> StoredMessage:
        return cls(payload["message"], payload.get("markup"), bool(payload.get("out")), removed)


def group_state(messages: Iterable[StoredMessage], bot_id: int) -> tuple[str, str, bool] | None:
    """(type, title, bot is a member) of a group chat from its stored history; None if empty.

    Membership survives a restart through the service messages Telegram puts
    in a group's history when the bot joins (``new_chat_members``) or leaves
    (``left_chat_member``); the newest one decides.
    """
    ordered = sorted(messages, key=lambda m: int(m.message["message_id"]))
    if not ordered:
        return None
    chat = ordered[-1].message["chat"]
    member = True
    for stored in ordered:
        joined = stored.message.get("new_chat_members") or []
        if any(user.get("id") == bot_id for user in joined):
            member = True
        if (stored.message.get("left_chat_member") or {}).get("id") == bot_id:
            member = False
    return str(chat["type"]), str(chat.get("title") or ""), member


@dataclass
class PendingOps:
    """Writes buffered until the update is handled (see EmulatorCore.flush)."""

    upserts: dict[tuple[int, int], StoredMessage] = field(default_factory=dict)
    deletes: set[tuple[int, int]] = field(default_factory=set)
    keyboards_removed: set[int] = field(default_factory=set)


class HistoryStore(Protocol):
    async def load_chat(self, chat_id: int) -> list[tuple[int, StoredMessage]]: ...

    async def apply(self, ops: PendingOps) -> None: ...
