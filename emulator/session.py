"""In-process transport: an aiogram session that hands requests straight to the core.

Why two transports? The HTTP one (emulator.server) exercises aiogram's
real client path — form encoding, multipart uploads, JSON decoding, error
mapping by status code — exactly as against api.telegram.org, so the console
uses it by default. This one skips the socket and the encoding and costs a few
microseconds a request, which the flow tests and the dialogue benchmark need
(they measure our code, not a loopback HTTP stack). Both call the same
EmulatorCore with the same parameters, so they answer identically; the
emulator tests run each scenario through both.

"The same parameters" includes the bot's defaults (DefaultBotProperties):
aiogram resolves ``parse_mode=Default("parse_mode")`` to ``ParseMode.HTML``, a
``str`` enum whose ``str()`` is ``"ParseMode.HTML"``. Over HTTP it travels as
``HTML``; handed over as the enum, the core read it as an unknown parse mode
and accepted unescaped ``<`` that Telegram refuses. So every enum is sent as
its value here too (:func:`wire_value`).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from enum import Enum
from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import InputFile

from emulator.core import EmulatorCore
from emulator.files import Upload


def wire_value(value: Any) -> Any:
    """``value`` as the HTTP transport delivers it: enums as their values, recursively."""
    if isinstance(value, Enum):
        return wire_value(value.value)
    if isinstance(value, dict):
        return {key: wire_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [wire_value(item) for item in value]
    return value


class EmulatorSession(BaseSession):
    def __init__(self, core: EmulatorCore) -> None:
        super().__init__()
        self.core = core

    async def close(self) -> None:
        return None

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        files: dict[str, InputFile] = {}
        params: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared is not None:
                params[key] = wire_value(prepared)
        uploads: dict[str, Upload] = {}
        for key, input_file in files.items():
            data = b"".join([chunk async for chunk in input_file.read(bot)])
            uploads[key] = Upload(input_file.filename or key, data)
        status, body = await self.core.call(method.__api_method__, params, uploads)
        if status == 200:
            response_type = Response[method.__returning__]  # type: ignore[name-defined]
            response = response_type.model_validate(body, context={"bot": bot})
            return cast(TelegramType, response.result)
        # Errors go through aiogram's own mapping of status codes to exceptions.
        self.check_response(bot, method, status, self.json_dumps(body))
        raise AssertionError("check_response always raises on an error status")

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        path = url.split("/", 5)[-1] if "/files/" not in url else url[url.index("files/") :]
        stored = self.core.files.by_path.get(path)
        if stored is None:
            raise FileNotFoundError(url)
        for start in range(0, len(stored.data), chunk_size):
            yield stored.data[start : start + chunk_size]
