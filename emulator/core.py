"""The Telegram Bot API emulator's core: one request in, Telegram's answer out.

Both transports (emulator.session in-process, emulator.server over
HTTP) call :meth:`EmulatorCore.call` with the method name, its parameters and
the uploaded files, and get back exactly the JSON Telegram would answer, so
they behave identically. Parameters may arrive typed (in-process, JSON body)
or as form strings (multipart); :class:`Params` reads both.

The state (chats, messages, keyboards, files) is emulator.state; the
methods are emulator.methods, which import the state, not this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator.files import Upload
from emulator.methods import METHODS

# Re-exported: callers import the request, error and chat types from here.
from emulator.params import ApiError as ApiError
from emulator.params import Params as Params
from emulator.params import bad as bad
from emulator.state import MAX_CALLBACK_ANSWER as MAX_CALLBACK_ANSWER
from emulator.state import MAX_CAPTION as MAX_CAPTION
from emulator.state import MAX_TEXT as MAX_TEXT
from emulator.state import NOT_MODIFIED as NOT_MODIFIED
from emulator.state import QUERY_INVALID as QUERY_INVALID
from emulator.state import Chat as Chat
from emulator.state import EmulatorState
from emulator.state import Event as Event
from emulator.state import Handler as Handler


class EmulatorCore(EmulatorState):
    """One emulated Telegram for one bot: its state plus the Bot API methods."""

    async def call(
        self,
        method: str,
        params: Mapping[str, Any],
        files: Mapping[str, Upload] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Answer one Bot API request: (HTTP status, Telegram's JSON body)."""
        handler = METHODS.get(method.lower())
        try:
            if handler is None:
                raise ApiError(404, "Not Found")
            result = await handler(self, Params(params), files or {})
        except ApiError as exc:
            self.record(Event("refused", text=exc.description, method=method, status=exc.status))
            return exc.status, exc.response()
        return 200, {"ok": True, "result": result}
