"""HTTP transport: a loopback Bot API server that aiogram reaches as it reaches Telegram.

aiogram is pointed at it with
``AiohttpSession(api=TelegramAPIServer.from_base(server.url))``; requests
arrive as ``POST /bot<token>/<method>`` with multipart or JSON bodies, and
downloads as ``GET /file/bot<token>/<path>``. Answers come from the same
EmulatorCore as the in-process session (see emulator.session for why both
exist).
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import BodyPartReader, MultipartReader, StreamReader, hdrs, web
from aiohttp.multipart import content_disposition_filename, parse_content_disposition

from emulator.core import EmulatorCore
from emulator.files import Upload

# Reading a request cheaply. aiohttp's request.content_type runs the email package's
# header parser once per request, and its multipart reader rebuilds a 128-character
# escape list for every field (a tenth of a millisecond each); the Bot API's two body
# kinds are read here directly instead — the same bytes, the same fields — and
# anything unusual still goes through aiohttp.
_DISPOSITION = re.compile(r'form-data; name="([^"\\%*]*)"(?:; filename="([^"\\%*]*)")?')
_BOUNDARY = re.compile(r'boundary=(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)
FormField = tuple[str, str | None, bytes]  # name, file name (None: a plain field), data


def disposition(header: str) -> tuple[str | None, str | None]:
    """(name, filename) of a multipart field's Content-Disposition."""
    found = _DISPOSITION.fullmatch(header)
    if found is not None:
        return found[1], found[2]
    _kind, params = parse_content_disposition(header)
    return content_disposition_filename(params, "name"), content_disposition_filename(
        params, "filename"
    )


def form_data(body: bytes, content_type: str) -> list[FormField] | None:
    """The fields of a multipart/form-data body; None when it is not the plain kind
    (no boundary, a part without a blank line, an encoded part, no closing line)."""
    found = _BOUNDARY.search(content_type)
    if found is None:
        return None
    delimiter = b"--" + (found[1] or found[2]).encode("latin-1")
    first = body.find(delimiter)
    if first < 0:
        return None
    fields: list[FormField] = []
    for chunk in body[first + len(delimiter) :].split(b"\r\n" + delimiter):
        if chunk.startswith(b"--"):  # the closing delimiter
            return fields
        head, blank, data = chunk.partition(b"\r\n\r\n")
        if not blank or not head.startswith(b"\r\n"):
            return None
        header = ""
        for line in head[2:].split(b"\r\n"):
            key, colon, value = line.partition(b":")
            if not colon:
                return None
            key = key.strip().lower()
            if key == b"content-transfer-encoding":
                return None
            if key == b"content-disposition":
                header = value.strip().decode("utf-8")
        name, filename = disposition(header)
        if name is not None:
            fields.append((name, filename, data))
    return None


async def _aiohttp_form(request: web.Request, body: bytes) -> list[FormField]:
    """aiohttp's own multipart reader over the body already read (the unusual bodies)."""
    stream = StreamReader(request.protocol, 2**16, loop=asyncio.get_running_loop())
    stream.feed_data(body)
    stream.feed_eof()
    reader = MultipartReader(request.headers, stream)
    fields: list[FormField] = []
    while (part := await reader.next()) is not None:
        if isinstance(part, BodyPartReader) and part.name is not None:
            fields.append((part.name, part.filename, bytes(await part.read(decode=True))))
    return fields


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
        content_type = request.headers.get(hdrs.CONTENT_TYPE, "")
        kind = content_type.partition(";")[0].strip().lower()
        if kind == "application/json":
            params = dict(json.loads(await request.read()))
        elif kind == "application/x-www-form-urlencoded":
            text = (await request.read()).decode("utf-8")
            params = dict(parse_qsl(text.rstrip(), keep_blank_values=True))
        elif kind.startswith("multipart/"):
            raw = await request.read()
            fields = form_data(raw, content_type)
            if fields is None:
                fields = await _aiohttp_form(request, raw)
            for name, filename, data in fields:
                if filename is not None:
                    files[name] = Upload(filename, data)
                else:
                    params[name] = data.decode("utf-8")
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
