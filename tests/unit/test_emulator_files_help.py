"""The console's ``--files DIR`` and ``!help`` (issue 7, Console).

``--files``: a person could not open the PDF or import the .ics the bot sent;
the console only printed their names. ``!help``: nothing listed the
directives inside the console.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiogram.types import BufferedInputFile

from emulator.__main__ import build_parser
from emulator.harness import ConsoleWorld
from emulator.script import DIRECTIVES

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


async def test_files_saves_every_sent_file_numbered_in_order(tmp_path: Path) -> None:
    folder = str(tmp_path / "out")  # created on the first file
    world = await ConsoleWorld.start(
        db_url=f"sqlite+aiosqlite:///{tmp_path / 'w.sqlite3'}", now=NOW, files_dir=folder
    )
    try:
        await world.bot.send_document(1001, BufferedInputFile(b"BEGIN:VCALENDAR", "visit.ics"))
        await world.bot.send_document(2002, BufferedInputFile(b"%PDF-1.4", "visit.pdf"))
        await world.bot.send_photo(1001, BufferedInputFile(b"\xff\xd8jpeg", "x.jpg"))
        await world.bot.send_document(1001, BufferedInputFile(b"again", "visit.ics"))
        out = await world.line("@1001")
        assert f"  📎 visit.ics (15 bytes) → {folder}/001-visit.ics" in out
        assert f"  📎 visit.pdf (8 bytes) → {folder}/002-visit.pdf" in out  # any chat
        assert f"  📎 photo.jpg (6 bytes) → {folder}/003-photo.jpg" in out
        assert f"  📎 visit.ics (5 bytes) → {folder}/004-visit.ics" in out  # same name: kept
        saved = sorted(p.name for p in Path(folder).iterdir())
        assert saved == ["001-visit.ics", "002-visit.pdf", "003-photo.jpg", "004-visit.ics"]
        assert (Path(folder) / "001-visit.ics").read_bytes() == b"BEGIN:VCALENDAR"
        assert (Path(folder) / "004-visit.ics").read_bytes() == b"again"
    finally:
        await world.close()


async def test_without_files_nothing_is_saved(tmp_path: Path) -> None:
    world = await ConsoleWorld.start(
        db_url=f"sqlite+aiosqlite:///{tmp_path / 'w.sqlite3'}", now=NOW
    )
    try:
        await world.bot.send_document(1001, BufferedInputFile(b"x", "a.ics"))
        assert "  📎 a.ics (1 bytes)\n" in (await world.line("@1001")) + "\n"
        assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("w.")) == []
    finally:
        await world.close()


def console_options() -> list[str]:
    """The options of ``python -m emulator`` (``python -m bot console`` hands over to it)."""
    parser = build_parser()
    return [flag for a in parser._actions for flag in a.option_strings if flag.startswith("--")]


async def test_help_lists_every_directive_and_option_one_line_each(tmp_path: Path) -> None:
    assert build_parser().parse_args(["--files", "out"]).files == "out"
    world = await ConsoleWorld.start(
        db_url=f"sqlite+aiosqlite:///{tmp_path / 'w.sqlite3'}", now=NOW
    )
    try:
        lines = (await world.line("!help")).splitlines()[1:]
    finally:
        await world.close()
    for directive in DIRECTIVES:
        assert any(line.strip().startswith(directive) or f" {directive}" in line for line in lines)
    for option in console_options():
        if option != "--help":
            assert [line for line in lines if line.strip().startswith(option + " ")
                    or line.strip().split()[0] == option], option  # fmt: skip
    for kind in ("@1001", "[Label]", "[~part]", "[#N]", "!chat private"):
        assert any(line.strip().startswith(kind) for line in lines), kind


async def test_cli_files_option_reaches_the_world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from emulator import console

    seen: dict[str, Any] = {}
    start = ConsoleWorld.start

    async def spy(**kwargs: Any) -> ConsoleWorld:
        seen.update(kwargs)
        return await start(**kwargs)

    monkeypatch.setattr(console.ConsoleWorld, "start", spy)
    script = tmp_path / "s.txt"
    script.write_text("# nothing\n", encoding="utf-8")
    args = build_parser().parse_args(
        ["--script", str(script), "--files", str(tmp_path / "out"),
         "--db", f"sqlite+aiosqlite:///{tmp_path / 'w.sqlite3'}"]
    )  # fmt: skip
    assert await console.run_console(args) == 0
    assert seen["files_dir"] == str(tmp_path / "out")
