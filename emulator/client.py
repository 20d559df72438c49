"""The users' side of the emulated Telegram: what a Telegram app would send to the bot.

It writes the user's own messages into the chat (they take message ids in the
same sequence as the bot's, as in a private chat or a basic group) and builds
the Update JSON the Dispatcher is fed with.
"""

from __future__ import annotations

from typing import Any

from emulator.core import Chat, EmulatorCore
from emulator.groups import add_bot
from emulator.store import StoredMessage


def own_phone(user_id: int) -> str:
    """+7 900 000 NNNN, NNNN being the last four digits of the user id."""
    return f"+7900000{user_id % 10000:04d}"


class SimulatedUsers:
    def __init__(self, core: EmulatorCore, lang: str = "ru", first_update_id: int = 1) -> None:
        self.core = core
        self.lang = lang
        self.next_update_id = first_update_id
        self._query_count = 0

    def user_json(self, user_id: int) -> dict[str, Any]:
        user = self.core.users.get(user_id)
        if user is None:
            user = {
                "id": user_id,
                "is_bot": False,
                "first_name": f"User{user_id}",
                "language_code": self.lang,
            }
            self.core.users[user_id] = user
        return user

    def _update(self, **body: Any) -> dict[str, Any]:
        update = {"update_id": self.next_update_id, **body}
        self.next_update_id += 1
        return update

    async def message(
        self, user_id: int, chat_id: int | None = None, **content: Any
    ) -> dict[str, Any]:
        """Update of a message from the user (text=, contact=, document=, photo=, caption=)
        in their private chat, or in the group ``chat_id`` (in a channel: a channel post)."""
        sender = self.user_json(user_id)
        chat = await self.core.chat(user_id if chat_id is None else chat_id)
        message = self.core.new_message(chat, sender, **content)
        self.core.remember(chat, StoredMessage(message, None, out=False))
        if chat.type == "channel":
            return self._update(channel_post=message)
        return self._update(message=message)

    def bot_added(self, user_id: int, chat: Chat) -> dict[str, Any]:
        """The user adds the bot to a group: the ``my_chat_member`` update Telegram sends."""
        return self._update(my_chat_member=add_bot(self.core, chat, self.user_json(user_id)))

    async def contact(
        self,
        user_id: int,
        phone: str | None = None,
        contact_user_id: int | None = None,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        sender = self.user_json(user_id)
        own = phone is None
        contact: dict[str, Any] = {
            "phone_number": own_phone(user_id) if own else phone,
            "first_name": sender["first_name"] if own else "Contact",
        }
        if own or contact_user_id is not None:
            contact["user_id"] = user_id if own else contact_user_id
        return await self.message(user_id, chat_id, contact=contact)

    async def upload(
        self, user_id: int, filename: str, data: bytes, photo: bool, chat_id: int | None = None
    ) -> dict[str, Any]:
        stored = self.core.files.add(filename, data)
        if photo:
            return await self.message(user_id, chat_id, photo=stored.photo_json())
        return await self.message(user_id, chat_id, document=stored.document_json())

    async def callback(
        self, user_id: int, chat: Chat, stored: StoredMessage, data: str
    ) -> dict[str, Any]:
        self._query_count += 1
        query_id = f"{self.core.bot_id}{self._query_count:08d}{self.next_update_id}"
        self.core.open_queries[query_id] = chat.chat_id
        query = {
            "id": query_id,
            "from": self.user_json(user_id),
            "message": stored.message,
            "chat_instance": str(chat.chat_id),
            "data": data,
        }
        return self._update(callback_query=query)
