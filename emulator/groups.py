"""Groups, supergroups and channels: the console's ``!chat`` directive and ``leaveChat``.

Why the emulator has them at all: a bot that answers in a group posts to
everyone in it, so the privacy rules (private chats only) must be testable
offline. What is modelled is what those tests need, as Telegram does it:

- the user who opens a group with ``!chat group ID`` is a member of it and
  adds the bot; the bot gets a ``my_chat_member`` update (left → member; in a
  channel left → administrator, since only an administrator bot sees posts);
- every line the user sends there is delivered (as to a bot with privacy mode
  off); in a channel a line is a ``channel_post`` signed by the channel;
- the bot may leave (``leaveChat``); afterwards its sends answer 403 as
  Telegram's do, the user's lines are not delivered, and the next ``!chat`` to
  that chat adds the bot again.

Joining and leaving are kept as the service messages Telegram writes in a
group's history, so membership persists across runs with the same ``--db``.
"""

from __future__ import annotations

from typing import Any

from emulator.params import ApiError, bad
from emulator.state import Chat, EmulatorState, Event
from emulator.store import StoredMessage

KINDS = ("group", "supergroup", "channel")
_TITLES = {"group": "Group", "supergroup": "Supergroup", "channel": "Channel"}


async def open_group(core: EmulatorState, chat_id: int, kind: str) -> Chat:
    """The group ``chat_id`` of this kind, created on first use (the bot not yet in it)."""
    if kind not in KINDS or chat_id >= 0:
        raise ValueError(f"not a group chat: {kind} {chat_id}")
    chat = core.chats.get(chat_id)
    if chat is None:
        try:
            chat = await core.chat(chat_id)  # one an earlier run opened
        except ApiError:
            title = f"{_TITLES[kind]} {chat_id}"
            chat = Chat(chat_id, title, type=kind, bot_member=False)
            core.chats[chat_id] = chat
    if chat.type != kind:
        raise ValueError(f"chat {chat_id} is a {chat.type}, not a {kind}")
    return chat


def add_bot(core: EmulatorState, chat: Chat, by: dict[str, Any]) -> dict[str, Any]:
    """The user ``by`` adds the bot to ``chat``; the ``my_chat_member`` update body."""
    chat.bot_member = True
    _service(core, chat, by, new_chat_members=[core.bot_user])
    new: dict[str, Any] = {"status": "member", "user": core.bot_user}
    if chat.type == "channel":
        new = {"status": "administrator", "user": core.bot_user, **_ADMIN_RIGHTS}
    return {
        "chat": core.chat_json(chat),
        "from": by,
        "date": core.timestamp(),
        "old_chat_member": {"status": "left", "user": core.bot_user},
        "new_chat_member": new,
    }


async def leave_chat(core: EmulatorState, chat_id: int) -> None:
    """The bot leaves a group (the Bot API's ``leaveChat``)."""
    chat = await core.chat(chat_id)
    if chat.type == "private":
        raise bad("chat member status can't be changed in private chats")
    if not chat.bot_member:
        raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
    chat.bot_member = False
    _service(core, chat, core.bot_user, left_chat_member=core.bot_user)
    core.record(Event("left", chat.chat_id))


def _service(core: EmulatorState, chat: Chat, sender: dict[str, Any], **content: Any) -> None:
    """A service message in the chat's history (not delivered to the bot)."""
    message = core.new_message(chat, sender, **content)
    core.remember(chat, StoredMessage(message, None, out=False))


# What Telegram reports for a bot a channel's owner made an administrator to post.
_ADMIN_RIGHTS = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": False,
    "can_restrict_members": False,
    "can_promote_members": False,
    "can_change_info": False,
    "can_invite_users": False,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_send_welcome_messages": False,
    "can_post_messages": True,
    "can_edit_messages": True,
}
