"""Parsing of console script lines (CONSOLE.md, "Script lines")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

_USER = re.compile(r"^@(\d+)$")
_DELTA = re.compile(r"^\+(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
DIRECTIVES = ("!contact", "!callback", "!file", "!photo", "!clock", "!expect")


@dataclass(frozen=True)
class Line:
    """One parsed line: ``kind`` and its argument(s)."""

    kind: str  # noop | user | text | press | press_part | press_index | contact | callback |
    # file | photo | clock | expect | invalid
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
        if name == "!contact" and rest:
            parts = rest.split()
            if len(parts) > 2 or (len(parts) == 2 and not parts[1].isdigit()):
                return Line("invalid", "usage: !contact [+PHONE [USER_ID]]")
            return Line("contact", parts[0], int(parts[1]) if len(parts) == 2 else 0)
        return Line(name[1:], rest)
    return Line("text", line)


def parse_delta(text: str) -> timedelta | None:
    """'+90m' -> 90 minutes; None when it is not a relative step."""
    m = _DELTA.match(text.strip())
    if m is None:
        return None
    return timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
