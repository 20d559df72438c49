"""Parsing of console script lines (docs/console.md, "Script lines")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

_USER = re.compile(r"^@(\d+)$")
_DELTA = re.compile(r"^\+(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
DIRECTIVES = (
    "!contact", "!callback", "!file", "!photo", "!clock", "!jobs", "!expect", "!chat", "!help",
)  # fmt: skip
CHAT_KINDS = ("group", "supergroup", "channel")
CHAT_USAGE = "usage: !chat group|supergroup|channel -ID, or !chat private"

# Every kind of line with one line of help each (``!help``; docs/console.md has the table).
HELP: tuple[tuple[str, str], ...] = (
    ("# text", "a comment (so is an empty line)"),
    ("@1001", "act as Telegram user 1001 from now on, in their private chat"),
    ("any other text", "a message from the current user (/start, Иванов Иван)"),
    ("[Label]", "press the button with exactly this label (inline or reply keyboard)"),
    ("[~part]", "press the first button whose label contains part"),
    ("[#N]", "press the N-th button of the newest message with buttons"),
    ("!contact [+PHONE [USER_ID]]", "share the own phone contact, or that one"),
    ("!callback DATA", "send a raw callback query with DATA from the newest inline keyboard"),
    ("!file PATH / !photo PATH", "send a document / photo from a local file"),
    ("!clock +90m|+25h|+3d|ISO", "move the virtual clock forward; due jobs run and print"),
    ("!jobs [NAME]", "run the jobs (or the one named: notifier, waitlist) once, now"),
    ("!expect TEXT", "fail unless the newest bot message in the current chat contains TEXT"),
    ("!chat group|supergroup|channel -ID", "send the following lines in that chat"),
    ("!chat private", "back to the user's private chat with the bot"),
    ("!help", "print this list"),
)


@dataclass(frozen=True)
class Line:
    """One parsed line: ``kind`` and its argument(s)."""

    kind: str  # noop | user | text | press | press_part | press_index | contact | callback |
    # file | photo | clock | jobs | expect | chat | help | invalid
    arg: str = ""
    number: int = 0


def parse(raw: str) -> Line:
    line = raw.strip()
    if not line or line.startswith("#"):
        return Line("noop")
    if m := _USER.match(line):
        return Line("user", number=int(m.group(1)))
    if line.startswith("[") and line.endswith("]") and len(line) > 2:
        inner = line[1:-1]
        if inner.startswith("~"):
            return Line("press_part", inner[1:])
        if inner.startswith("#") and inner[1:].isdigit():
            return Line("press_index", number=int(inner[1:]))
        return Line("press", inner)
    if line.startswith("!"):
        name, _, rest = line.partition(" ")
        rest = rest.strip()
        if name not in DIRECTIVES:
            return Line("invalid", f"unknown directive {name}")
        if name in ("!callback", "!file", "!photo", "!clock", "!expect") and not rest:
            return Line("invalid", f"{name} needs an argument")
        if name == "!chat":
            return _chat(rest.split())
        if name == "!help" and rest:
            return Line("invalid", "!help takes no argument")
        if name == "!contact" and rest:
            parts = rest.split()
            if len(parts) > 2 or (len(parts) == 2 and not parts[1].isdigit()):
                return Line("invalid", "usage: !contact [+PHONE [USER_ID]]")
            return Line("contact", parts[0], int(parts[1]) if len(parts) == 2 else 0)
        return Line(name[1:], rest)
    return Line("text", line)


def _chat(parts: list[str]) -> Line:
    """``!chat private`` -> Line("chat", "private"); ``!chat group -1001`` -> number -1001."""
    if parts == ["private"]:
        return Line("chat", "private")
    if len(parts) != 2 or parts[0] not in CHAT_KINDS:
        return Line("invalid", CHAT_USAGE)
    try:
        chat_id = int(parts[1])
    except ValueError:
        return Line("invalid", CHAT_USAGE)
    if chat_id >= 0:
        return Line("invalid", f"a {parts[0]} id is negative ({CHAT_USAGE})")
    return Line("chat", parts[0], chat_id)


def help_lines(options: list[tuple[str, str]]) -> list[str]:
    """``!help``: every line kind, then every command-line option, one line each."""
    width = max(len(usage) for usage, _ in [*HELP, *options])
    out = ["Script lines:"]
    out += [f"  {usage:<{width}}  {meaning}" for usage, meaning in HELP]
    out.append("Options (python -m emulator ...):")
    out += [f"  {usage:<{width}}  {meaning}" for usage, meaning in options]
    return out


def parse_delta(text: str) -> timedelta | None:
    """'+90m' -> 90 minutes; None when it is not a relative step."""
    m = _DELTA.match(text.strip())
    if m is None:
        return None
    return timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
