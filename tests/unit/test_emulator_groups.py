"""The console's ``!chat``: groups, supergroups and channels as Telegram delivers them.

Regression for issue 7 (Console): the console had private chats only, so no
test could show what the bot posts into a group a patient writes in.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiogram.exceptions import TelegramForbiddenError
from aiogram.types import ChatMemberUpdated, Message

from bot.emulator.harness import ConsoleWorld, ScriptError
from bot.emulator.script import parse

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def db(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'world.sqlite3'}"


async def start(tmp_path: Path, **options: Any) -> tuple[ConsoleWorld, list[Any]]:
    """A world whose dispatcher records the group updates before any flow sees them."""
    world = await ConsoleWorld.start(db_url=db(tmp_path), now=NOW, seed=False, **options)
    seen: list[Any] = []

    async def record(event: Any) -> None:
        seen.append(event)

    world.app.dispatcher.my_chat_member.register(record)
    world.app.dispatcher.channel_post.register(record)
    return world, seen


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
        assert out == "@1001 > !chat group -1001\n  + the bot joined -1001"
        [added] = seen
        assert isinstance(added, ChatMemberUpdated)
        assert (added.chat.id, added.chat.type, added.from_user.id) == (-1001, "group", 1001)
        assert (added.old_chat_member.status, added.new_chat_member.status) == ("left", "member")
        assert added.new_chat_member.user.id == world.emulator.bot_id

        await world.line("hello")  # no group flow yet: the bot's usual answer goes to the group
        chat = world.emulator.chats[-1001]
        sent_by_user = [m.message for m in chat.messages.values() if m.message.get("text")]
        assert sent_by_user[0]["from"]["id"] == 1001
        assert sent_by_user[0]["chat"] == {"id": -1001, "type": "group", "title": "Group -1001"}
        await world.bot.send_message(-1001, "в группу")
        out = await world.line("!expect в группу")  # !expect reads the current chat
        await world.line("!chat private")
        with pytest.raises(ScriptError, match="in the last message to @1001"):
            await world.line("!expect в группу")
        assert "+ the bot joined" not in await world.line("!chat group -1001")  # only once
        assert len(seen) == 1
    finally:
        await world.close()


async def test_bot_messages_to_a_group_print_with_its_id(tmp_path: Path) -> None:
    world, _seen = await start(tmp_path)
    try:
        await world.line("!chat supergroup -1001234567890")
        await world.bot.send_message(-1001234567890, "Напишите мне в личные сообщения.")
        out = await world.line("!chat private")  # what the bot sent meanwhile prints here
        assert "<@-1001234567890 Напишите мне в личные сообщения." in out
    finally:
        await world.close()


async def test_channel_lines_are_channel_posts(tmp_path: Path) -> None:
    world, seen = await start(tmp_path)
    try:
        await world.line("!chat channel -100777")
        await world.line("Мои записи")
        added, post = seen
        assert added.new_chat_member.status == "administrator"  # a bot sees posts as an admin
        assert isinstance(post, Message)
        assert (post.chat.type, post.text, post.from_user) == ("channel", "Мои записи", None)
        assert post.sender_chat is not None and post.sender_chat.id == -100777
    finally:
        await world.close()


async def test_after_leave_chat_nothing_is_delivered_until_added_again(tmp_path: Path) -> None:
    world, seen = await start(tmp_path)
    try:
        await world.line("!chat group -1001")
        assert await world.bot.leave_chat(-1001) is True
        assert "<@-1001 (the bot left the chat)" in await world.line("hello")
        assert len(seen) == 1  # "hello" went nowhere: the bot is not in the group
        assert "(not delivered: the bot is not in -1001)" in await world.line("again")
        with pytest.raises(TelegramForbiddenError, match="bot is not a member of the group chat"):
            await world.bot.send_message(-1001, "x")
        world.emulator.drain()
        await world.line("!chat private")
        assert "+ the bot joined -1001" in await world.line("!chat group -1001")
        assert len(seen) == 2
    finally:
        await world.close()


async def test_group_membership_persists_across_runs(tmp_path: Path) -> None:
    world, _seen = await start(tmp_path)
    await world.line("!chat group -1001")
    await world.bot.send_message(-1001, "before")
    await world.line("!chat channel -100777")
    await world.bot.leave_chat(-100777)
    await world.line("!chat private")
    world = await world.restart()
    try:
        assert "joined" not in await world.line("!chat group -1001")  # still a member
        assert world.last_text(-1001) == "before"  # and its history is back
        assert "+ the bot joined -100777" in await world.line("!chat channel -100777")  # had left
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
