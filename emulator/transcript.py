"""How the console prints what happened (docs/console.md, "Transcript").

Conventions beyond docs/console.md, chosen for readability:
- a message's text follows ``<@CHAT_ID `` on the same line; its further lines
  are indented to line up under the first;
- inline buttons: one row a line, ``  [label] [label]`` (``--debug``:
  ``[label ⟨callback_data⟩]``, URL buttons ``[label ⟨url⟩]``);
- a reply keyboard: one row a line with a keyboard mark, ``  ⌨ [label] [label]``;
  a request-contact button shows as ``[label ☎]`` (press it by its label);
  ReplyKeyboardRemove prints ``  ⌨ removed``;
- a deleted message prints ``<@CHAT_ID (deleted #MESSAGE_ID)``;
- the bot leaving a group prints ``<@CHAT_ID (the bot left the chat)``; a user
  adding it (the first ``!chat`` to a group) prints ``  + the bot joined CHAT_ID``;
- a callback answer with text prints ``  ! text`` (an alert: ``  ! [alert] text``);
- a request the emulator refused prints ``!! <status> <description> (<method>)``;
- after ``!clock`` the new time prints as ``  ⏱ 2026-12-01 10:30 MSK`` (the bot's zone).
"""

from __future__ import annotations

from typing import Any

from emulator import markup as mk
from emulator.core import Event
from emulator.store import StoredMessage


def echo(user_id: int, line: str) -> str:
    return f"@{user_id} > {line}"


def _body(prefix: str, text: str) -> list[str]:
    lines = text.split("\n")
    pad = " " * len(prefix)
    out = [f"{prefix}{lines[0]}".rstrip()]
    out += [f"{pad}{line}".rstrip() for line in lines[1:]]
    return out


def _inline_label(button: dict[str, Any], debug: bool) -> str:
    label = str(button.get("text", ""))
    if debug:
        extra = button.get("callback_data") or button.get("url")
        if extra is not None:
            return f"[{label} ⟨{extra}⟩]"
    return f"[{label}]"


def _reply_label(button: dict[str, Any]) -> str:
    label = str(button.get("text", ""))
    return f"[{label} ☎]" if button.get("request_contact") else f"[{label}]"


def file_of(stored: StoredMessage) -> tuple[str, str, int] | None:
    """(file_id, filename, size) of a message's document or photo; None when it has none."""
    for field in ("document", "photo"):
        attached = stored.message.get(field)
        if attached:
            item = attached[-1] if isinstance(attached, list) else attached
            name = str(item.get("file_name") or f"{field}.jpg")
            return str(item["file_id"]), name, int(item.get("file_size", 0))
    return None


def message_lines(
    stored: StoredMessage, *, debug: bool, edited: bool = False, saved: str | None = None
) -> list[str]:
    """``saved``: where ``--files`` wrote the message's file (printed after an arrow)."""
    message = stored.message
    chat_id = message["chat"]["id"]
    prefix = f"<@{chat_id}{' (edited)' if edited else ''} "
    text = message.get("text") or message.get("caption") or ""
    out = _body(prefix, text)
    attached = file_of(stored)
    if attached is not None:
        _file_id, name, size = attached
        out.append(f"  📎 {name} ({size} bytes){f' → {saved}' if saved else ''}")
    for row in mk.inline_rows(stored.markup):
        out.append("  " + " ".join(_inline_label(b, debug) for b in row))
    what = mk.kind(stored.markup)
    if what == "keyboard" and not edited:
        for row in mk.reply_rows(stored.markup):
            out.append("  ⌨ " + " ".join(_reply_label(b) for b in row))
    elif what == "remove":
        out.append("  ⌨ removed")
    return out


def event_lines(event: Event, *, debug: bool, saved: str | None = None) -> list[str]:
    if event.kind in ("sent", "edited") and event.message is not None:
        edited = event.kind == "edited"
        return message_lines(event.message, debug=debug, edited=edited, saved=saved)
    if event.kind == "left":
        return [f"<@{event.chat_id} (the bot left the chat)"]
    if event.kind == "deleted" and event.message is not None:
        return [f"<@{event.chat_id} (deleted #{event.message.message['message_id']})"]
    if event.kind in ("answer", "alert") and event.text:
        return [f"  ! {'[alert] ' if event.kind == 'alert' else ''}{event.text}"]
    if event.kind == "refused":
        return [f"!! {event.status} {event.text} ({event.method})"]
    return []
