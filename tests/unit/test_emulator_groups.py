"""The console's ``!chat``: groups, supergroups and channels as Telegram delivers them.

Regression for issue 7 (Console): the console had private chats only, so no
test could show what the bot posts into a group a patient writes in.

The bot itself works in private chats only (issue 7 item 1,
bot/middlewares/chat_guard.py): added to a group it leaves at once, and in a
group it is still in it answers at most one neutral line. These tests check
the emulator against that real bot. Where the bot has to be in a group for a
line to be delivered, the group is one it was already in (:func:`already_in`:
the membership is set up on the emulated Telegram's side, as for a group the
bot joined before it learned to leave, so no ``my_chat_member`` reaches it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError
from aiogram.types import ChatMemberUpdated, Message, Update

from emulator.core import Chat
from emulator.groups import open_group
from emulator.harness import ConsoleWorld, ScriptError
from emulator.script import parse

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
NEUTRAL = "I only work in private messages: please write to me directly."


def db(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'world.sqlite3'}"


async def start(tmp_path: Path, **options: Any) -> tuple[ConsoleWorld, list[Any]]:
    """A world that records every update the emulator delivers to the bot (its events)."""
    world = await ConsoleWorld.start(db_url=db(tmp_path), now=NOW, seed=False, **options)
    seen: list[Any] = []
    feed = world.app.dispatcher.feed_update

    async def recording(bot: Bot, update: Update, **kwargs: Any) -> Any:
        seen.append(update.event)
        return await feed(bot, update, **kwargs)

    world.app.dispatcher.feed_update = recording  # type: ignore[method-assign]
    return world, seen


async def already_in(world: ConsoleWorld, chat_id: int, kind: str) -> Chat:
    """A group the bot is a member of without having been told (no update delivered)."""
    chat = await open_group(world.emulator, chat_id, kind)
    world.users.bot_added(world.user_id, chat)  # the update body is dropped, not fed
    await world.emulator.flush()
    return chat


def neutral(world: ConsoleWorld) -> str:
    """The guard's one line in a group, in the console user's language (ru)."""
    return str(world.app.i18n.gettext(NEUTRAL, locale="ru"))


def test_parse_chat_lines() -> None:
    assert (parse("!chat group -1001").kind, parse("!chat group -1001").number) == ("chat", -1001)
    assert parse("!chat supergroup -1001234567890").arg == "supergroup"
    assert parse("!chat channel -100777").arg == "channel"
    assert (parse("!chat private").kind, parse("!chat private").arg) == ("chat", "private")
    for bad in ("!chat", "!chat group", "!chat group 1001", "!chat forum -1", "!chat group x"):
        assert parse(bad).kind == "invalid", bad
    assert parse("!help").kind == "help" and parse("!help me").kind == "invalid"


@pytest.mark.parametrize("transport", ["session", "http"])
async def test_chat_group_adds_the_bot_and_sends_lines_there(
    tmp_path: Path, transport: str
) -> None:
    world, seen = await start(tmp_path, transport=transport)
    try:
        out = await world.line("!chat group -1001")
        assert out == (
            "@1001 > !chat group -1001\n  + the bot joined -1001\n<@-1001 (the bot left the chat)"
        )  # the bot, told it was added, leaves at once
        [added] = seen
        assert isinstance(added, ChatMemberUpdated)
        assert (added.chat.id, added.chat.type, added.from_user.id) == (-1001, "group", 1001)
        assert (added.old_chat_member.status, added.new_chat_member.status) == ("left", "member")
        assert added.new_chat_member.user.id == world.emulator.bot_id
        assert not world.emulator.chats[-1001].bot_member

        await already_in(world, -1002, "group")
        out = await world.line("!chat group -1002")
        assert out == "@1001 > !chat group -1002"  # already a member: not added again
        out = await world.line("hello")  # delivered to the group; the bot's answer goes there
        assert out == f"@1001 > hello\n<@-1002 {neutral(world)}"
        assert len(seen) == 2 and isinstance(seen[1], Message)
        assert (seen[1].chat.id, seen[1].text) == (-1002, "hello")
        chat = world.emulator.chats[-1002]
        sent_by_user = [m.message for m in chat.messages.values() if m.message.get("text")]
        assert sent_by_user[0]["from"]["id"] == 1001
        assert sent_by_user[0]["chat"] == {"id": -1002, "type": "group", "title": "Group -1002"}
        await world.bot.send_message(-1002, "в группу")
        await world.line("!expect в группу")  # !expect reads the current chat
        await world.line("!chat private")
        with pytest.raises(ScriptError, match="in the last message to @1001"):
            await world.line("!expect в группу")
        assert "+ the bot joined" not in await world.line("!chat group -1002")  # only once
        assert len(seen) == 2
    finally:
        await world.close()


async def test_bot_messages_to_a_group_print_with_its_id(tmp_path: Path) -> None:
    world, _seen = await start(tmp_path)
    try:
        await already_in(world, -1001234567890, "supergroup")
        out = await world.line("!chat supergroup -1001234567890")
        assert out == "@1001 > !chat supergroup -1001234567890"
        assert f"<@-1001234567890 {neutral(world)}" in await world.line("hello")
        assert await world.line("again") == "@1001 > again"  # one neutral line per 10 minutes
        await world.bot.send_message(-1001234567890, "Напишите мне в личные сообщения.")
        out = await world.line("!chat private")  # what the bot sent meanwhile prints here
        assert "<@-1001234567890 Напишите мне в личные сообщения." in out
    finally:
        await world.close()


async def test_channel_lines_are_channel_posts(tmp_path: Path) -> None:
    world, seen = await start(tmp_path)
    try:
        out = await world.line("!chat channel -100777")
        assert out.endswith("+ the bot joined -100777\n<@-100777 (the bot left the chat)")
        [added] = seen
        assert isinstance(added, ChatMemberUpdated)
        assert added.new_chat_member.status == "administrator"  # a bot sees posts as an admin
        assert "not delivered: the bot is not in -100777" in await world.line("after it left")

        await already_in(world, -100778, "channel")
        await world.line("!chat channel -100778")
        assert await world.line("Мои записи") == "@1001 > Мои записи"  # the bot ignores posts
        _added, post = seen
        assert isinstance(post, Message)
        assert (post.chat.type, post.text, post.from_user) == ("channel", "Мои записи", None)
        assert post.sender_chat is not None and post.sender_chat.id == -100778
    finally:
        await world.close()


async def test_after_leave_chat_nothing_is_delivered_until_added_again(tmp_path: Path) -> None:
    world, seen = await start(tmp_path)
    try:
        await already_in(world, -1002, "group")
        await world.line("!chat group -1002")
        assert await world.bot.leave_chat(-1002) is True
        assert "<@-1002 (the bot left the chat)" in await world.line("hello")
        assert seen == []  # "hello" went nowhere: the bot is not in the group

        assert "<@-1001 (the bot left the chat)" in await world.line("!chat group -1001")
        assert len(seen) == 1  # only the bot's own my_chat_member
        assert "(not delivered: the bot is not in -1001)" in await world.line("again")
        assert len(seen) == 1
        with pytest.raises(TelegramForbiddenError, match="bot is not a member of the group chat"):
            await world.bot.send_message(-1001, "x")
        with pytest.raises(TelegramForbiddenError, match="bot is not a member of the group chat"):
            await world.bot.leave_chat(-1001)
        world.emulator.drain()
        await world.line("!chat private")
        out = await world.line("!chat group -1001")
        assert "+ the bot joined -1001" in out and "<@-1001 (the bot left the chat)" in out
        assert len(seen) == 2 and isinstance(seen[1], ChatMemberUpdated)
    finally:
        await world.close()


async def test_group_membership_persists_across_runs(tmp_path: Path) -> None:
    world, _seen = await start(tmp_path)
    await already_in(world, -1001, "group")
    await world.line("!chat group -1001")
    await world.bot.send_message(-1001, "before")
    assert "(the bot left the chat)" in await world.line("!chat channel -100777")
    await world.line("!chat private")
    world = await world.restart()
    try:
        assert "joined" not in await world.line("!chat group -1001")  # still a member
        assert world.last_text(-1001) == "before"  # and its history is back
        out = await world.line("!chat channel -100777")
        assert "+ the bot joined -100777" in out  # it had left
        assert "<@-100777 (the bot left the chat)" in out  # and the new run's bot leaves too
        with pytest.raises(ScriptError, match="is a group, not a channel"):
            await world.line("!chat channel -1001")
    finally:
        await world.close()


async def test_bot_cannot_write_to_an_unknown_group(tmp_path: Path) -> None:
    world, _seen = await start(tmp_path)
    try:
        with pytest.raises(Exception, match="chat not found"):
            await world.bot.send_message(-42, "x")
    finally:
        await world.close()
