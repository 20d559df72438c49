"""Checks of reply markup the way Telegram checks it, with Telegram's error wording."""

from __future__ import annotations

from typing import Any

MAX_INLINE_BUTTONS = 100
MAX_CALLBACK_DATA_BYTES = 64
_ACTIONS = (
    "callback_data", "url", "login_url", "switch_inline_query", "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat", "web_app", "callback_game", "pay", "copy_text",
)  # fmt: skip
_ACTION_SET = frozenset(_ACTIONS)


class MarkupError(ValueError):
    """Telegram would answer 400 with this description."""


def kind(markup: dict[str, Any] | None) -> str | None:
    """'inline', 'keyboard', 'remove', 'force_reply' or None."""
    if not markup:
        return None
    if "inline_keyboard" in markup:
        return "inline"
    if "keyboard" in markup:
        return "keyboard"
    if markup.get("remove_keyboard"):
        return "remove"
    if markup.get("force_reply"):
        return "force_reply"
    raise MarkupError("Bad Request: can't parse reply keyboard markup JSON object")


def validate(markup: dict[str, Any] | None) -> None:
    what = kind(markup)
    if what == "inline":
        assert markup is not None
        _validate_inline(markup["inline_keyboard"])
    elif what == "keyboard":
        assert markup is not None
        _validate_reply(markup["keyboard"])


def _validate_inline(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise MarkupError(
            'Bad Request: can\'t parse inline keyboard button: field "inline_keyboard" must be an Array of Arrays'
        )
    if sum(len(r) for r in rows) > MAX_INLINE_BUTTONS:
        raise MarkupError("Bad Request: reply markup is too long")
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not str(button.get("text") or "").strip():
                raise MarkupError(
                    "Bad Request: can't parse inline keyboard button: Text must be non-empty"
                )
            # The button's own few keys, not every action name (one per button, checked
            # on every keyboard the bot sends).
            actions = [a for a, v in button.items() if a in _ACTION_SET and v is not None]
            if len(actions) != 1:
                raise MarkupError(
                    "Bad Request: can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard"
                )
            if "callback_data" in actions:
                data = button["callback_data"]
                size = len(str(data).encode("utf-8"))
                if not isinstance(data, str) or not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                    raise MarkupError("Bad Request: BUTTON_DATA_INVALID")
            if "url" in actions and not str(button["url"]).startswith(
                ("http://", "https://", "tg://")
            ):
                raise MarkupError("Bad Request: BUTTON_URL_INVALID")


def _validate_reply(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise MarkupError("Bad Request: can't parse reply keyboard markup JSON object")
    for row in rows:
        for button in row:
            text = button if isinstance(button, str) else (button or {}).get("text")
            if not str(text or "").strip():
                raise MarkupError("Bad Request: keyboard button text must be non-empty")


def inline_rows(markup: dict[str, Any] | None) -> list[list[dict[str, Any]]]:
    return list(markup.get("inline_keyboard", [])) if markup else []


def reply_rows(markup: dict[str, Any] | None) -> list[list[dict[str, Any]]]:
    if not markup or "keyboard" not in markup:
        return []
    return [[b if isinstance(b, dict) else {"text": b} for b in row] for row in markup["keyboard"]]
