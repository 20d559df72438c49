"""Finding what a user sees in a chat: the newest messages, keyboards and buttons."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from emulator import markup as mk
from emulator.core import Chat, EmulatorCore
from emulator.store import StoredMessage

# (message or None for the reply keyboard, button, is_inline)
Found = tuple[StoredMessage | None, dict[str, Any], bool]


class Lookup:
    def __init__(self, core: EmulatorCore) -> None:
        self.core = core

    def _out_newest_first(self, chat: Chat) -> Iterator[StoredMessage]:
        for stored in sorted(chat.messages.values(), key=lambda m: m.seq, reverse=True):
            if stored.out:
                yield stored

    def newest_out(self, user_id: int) -> StoredMessage | None:
        chat = self.core.chats.get(user_id)
        if chat is None:
            return None
        return next(iter(self._out_newest_first(chat)), None)

    def newest_inline(self, chat: Chat) -> StoredMessage | None:
        for stored in self._out_newest_first(chat):
            if mk.inline_rows(stored.markup):
                return stored
        return None

    def newest_file(self, user_id: int) -> tuple[str, bytes] | None:
        chat = self.core.chats.get(user_id)
        if chat is None:
            return None
        for stored in self._out_newest_first(chat):
            item = stored.message.get("document") or stored.message.get("photo")
            if item:
                item = item[-1] if isinstance(item, list) else item
                known = self.core.files.get(str(item["file_id"]))
                if known is not None:
                    return known.filename, known.data
        return None

    def _keyboards(
        self, chat: Chat
    ) -> Iterator[tuple[StoredMessage | None, list[list[dict[str, Any]]], bool]]:
        """Inline keyboards of bot messages and the current reply keyboard, newest first."""
        reply_pending = chat.reply_keyboard is not None
        for stored in self._out_newest_first(chat):
            if reply_pending and stored.seq <= chat.reply_keyboard_seq:
                reply_pending = False
                yield None, mk.reply_rows(chat.reply_keyboard), False
            rows = mk.inline_rows(stored.markup)
            if rows:
                yield stored, rows, True
        if reply_pending:
            yield None, mk.reply_rows(chat.reply_keyboard), False

    def button(self, chat: Chat, kind: str, label: str, number: int) -> Found | str:
        """The button a ``[...]`` line means, or why there is none."""
        newest: list[list[dict[str, Any]]] | None = None
        for stored, rows, inline in self._keyboards(chat):
            newest = newest if newest is not None else rows
            flat = [b for row in rows for b in row]
            if kind == "press_index":
                if 1 <= number <= len(flat):
                    return stored, flat[number - 1], inline
                return f"the newest keyboard has {len(flat)} buttons, no #{number}"
            for button in flat:
                text = str(button.get("text", ""))
                if (kind == "press" and text == label) or (kind == "press_part" and label in text):
                    return stored, button, inline
        shown = f"[~{label}]" if kind == "press_part" else f"[{label}]"
        if newest is None:
            return f"no such button {shown}: @{chat.chat_id} has no buttons"
        labels = " ".join(f"[{b.get('text')}]" for row in newest for b in row)
        return f"no such button {shown}; the newest buttons are {labels}"


class WorldView:
    """What a test reads off a console world (mixed into ConsoleWorld): the chat's newest
    message, its buttons, the reply keyboard, the newest file. ``user_id`` may be any chat
    id (a group's too); the default is the current user's private chat."""

    find: Lookup
    user_id: int

    def last_text(self, user_id: int | None = None) -> str:
        """The newest bot message (text or caption) in that user's chat; "" if none."""
        stored = self.find.newest_out(user_id or self.user_id)
        if stored is None:
            return ""
        return str(stored.message.get("text") or stored.message.get("caption") or "")

    def buttons(self, user_id: int | None = None) -> list[list[tuple[str, str | None]]]:
        """Inline buttons of the newest bot message: rows of (label, callback_data)."""
        stored = self.find.newest_out(user_id or self.user_id)
        rows = mk.inline_rows(stored.markup if stored else None)
        return [[(str(b["text"]), b.get("callback_data")) for b in row] for row in rows]

    def reply_keyboard(self, user_id: int | None = None) -> list[list[str]]:
        """Labels of the chat's current reply keyboard (empty when none or removed)."""
        chat = self.find.core.chats.get(user_id or self.user_id)
        rows = mk.reply_rows(chat.reply_keyboard if chat else None)
        return [[str(b["text"]) for b in row] for row in rows]

    def last_file(self, user_id: int | None = None) -> tuple[str, bytes] | None:
        """(filename, bytes) of the newest document or photo the bot sent to that user."""
        return self.find.newest_file(user_id or self.user_id)
