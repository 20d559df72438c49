"""``python -m emulator``: the offline console (docs/console.md) on top of ConsoleWorld.

The CLI only reads lines and prints; every line is carried out by
emulator.harness.ConsoleWorld, the same engine the tests use. The console
talks to aiogram over the loopback HTTP transport (the real client path);
tests default to the in-process session (see emulator.session).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from pathlib import Path

from emulator.harness import ConsoleWorld, ScriptError
from emulator.setup import interactive_db_url
from emulator.sources import source_overrides, start_console_sources

BANNER = (
    "Zapis offline console. Type what a user would send; [Label] presses a button, "
    "@1002 switches user, !clock +1h moves time, Ctrl-D quits."
)


def _parse_now(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def _stdin_lines(prompt: bool) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    while True:
        if prompt:
            print("> ", end="", flush=True)
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        yield line.rstrip("\n")


async def _file_lines(lines: Iterable[str]) -> AsyncIterator[str]:
    for line in lines:
        yield line.rstrip("\n")


def _demo_history(args: argparse.Namespace, interactive: bool) -> bool:
    """--demo-history / --no-demo-history; unset: on interactively, off for --script
    (scripts expect the first booking to be № A-0000001)."""
    if getattr(args, "no_demo_history", False):
        return False
    return bool(getattr(args, "demo_history", False)) or interactive


async def run_console(args: argparse.Namespace) -> int:
    """Run the console; 0 when done, 2 when --strict stopped at a failing line."""
    script = getattr(args, "script", None)
    interactive = script is None
    script_lines: list[str] = []
    if script not in (None, "-"):  # read before the world starts: a wrong path is one line
        try:
            script_lines = Path(str(script)).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            print(f"!! cannot read the script {script}: {reason}", file=sys.stderr)
            return 2
    db_url = getattr(args, "db", None)
    if db_url is None and interactive:
        db_url = interactive_db_url()
    world = await ConsoleWorld.start(
        db_url=db_url,
        now=_parse_now(getattr(args, "now", None)),
        lang=getattr(args, "lang", None) or "ru",
        strict=bool(getattr(args, "strict", False)),
        debug=bool(getattr(args, "debug", False)),
        transport=getattr(args, "transport", None) or "http",
        files_dir=getattr(args, "files", None),
        settings_overrides=source_overrides(getattr(args, "source", None)),
        demo_history=_demo_history(args, interactive),
    )
    try:
        await start_console_sources(world)  # issue 11: --source gorzdrav
        if interactive:
            print(BANNER)
            print(f"database: {world.db_url}")
            print(f"clock: {world.local_now():%Y-%m-%d %H:%M %Z}")
            if world.files is not None:
                print(f"files the bot sends: {world.files.folder}/")
            print("!help lists every directive.", flush=True)
            lines = _stdin_lines(prompt=sys.stdin.isatty())
        elif script == "-":
            lines = _stdin_lines(prompt=False)
        else:
            path = Path(str(script))
            world.base_dir = path.resolve().parent
            lines = _file_lines(script_lines)
        async for raw in lines:
            try:
                text = await world.line(raw)
            except ScriptError as exc:
                print(str(exc), flush=True)
                return 2
            if text:
                print(text, flush=True)
        return 0
    finally:
        await world.close()
