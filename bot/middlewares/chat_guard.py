"""Private chats only: nothing personal ever goes to a group, a supergroup or a channel.

Every flow answers in the chat the update came from, and what it says is
personal (visits, the menu with the patient's name, the deletion prompt). So
the decision is made once, here, before the unit of work is even opened: an
update from any chat that is not a private one never reaches a flow.

- a message in a group or supergroup gets at most one short neutral line
  («write to me privately»), once per chat per ``notice_every`` on the
  injected clock, so a busy group is not spammed;
- channel posts and edits are ignored entirely;
- a button pressed under a message in such a chat is answered without any
  text (the spinner stops, nothing is shown);
- being added to a group, supergroup or channel (``my_chat_member``) makes
  the bot leave it at once;
- in a private chat ``my_chat_member`` tells whether the user blocked
  (``kicked``) or unblocked (``member``) the bot: the unreachable mark
  follows it, and held urgent notices go out again on return.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.enums import ChatMemberStatus, ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Chat, ChatMemberUpdated, TelegramObject, Update
from aiogram.types import User as TgUser
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.i18n import telegram_locale
from domain.ports import Clock
from storage.uow import UnitOfWorkFactory

log = logging.getLogger("zapis.chats")

NOTICE_EVERY = timedelta(minutes=10)
# Statuses that mean "the bot is in the chat now".
PRESENT = {ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.RESTRICTED}
MAX_REMEMBERED_CHATS = 10_000

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class PrivateChatsOnly(BaseMiddleware):
    """Outer middleware on ``dp.update``; registered before the unit of work opens."""

    def __init__(
        self,
        i18n: I18n,
        clock: Clock,
        uow_factory: UnitOfWorkFactory,
        *,
        notice_every: timedelta = NOTICE_EVERY,
    ) -> None:
        self.i18n = i18n
        self.clock = clock
        self.uow_factory = uow_factory
        self.notice_every = notice_every
        self._noticed: dict[int, datetime] = {}  # chat id -> when the neutral line went out

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        bot: Bot = data["bot"]
        if event.channel_post is not None or event.edited_channel_post is not None:
            return None
        if event.my_chat_member is not None:
            await self._membership(bot, event.my_chat_member)
            return None
        query = event.callback_query
        if query is not None and query.message is None:
            # A button of an inline-mode message: this bot has no inline mode, nothing to do.
            await _quietly(query.answer())
            return None
        chat: Chat | None = data.get("event_chat")
        if chat is None or chat.type == ChatType.PRIVATE:
            return await handler(event, data)
        if query is not None:
            await _quietly(query.answer())
        elif event.message is not None and chat.type in (ChatType.GROUP, ChatType.SUPERGROUP):
            await self._notice(bot, chat, data.get("event_from_user"))
        return None

    async def _notice(self, bot: Bot, chat: Chat, tg_user: TgUser | None) -> None:
        now = self.clock.now()
        last = self._noticed.get(chat.id)
        if last is not None and now - last < self.notice_every:
            return
        if len(self._noticed) >= MAX_REMEMBERED_CHATS:
            self._noticed.clear()
        self._noticed[chat.id] = now
        locale = telegram_locale(tg_user) or self.i18n.default_locale
        with self.i18n.context(), self.i18n.use_locale(locale):
            text = _("I only work in private messages: please write to me directly.")
        await _quietly(bot.send_message(chat.id, text))

    async def _membership(self, bot: Bot, change: ChatMemberUpdated) -> None:
        status = change.new_chat_member.status
        if change.chat.type != ChatType.PRIVATE:
            if status in PRESENT:
                log.info("added to %s chat %s: leaving", change.chat.type, change.chat.id)
                await _quietly(bot.leave_chat(change.chat.id))
            return
        user_id = change.chat.id
        async with self.uow_factory() as uow:
            if status == ChatMemberStatus.KICKED:
                await uow.users.mark_unreachable(user_id)
            elif status in PRESENT:
                await uow.users.mark_reachable(user_id, self.clock.now())
            await uow.commit()


async def _quietly(call: Awaitable[Any]) -> None:
    """A courtesy call (a neutral line, leaving, stopping a spinner) must never raise."""
    try:
        await call
    except TelegramAPIError as exc:
        log.warning("courtesy call refused by Telegram: %s", exc)
