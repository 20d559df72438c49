"""The Bot API methods the emulator answers; anything else is 404 (never ignored)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator import markup as mk
from emulator.files import StoredFile, Upload
from emulator.groups import leave_chat
from emulator.params import ApiError, Params, bad
from emulator.state import (
    MAX_CALLBACK_ANSWER,
    NOT_MODIFIED,
    QUERY_INVALID,
    Chat,
    EmulatorState,
    Event,
    Handler,
)
from emulator.store import StoredMessage

MAX_DOCUMENT = 50 * 1024 * 1024
MAX_PHOTO = 10 * 1024 * 1024
Files = Mapping[str, Upload]


def _visible(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    """The part of reply_markup Telegram returns in a Message (inline keyboards only)."""
    return markup if mk.kind(markup) == "inline" else None


async def _send(
    core: EmulatorState, chat: Chat, markup: dict[str, Any] | None, **content: Any
) -> dict[str, Any]:
    message = core.new_message(chat, core.bot_user, reply_markup=_visible(markup), **content)
    stored = StoredMessage(message, markup, out=True)
    core.remember(chat, stored)
    core.set_reply_keyboard(chat, markup, int(message["message_id"]))
    core.record(Event("sent", chat.chat_id, stored))
    return message


async def get_me(core: EmulatorState, p: Params, files: Files) -> Any:
    return core.bot_user


async def send_message(core: EmulatorState, p: Params, files: Files) -> Any:
    chat = await core.writable_chat(p, counts=True)
    text = core.check_text(p.text("text"), p.text("parse_mode"), caption=False)
    markup = core.check_markup(p)
    return await _send(core, chat, markup, text=text)


def _upload(core: EmulatorState, p: Params, files: Files, field: str, limit: int) -> StoredFile:
    ref = p.text(field)
    if not ref:
        raise bad(f"there is no {field} in the request")
    if ref.startswith("attach://"):
        upload = files.get(ref.removeprefix("attach://"))
        if upload is None:
            raise bad(f"file {ref} not found in the request")
    elif ref in files:  # multipart field carrying the file directly
        upload = files[ref]
    else:
        known = core.files.get(ref)
        if known is None:
            raise bad("wrong file identifier/HTTP URL specified")
        return known
    if not upload.data:
        raise bad("file must be non-empty")
    if len(upload.data) > limit:
        raise ApiError(413, "Request Entity Too Large")
    return core.files.add(upload.filename, upload.data)


async def _send_file(core: EmulatorState, p: Params, files: Files, field: str) -> Any:
    chat = await core.writable_chat(p, counts=True)
    caption = core.check_text(p.text("caption"), p.text("parse_mode"), caption=True) or None
    markup = core.check_markup(p)
    if field not in p.raw and field in files:
        p = Params({**p.raw, field: field})
    stored = _upload(core, p, files, field, MAX_DOCUMENT if field == "document" else MAX_PHOTO)
    body: Any = stored.document_json() if field == "document" else stored.photo_json()
    return await _send(core, chat, markup, caption=caption, **{field: body})


async def send_document(core: EmulatorState, p: Params, files: Files) -> Any:
    return await _send_file(core, p, files, "document")


async def send_photo(core: EmulatorState, p: Params, files: Files) -> Any:
    return await _send_file(core, p, files, "photo")


async def _own_message(core: EmulatorState, p: Params, action: str) -> tuple[Chat, StoredMessage]:
    if p.get("inline_message_id"):
        raise bad("inline messages are not supported by the emulator")
    chat = await core.writable_chat(p, counts=False)
    message_id = p.integer("message_id", required=True)
    assert message_id is not None
    stored = chat.messages.get(message_id)
    if stored is None:
        raise bad(f"message to {action} not found")
    if not stored.out and action == "edit":
        raise bad("message can't be edited")
    return chat, stored


def _edited(core: EmulatorState, chat: Chat, stored: StoredMessage, **changes: Any) -> Any:
    message = dict(stored.message)
    for key, value in changes.items():
        if value is None:
            message.pop(key, None)
        else:
            message[key] = value
    message["edit_date"] = core.timestamp()
    new = StoredMessage(message, changes.get("reply_markup"), out=True)
    core.remember(chat, new)
    core.record(Event("edited", chat.chat_id, new))
    return message


async def edit_message_text(core: EmulatorState, p: Params, files: Files) -> Any:
    chat, stored = await _own_message(core, p, "edit")
    if "text" not in stored.message:
        raise bad("there is no text in the message to edit")
    text = core.check_text(p.text("text"), p.text("parse_mode"), caption=False)
    markup = core.check_markup(p)
    if markup is not None and mk.kind(markup) != "inline":
        raise bad("reply markup must be an inline keyboard")
    if text == stored.message.get("text") and markup == _visible(stored.markup):
        raise bad(NOT_MODIFIED.removeprefix("Bad Request: "))
    return _edited(core, chat, stored, text=text, reply_markup=markup)


async def edit_message_caption(core: EmulatorState, p: Params, files: Files) -> Any:
    chat, stored = await _own_message(core, p, "edit")
    if "text" in stored.message:
        raise bad("there is no caption in the message to edit")
    caption = core.check_text(p.text("caption"), p.text("parse_mode"), caption=True) or None
    markup = core.check_markup(p)
    if caption == stored.message.get("caption") and markup == _visible(stored.markup):
        raise bad(NOT_MODIFIED.removeprefix("Bad Request: "))
    return _edited(core, chat, stored, caption=caption, reply_markup=markup)


async def edit_message_reply_markup(core: EmulatorState, p: Params, files: Files) -> Any:
    chat, stored = await _own_message(core, p, "edit")
    markup = core.check_markup(p)
    if markup is not None and mk.kind(markup) != "inline":
        raise bad("reply markup must be an inline keyboard")
    if markup == _visible(stored.markup):
        raise bad(NOT_MODIFIED.removeprefix("Bad Request: "))
    return _edited(core, chat, stored, reply_markup=markup)


async def delete_message(core: EmulatorState, p: Params, files: Files) -> Any:
    chat, stored = await _own_message(core, p, "delete")
    core.forget(chat, int(stored.message["message_id"]))
    core.record(Event("deleted", chat.chat_id, stored))
    return True


async def answer_callback_query(core: EmulatorState, p: Params, files: Files) -> Any:
    query_id = p.text("callback_query_id") or ""
    chat_id = core.open_queries.pop(query_id, None)
    if chat_id is None:
        raise ApiError(400, QUERY_INVALID)
    text = p.text("text")
    if text is not None and len(text) > MAX_CALLBACK_ANSWER:
        raise bad("MESSAGE_TOO_LONG")
    kind = "alert" if p.flag("show_alert") else "answer"
    core.record(Event(kind, chat_id, text=text or None))
    return True


async def set_my_commands(core: EmulatorState, p: Params, files: Files) -> Any:
    commands = p.as_json("commands") or []
    for command in commands:
        name = str(command.get("command", ""))
        description = str(command.get("description", ""))
        if not (1 <= len(name) <= 32 and name.replace("_", "").isalnum() and name.islower()):
            raise bad("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad("BOT_COMMAND_DESCRIPTION_INVALID")
    core.commands[_commands_key(p)] = list(commands)
    return True


def _commands_key(p: Params) -> str:
    scope = p.as_json("scope") or {"type": "default"}
    return f"{scope.get('type')}:{scope.get('chat_id', '')}:{p.text('language_code') or ''}"


async def get_my_commands(core: EmulatorState, p: Params, files: Files) -> Any:
    return core.commands.get(_commands_key(p), [])


async def delete_my_commands(core: EmulatorState, p: Params, files: Files) -> Any:
    core.commands.pop(_commands_key(p), None)
    return True


async def get_file(core: EmulatorState, p: Params, files: Files) -> Any:
    stored = core.files.get(p.text("file_id") or "")
    if stored is None:
        raise bad("invalid file_id")
    return stored.file_json()


async def send_chat_action(core: EmulatorState, p: Params, files: Files) -> Any:
    await core.writable_chat(p, counts=False)
    return True


async def leave(core: EmulatorState, p: Params, files: Files) -> Any:
    chat_id = p.integer("chat_id", required=True)
    assert chat_id is not None
    await leave_chat(core, chat_id)
    return True


async def true(core: EmulatorState, p: Params, files: Files) -> Any:
    return True


async def webhook_info(core: EmulatorState, p: Params, files: Files) -> Any:
    url = str(core.webhook.get("url") or "")
    return {"url": url, "has_custom_certificate": False, "pending_update_count": 0}


async def set_webhook(core: EmulatorState, p: Params, files: Files) -> Any:
    """Where emulator.webhook delivers updates (the bot's own call, as with Telegram)."""
    url = p.text("url") or ""
    if url and not url.startswith(("http://", "https://")):
        raise bad("bad webhook: An HTTPS URL must be provided for webhook")
    core.webhook = {
        "url": url,
        "secret_token": p.text("secret_token") or "",
        "max_connections": p.integer("max_connections") or 40,
    }
    return True


async def delete_webhook(core: EmulatorState, p: Params, files: Files) -> Any:
    core.webhook = {}
    return True


METHODS: dict[str, Handler] = {
    name.lower(): handler
    for name, handler in {
        "getMe": get_me,
        "sendMessage": send_message,
        "sendDocument": send_document,
        "sendPhoto": send_photo,
        "editMessageText": edit_message_text,
        "editMessageCaption": edit_message_caption,
        "editMessageReplyMarkup": edit_message_reply_markup,
        "deleteMessage": delete_message,
        "answerCallbackQuery": answer_callback_query,
        "setMyCommands": set_my_commands,
        "getMyCommands": get_my_commands,
        "deleteMyCommands": delete_my_commands,
        "getFile": get_file,
        "sendChatAction": send_chat_action,
        "leaveChat": leave,
        "deleteWebhook": delete_webhook,
        "setWebhook": set_webhook,
        "setChatMenuButton": true,
        "getWebhookInfo": webhook_info,
    }.items()
}
