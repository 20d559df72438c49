"""Bot API requests with a JSON body: what the run modes send Telegram (bot/live.py).

aiogram's AiohttpSession sends every request without a file as an urlencoded
form, and urllib percent-encodes it byte by byte in Python: a Russian text is
two escapes per letter, and the reply_markup — JSON inside a form field — is
escaped whole. Telegram (and the emulator, and a local Bot API server) accepts
``application/json`` for any request without a file, which the json module
writes in C: measured on the cluster bench, the bot's own encoding and the
server's decoding of each reply both fall away. A request that carries a file
still goes as aiogram's multipart form.

The parameters are the ones aiogram's form would carry, prepared by aiogram's
own ``prepare_value`` (defaults such as the parse mode resolved, enums and
objects as plain values); only their nesting stays JSON instead of a string
of JSON — as aiogram's webhook answer does (bot/webhook_server.py).
"""

from __future__ import annotations

from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiohttp import ClientError, ClientTimeout

JSON_HEADERS = {"Content-Type": "application/json"}


class JsonBodySession(AiohttpSession):
    """AiohttpSession that posts a JSON body unless the request carries a file."""

    def json_body(self, bot: Bot, method: TelegramMethod[Any]) -> dict[str, Any] | None:
        """The request's parameters as JSON values; None when a file is attached."""
        files: dict[str, Any] = {}
        body: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared is None or prepared == "":  # what aiogram's form leaves out
                continue
            body[key] = prepared
        return None if files else body

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,
    ) -> TelegramType:
        body = self.json_body(bot, method)
        if body is None:
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        try:
            async with session.post(
                url,
                data=self.json_dumps(body).encode("utf-8"),
                headers=JSON_HEADERS,
                timeout=ClientTimeout(total=self.timeout if timeout is None else timeout),
            ) as resp:
                raw_result = await resp.text()
        except TimeoutError as e:
            raise TelegramNetworkError(method=method, message="Request timeout error") from e
        except ClientError as e:
            raise TelegramNetworkError(method=method, message=f"{type(e).__name__}: {e}") from e
        response = self.check_response(
            bot=bot, method=method, status_code=resp.status, content=raw_result
        )
        return cast(TelegramType, response.result)
