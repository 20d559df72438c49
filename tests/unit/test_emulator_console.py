"""The console engine (ConsoleWorld) and the CLI: lines, strict mode, debug, persistence, clock."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from bot.app import ScheduledJob
from emulator.harness import ConsoleWorld, ScriptError
from emulator.script import parse

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # 09:00 in Moscow
ROOT = Path(__file__).resolve().parents[2]


def db(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'world.sqlite3'}"


def keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text="Да", callback_data="yes:1"),
                InlineKeyboardButton(text="Нет", callback_data="no:1"),
            ],
            [InlineKeyboardButton(text="Сайт", url="https://example.org")],
        ]
    )


def test_parse_lines() -> None:
    assert parse("# c").kind == parse("").kind == "noop"
    assert parse("@2002").number == 2002
    assert (parse("[Да]").kind, parse("[Да]").arg) == ("press", "Да")
    assert (parse("[~Запис]").kind, parse("[~Запис]").arg) == ("press_part", "Запис")
    assert (parse("[#3]").kind, parse("[#3]").number) == ("press_index", 3)
    assert (
        parse("!contact +79161234567 2002").arg,
        parse("!contact +79161234567 2002").number,
    ) == (
        "+79161234567",
        2002,
    )
    assert parse("!bogus").kind == "invalid"
    assert parse("Иванов Иван").kind == "text"


@pytest.mark.parametrize("transport", ["session", "http"])
async def test_text_before_registration(tmp_path: Path, transport: str) -> None:
    world = await ConsoleWorld.start(db_url=db(tmp_path), now=NOW, transport=transport)
    try:
        out = await world.run("hello\n!expect /start")
        assert out.splitlines()[0] == "@1001 > hello"
        assert out.splitlines()[1].startswith("<@1001 ")
        assert "/start" in world.last_text()
    finally:
        await world.close()


async def test_buttons_debug_and_strict_failures(tmp_path: Path) -> None:
    world = await ConsoleWorld.start(db_url=db(tmp_path), now=NOW, debug=True, lang="en")
    try:
        await world.bot.send_message(1001, "Подтвердить?", reply_markup=keyboard())
        assert world.buttons() == [[("Да", "yes:1"), ("Нет", "no:1")], [("Сайт", None)]]
        out = await world.line("[Да]")
        assert "<@1001 Подтвердить?" in out  # what the bot sent meanwhile prints first
        assert "  [Да ⟨yes:1⟩] [Нет ⟨no:1⟩]" in out
        assert "  [Сайт ⟨https://example.org⟩]" in out
        assert "  ! This button is out of date." in out  # the menu's stale-button answer
        await world.line("[~Не]")
        await world.line("[#2]")
        await world.line("!callback forged:99")
        with pytest.raises(ScriptError, match=r"^@1001 > \[No such button\]\n!! no such button"):
            await world.line("[No such button]")
        with pytest.raises(ScriptError, match="!! unknown directive !nonsense"):
            await world.line("!nonsense")
        with pytest.raises(ScriptError, match="!! expected 'xyz'"):
            await world.line("!expect xyz")
        with pytest.raises(ScriptError, match="not a callback button"):
            await world.line("[Сайт]")
    finally:
        await world.close()


async def test_refused_request_fails_strict(tmp_path: Path) -> None:
    world = await ConsoleWorld.start(db_url=db(tmp_path), now=NOW)
    try:
        world.emulator.blocked.add(1001)  # every answer to 1001 is refused with 403
        with pytest.raises(ScriptError, match=r"!! .*403 Forbidden: bot was blocked by the user"):
            await world.line("hello")
    finally:
        await world.close()


async def test_reply_keyboard_and_contact(tmp_path: Path) -> None:
    world = await ConsoleWorld.start(db_url=db(tmp_path), now=NOW)
    try:
        markup = ReplyKeyboardMarkup(
            keyboard=[
                [KeyboardButton(text="Поделиться", request_contact=True)],
                [KeyboardButton(text="Меню")],
            ]
        )
        await world.bot.send_message(1001, "Телефон?", reply_markup=markup)
        assert world.reply_keyboard() == [["Поделиться"], ["Меню"]]
        out = await world.line("[Поделиться]")
        assert "  ⌨ [Поделиться ☎]" in out and "  ⌨ [Меню]" in out
        chat = world.emulator.chats[1001]
        shared = [m.message["contact"] for m in chat.messages.values() if "contact" in m.message]
        assert shared == [
            {"phone_number": "+79000001001", "first_name": "User1001", "user_id": 1001}
        ]
        await world.line("!contact +79161234567 2002")
        shared = [m.message["contact"] for m in chat.messages.values() if "contact" in m.message]
        assert shared[-1]["user_id"] == 2002 and shared[-1]["phone_number"] == "+79161234567"
        await world.line("[Меню]")  # a reply button sends its text
        assert chat.messages[max(chat.messages) - 1].message.get("text") == "Меню"
    finally:
        await world.close()


async def test_files_from_the_user(tmp_path: Path) -> None:
    (tmp_path / "referral.pdf").write_bytes(b"%PDF-1.4 demo")
    world = await ConsoleWorld.start(db_url=db(tmp_path), now=NOW)
    world.base_dir = tmp_path  # as the console does for a script's folder
    try:
        await world.run("!file referral.pdf\n!photo referral.pdf")
        chat = world.emulator.chats[1001]
        sent = [m.message for m in chat.messages.values() if not m.out]
        assert sent[0]["document"]["file_name"] == "referral.pdf"
        assert sent[0]["document"]["file_size"] == 13 and "photo" in sent[1]
        file = await world.bot.get_file(sent[0]["document"]["file_id"])  # the bot can download it
        assert file.file_path is not None
        with pytest.raises(ScriptError, match="no such file"):
            await world.line("!file missing.pdf")
    finally:
        await world.close()


async def test_history_persists_across_runs(tmp_path: Path) -> None:
    first = await ConsoleWorld.start(db_url=db(tmp_path), now=NOW, transport="http")
    sent = await first.bot.send_message(1001, "Подтвердить?", reply_markup=keyboard())
    await first.line("@1001")
    await first.close()

    second = await ConsoleWorld.start(db_url=db(tmp_path), now=NOW, transport="http")
    second = await second.restart()  # the same, through the harness's own restart
    try:
        out = await second.line("[Да]")  # a button printed by the earlier run
        assert "  ! Эта кнопка устарела" in out or "  ! This button is out of date." in out
        assert "Подтвердить?" in second.last_text()  # history reloaded after the restart
        later = await second.bot.send_message(1001, "next")
        assert later.message_id == sent.message_id + 1  # ids continue in the same chat
    finally:
        await second.close()


async def test_clock_runs_jobs_in_order_and_persists(tmp_path: Path) -> None:
    world = await ConsoleWorld.start(db_url=db(tmp_path), now=NOW)
    runs: list[datetime] = []

    async def tick(now: datetime) -> None:
        runs.append(now)
        await world.bot.send_message(2002, f"tick {now:%H:%M}")

    world.app.jobs.append(ScheduledJob("tick", 60, tick))
    try:
        out = await world.line("!clock +3m")
        assert [line for line in out.splitlines() if line.startswith("<@2002")] == [
            "<@2002 tick 06:01",
            "<@2002 tick 06:02",
            "<@2002 tick 06:03",
        ]
        await world.line("!clock 2026-12-01T10:00")  # Moscow time, the bot's default zone
        assert world.clock.now() == datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
        assert runs[-1] == world.clock.now()
        assert (await world.line("!clock +1h")).endswith("  ⏱ 2026-12-01 11:00 MSK")
        with pytest.raises(ScriptError, match="only moves forward"):
            await world.line("!clock 2026-12-01T09:00")
    finally:
        await world.close()
    again = await ConsoleWorld.start(db_url=db(tmp_path), now=NOW)
    try:
        assert again.clock.now() == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    finally:
        await again.close()


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "console", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_cli_strict_exit_code(tmp_path: Path) -> None:
    script = tmp_path / "s.txt"
    script.write_text("# a comment\nhello\n[No such button]\nnever reached\n", encoding="utf-8")
    done = run_cli("--script", str(script), "--strict", "--now", "2026-12-01T09:00:00+03:00")
    assert done.returncode == 2, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "@1001 > hello"
    assert lines[-1].startswith("!! no such button [No such button]")
    assert "never reached" not in done.stdout


async def test_a_script_that_cannot_be_read_is_one_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from emulator.console import run_console

    binary = tmp_path / "b.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    for path, reason in ((tmp_path / "missing.txt", "No such file"), (binary, "not UTF-8")):
        args = argparse.Namespace(script=str(path), db=db(tmp_path))
        assert await run_console(args) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"!! cannot read the script {path}: {reason}")
        assert "Traceback" not in err


async def test_run_console_without_strict_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from emulator.console import run_console

    script = tmp_path / "s.txt"
    script.write_text("hello\n[Nope]\n!bogus\nhello\n", encoding="utf-8")
    args = argparse.Namespace(
        script=str(script),
        strict=False,
        debug=False,
        now="2026-12-01T09:00:00+03:00",
        db=db(tmp_path),
        lang="en",
    )
    assert await run_console(args) == 0
    out = capsys.readouterr().out
    assert out.count("@1001 > hello") == 2
    assert "!! no such button [Nope]" in out and "!! unknown directive !bogus" in out
