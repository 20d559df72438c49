"""The emulated Telegram's state: chats, messages, keyboards, files, and the checks on them.

Kept apart from emulator.core (which answers a request by looking the
method up in emulator.methods) so the methods and emulator.groups can
import the state at module top: core → methods → state, no cycle.

Nothing here touches the database while a request is being answered: a
handler's transaction may hold SQLite's write lock at that moment, so history
writes are buffered and written by :meth:`EmulatorState.flush` after the update
is handled.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from emulator import markup as mk
from emulator.files import FileStore, Upload
from emulator.htmltext import EntityParseError, plain_text
from emulator.params import ApiError, Params, bad
from emulator.ratelimit import RateLimiter
from emulator.store import HistoryStore, PendingOps, StoredMessage, group_state
from emulator.wall import SimulatedWall

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_ANSWER = 200
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"


@dataclass
class Event:
    """Something the bot did, for the transcript: sent / edited / deleted / answer / refused."""

    kind: str
    chat_id: int | None = None
    message: StoredMessage | None = None
    text: str | None = None
    method: str | None = None
    status: int | None = None


@dataclass
class Chat:
    """A private chat (id = the user's id) or a group, supergroup or channel (negative id)."""

    chat_id: int
    first_name: str  # private chats; a group's title otherwise
    next_id: int = 1
    type: str = "private"  # private | group | supergroup | channel
    bot_member: bool = True  # groups: the bot was added and has not left
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    reply_keyboard: dict[str, Any] | None = None
    reply_keyboard_id: int = 0  # the message that sent the current reply keyboard
    reply_keyboard_seq: int = 0  # ... and its recency (see StoredMessage.seq)


Handler = Callable[["EmulatorState", Params, Mapping[str, Upload]], Awaitable[Any]]


class EmulatorState:
    """One emulated Telegram for one bot, less the request dispatch (emulator.core)."""

    def __init__(
        self,
        *,
        now: Callable[[], datetime] | None = None,
        store: HistoryStore | None = None,
        bot_id: int = 7000000001,
        bot_username: str = "zapis_emulator_bot",
        keep_events: bool = True,
        history_limit: int | None = None,
        wall: SimulatedWall | None = None,
    ) -> None:
        """``keep_events=False`` and a ``history_limit`` (messages kept in memory per chat)
        keep a long benchmark's memory flat; the console keeps everything. ``wall``: the
        clock the rate limits judge on (emulator/wall.py), shared with the bot's pacing."""
        self.wall = wall or SimulatedWall()
        self.keep_events = keep_events
        self.history_limit = history_limit
        self.now = now or (lambda: datetime.now(UTC))
        self.store = store
        self.bot_id = bot_id
        self.bot_user = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Zapis",
            "username": bot_username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.token = f"{bot_id}:EMULATOR-{'x' * 30}"
        self.chats: dict[int, Chat] = {}
        self.files = FileStore()
        self.users: dict[int, dict[str, Any]] = {}
        self.blocked: set[int] = set()
        self.rate_limiter: RateLimiter | None = None
        self.events: list[Event] = []
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.open_queries: dict[str, int] = {}  # callback_query id -> chat id
        self.pending = PendingOps()
        self._seq = 0
        # setWebhook's url, secret_token, max_connections (emulator.webhook delivers there).
        self.webhook: dict[str, Any] = {}

    # ----- switches -------------------------------------------------------------------------
    def set_rate_limits(self, enabled: bool, limiter: RateLimiter | None = None) -> None:
        """Telegram's limits on (by default judged on this world's wall clock) or off."""
        self.rate_limiter = (
            (limiter or RateLimiter(monotonic=self.wall.monotonic)) if enabled else None
        )

    # ----- chats and history ----------------------------------------------------------------
    async def chat(self, chat_id: int, *, create: bool = True) -> Chat:
        """A known chat; a private chat is created on first use, a group only by
        :func:`emulator.groups.open_group` (or found in the stored history)."""
        chat = self.chats.get(chat_id)
        if chat is not None:
            return chat
        if chat_id <= 0:  # a group an earlier run opened, or none
            chat = Chat(chat_id, "")
            await self.load_history(chat)
            state = group_state(chat.messages.values(), self.bot_id)
            if state is None:
                raise bad("chat not found")
            chat.type, chat.first_name, chat.bot_member = state
            self.chats[chat_id] = chat
            return chat
        user = self.users.get(chat_id, {})
        chat = Chat(chat_id, str(user.get("first_name") or f"User{chat_id}"))
        await self.load_history(chat)
        self.chats[chat_id] = chat
        return chat

    async def load_history(self, chat: Chat) -> None:
        """Messages of this chat kept by an earlier run (``--db``), if any."""
        chat_id = chat.chat_id
        if self.store is not None:
            for message_id, stored in await self.store.load_chat(chat_id):
                chat.messages[message_id] = stored
                stored.seq = self.next_seq()
                chat.next_id = max(chat.next_id, message_id + 1)
                if mk.kind(stored.markup) == "keyboard" and not stored.removed_keyboard:
                    chat.reply_keyboard, chat.reply_keyboard_id = stored.markup, message_id
                    chat.reply_keyboard_seq = stored.seq

    def chat_json(self, chat: Chat) -> dict[str, Any]:
        if chat.type == "private":
            return {"id": chat.chat_id, "type": "private", "first_name": chat.first_name}
        return {"id": chat.chat_id, "type": chat.type, "title": chat.first_name}

    def timestamp(self) -> int:
        return int(self.now().timestamp())

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def remember(self, chat: Chat, stored: StoredMessage) -> None:
        message_id = int(stored.message["message_id"])
        chat.messages[message_id] = stored
        stored.seq = self.next_seq()
        if self.history_limit is not None and len(chat.messages) > self.history_limit:
            del chat.messages[next(iter(chat.messages))]
        if self.store is not None:
            self.pending.upserts[(chat.chat_id, message_id)] = stored
            self.pending.deletes.discard((chat.chat_id, message_id))

    def forget(self, chat: Chat, message_id: int) -> None:
        chat.messages.pop(message_id, None)
        if self.store is not None:
            self.pending.upserts.pop((chat.chat_id, message_id), None)
            self.pending.deletes.add((chat.chat_id, message_id))

    def set_reply_keyboard(
        self, chat: Chat, markup: dict[str, Any] | None, message_id: int
    ) -> None:
        what = mk.kind(markup)
        if what == "keyboard":
            chat.reply_keyboard, chat.reply_keyboard_id = markup, message_id
            chat.reply_keyboard_seq = (
                chat.messages[message_id].seq if message_id in chat.messages else self.next_seq()
            )
        elif what == "remove":
            chat.reply_keyboard, chat.reply_keyboard_id = None, 0
            for stored in chat.messages.values():
                stored.removed_keyboard = True
            if self.store is not None:
                self.pending.keyboards_removed.add(chat.chat_id)

    def new_message(self, chat: Chat, sender: dict[str, Any], **content: Any) -> dict[str, Any]:
        """A message in ``chat``; in a channel it is signed by the channel, not by ``sender``."""
        message: dict[str, Any] = {"message_id": chat.next_id}
        if chat.type == "channel":
            message["sender_chat"] = self.chat_json(chat)
        else:
            message["from"] = sender
        message.update(chat=self.chat_json(chat), date=self.timestamp())
        message.update({k: v for k, v in content.items() if v is not None})
        chat.next_id += 1
        return message

    async def flush(self) -> None:
        """Write buffered history (call when no handler transaction is open)."""
        ops, self.pending = self.pending, PendingOps()
        if self.store is not None:
            await self.store.apply(ops)

    def record(self, event: Event) -> None:
        if self.keep_events:
            self.events.append(event)

    def drain(self) -> list[Event]:
        events, self.events = self.events, []
        return events

    # ----- checks shared by the send methods ------------------------------------------------
    def check_text(self, text: str | None, parse_mode: str | None, *, caption: bool) -> str:
        try:
            plain = plain_text(text or "", parse_mode)
        except EntityParseError as exc:
            raise ApiError(400, str(exc)) from None
        if caption:
            if len(plain) > MAX_CAPTION:
                raise bad("message caption is too long")
            return plain
        if not plain.strip():
            raise bad("message text is empty")
        if len(plain) > MAX_TEXT:
            raise bad("message is too long")
        return plain

    def check_markup(self, params: Params) -> dict[str, Any] | None:
        markup = params.as_json("reply_markup")
        try:
            mk.validate(markup)
        except mk.MarkupError as exc:
            raise ApiError(400, str(exc)) from None
        return markup or None

    async def writable_chat(self, params: Params, *, counts: bool) -> Chat:
        chat_id = params.integer("chat_id", required=True)
        assert chat_id is not None
        chat = await self.chat(chat_id)
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if not chat.bot_member:
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
        if counts and self.rate_limiter is not None:
            wait = self.rate_limiter.check(chat_id)
            if wait:
                raise ApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
        return chat
