"""A Bot API request as the emulator reads it, and the error Telegram would answer it with.

Parameters may arrive typed (in-process, JSON body) or as form strings
(multipart); :class:`Params` reads both, so the two transports agree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


class ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def response(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


class Params:
    """Method parameters, typed (JSON/in-process) or as multipart strings."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw

    def get(self, name: str) -> Any:
        return self.raw.get(name)

    def text(self, name: str) -> str | None:
        value = self.raw.get(name)
        return None if value is None else str(value)

    def integer(self, name: str, *, required: bool = False) -> int | None:
        value = self.raw.get(name)
        if value is None or value == "":
            if required:
                raise bad(f"{name} is empty" if name != "chat_id" else "chat not found")
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad(f"invalid {name} specified") from None

    def as_json(self, name: str) -> Any:
        value = self.raw.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad(f"can't parse {name} JSON object") from None
        return value

    def flag(self, name: str) -> bool:
        value = self.raw.get(name)
        return value in (True, "true", "True", "1", 1)
