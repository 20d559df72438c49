"""Commit the update's unit of work before every Bot API request.

Two reasons. Durability: whatever a handler did before telling the user is on
disk before the user is told. Concurrency: SQLite has one writer, and every
transaction starts with BEGIN IMMEDIATE (storage/db.py); committing here means
no update ever holds the write lock while it waits on the network, so slow
Telegram answers never stall other users' updates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)

from storage.uow import current_connection

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response, TelegramMethod


class CommitBeforeSend(BaseRequestMiddleware):
    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[Any],
        bot: Bot,
        method: TelegramMethod[Any],
    ) -> Response[Any]:
        conn = current_connection.get()
        if conn is not None and conn.in_transaction():
            await conn.commit()
        return await make_request(bot, method)
