"""A tiny in-process Bot API session for tests that only need to see what the bot sent.

The full emulator (emulator) enforces Telegram's rules; these tests check
transport and error handling, so recording the calls and returning plausible
results is enough.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.types import Chat, Message, User

BOT_USER = User(id=4242, is_bot=True, first_name="Zapis", username="zapis_test_bot")


class RecordingSession(BaseSession):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[TelegramMethod[Any]] = []
        self._ids = itertools.count(1000)

    async def make_request(
        self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None
    ) -> Any:
        self.calls.append(method)
        if isinstance(method, GetUpdates):  # long polling: nothing new, after a short wait
            await asyncio.sleep(0.01)
            return []
        returning = method.__returning__
        if returning is Message:
            chat_id = getattr(method, "chat_id", 0)
            return Message(
                message_id=next(self._ids),
                date=datetime.now(UTC),
                chat=Chat(id=int(chat_id), type="private"),
                from_user=BOT_USER,
                text=getattr(method, "text", None),
            )
        if returning is User:
            return BOT_USER
        if returning is bool:
            return True
        return None

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        yield b""

    async def close(self) -> None:
        return None

    def texts(self) -> list[str]:
        """Texts of sent messages and callback answers, in order."""
        out: list[str] = []
        for call in self.calls:
            text = getattr(call, "text", None)
            if isinstance(text, str):
                out.append(text)
        return out


def make_bot(session: RecordingSession) -> Bot:
    return Bot("42:TEST", session=session)


_update_ids = itertools.count(1)


def message_update(
    user_id: int, text: str, *, lang: str = "ru", chat_id: int | None = None
) -> dict[str, Any]:
    chat = chat_id if chat_id is not None else user_id
    return {
        "update_id": next(_update_ids),
        "message": {
            "message_id": next(_update_ids),
            "date": 1_800_000_000,
            "chat": {"id": chat, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Test", "language_code": lang},
            "text": text,
            **(
                {"entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]}
                if text.startswith("/")
                else {}
            ),
        },
    }


def callback_update(user_id: int, data: str, *, lang: str = "ru") -> dict[str, Any]:
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": str(next(_update_ids)),
            "chat_instance": "ci",
            "from": {"id": user_id, "is_bot": False, "first_name": "Test", "language_code": lang},
            "data": data,
            "message": {
                "message_id": 7,
                "date": 1_800_000_000,
                "chat": {"id": user_id, "type": "private"},
                "from": BOT_USER.model_dump(by_alias=True, exclude_none=True),
                "text": "old menu",
            },
        },
    }
