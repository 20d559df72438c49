"""HTTP transport: a loopback Bot API server that aiogram reaches as it reaches Telegram.

aiogram is pointed at it with
``AiohttpSession(api=TelegramAPIServer.from_base(server.url))``; requests
arrive as ``POST /bot<token>/<method>`` with multipart or JSON bodies, and
downloads as ``GET /file/bot<token>/<path>``. Answers come from the same
EmulatorCore as the in-process session (see emulator.session for why both
exist).
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import BodyPartReader, hdrs, web

from emulator.core import EmulatorCore
from emulator.files import Upload

# The Content-Disposition every Bot API client sends for a form field: parsed here in one
# match. aiohttp's own parser (BodyPartReader.name / .filename) builds a 128-character
# regex escape list on every call — a tenth of a millisecond per field, a few per
# sendDocument; anything else (RFC 5987 ``filename*=``, escapes) still goes to it.
_DISPOSITION = re.compile(r'form-data; name="([^"\\%*]*)"(?:; filename="([^"\\%*]*)")?')


def field_of(part: BodyPartReader) -> tuple[str | None, str | None]:
    """(name, filename) of a multipart field."""
    found = _DISPOSITION.fullmatch(part.headers.get(hdrs.CONTENT_DISPOSITION, ""))
    if found is not None:
        return found[1], found[2]
    return part.name, part.filename


class EmulatorServer:
    def __init__(self, core: EmulatorCore, host: str = "127.0.0.1", port: int = 0) -> None:
        self.core = core
        self.host = host
        self.port = port
        self.app = web.Application(client_max_size=60 * 1024 * 1024)
        self.app.router.add_route("*", "/bot{token}/{method}", self._api)
        self.app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> str:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        if server is not None and self.port == 0:
            sockets = getattr(server, "sockets", None) or []
            self.port = int(sockets[0].getsockname()[1])
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _authorised(self, token: str) -> bool:
        return token == self.core.token

    async def _api(self, request: web.Request) -> web.Response:
        if not self._authorised(request.match_info["token"]):
            body = {"ok": False, "error_code": 401, "description": "Unauthorized"}
            return web.json_response(body, status=401)
        params: dict[str, Any] = {}
        files: dict[str, Upload] = {}
        if request.content_type == "application/json":
            params = dict(await request.json())
        elif request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader):
                    continue
                name, filename = field_of(part)
                if name is None:
                    continue
                data = await part.read()
                if filename is not None:
                    files[name] = Upload(filename, bytes(data))
                else:
                    params[name] = bytes(data).decode("utf-8")
        elif request.method == "POST" and request.can_read_body:
            params = dict(await request.post())
        params.update({k: v for k, v in request.query.items() if k not in params})
        status, body = await self.core.call(request.match_info["method"], params, files)
        return web.Response(
            text=json.dumps(body, ensure_ascii=False),
            status=status,
            content_type="application/json",
        )

    async def _file(self, request: web.Request) -> web.StreamResponse:
        if not self._authorised(request.match_info["token"]):
            raise web.HTTPUnauthorized()
        stored = self.core.files.by_path.get(request.match_info["path"])
        if stored is None:
            raise web.HTTPNotFound()
        return web.Response(body=stored.data, content_type=stored.mime_type)
