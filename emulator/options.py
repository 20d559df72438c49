"""The console's command-line options, declared once for argparse and for ``!help``.

Kept free of heavy imports: ``python -m bot`` builds its parser from this
table before it knows which command runs.
"""

from __future__ import annotations

import argparse
from typing import Any

# (flag, argparse keyword arguments); the help text is also ``!help``'s line.
OPTIONS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("--script", {"metavar": "FILE|-", "help": "run the lines of FILE (- for stdin) and exit"}),
    ("--strict", {"action": "store_true", "help": "stop at the first failing line, exit 2"}),
    ("--debug", {"action": "store_true", "help": "show each button's callback data ⟨data⟩"}),
    ("--now", {"metavar": "ISO8601", "help": "start of the virtual clock (default: now)"}),
    ("--db", {"metavar": "URL", "help": "database URL (default: a temporary SQLite file)"}),
    ("--lang", {"choices": ["ru", "en"], "help": "Telegram language of the users"}),
    ("--files", {"metavar": "DIR", "help": "save every file the bot sends as DIR/NNN-name"}),
    (
        "--demo-history",
        {
            "action": "store_true",
            "help": "a fresh database also gets @5001, a demo patient with past visits "
            "(the default without --script)",
        },
    ),
    (
        "--no-demo-history",
        {"action": "store_true", "help": "no @5001, even without --script"},
    ),
    (
        "--source",
        {
            "choices": ["local", "gorzdrav"],
            "default": "local",
            "help": "gorzdrav: region spb books through a fake Gorzdrav server on loopback",
        },
    ),
)


def add_console_arguments(parser: argparse.ArgumentParser) -> None:
    for flag, kwargs in OPTIONS:
        parser.add_argument(flag, **kwargs)


def option_help() -> list[tuple[str, str]]:
    """(usage, meaning) of every option, for ``!help``."""
    out = []
    for flag, kwargs in OPTIONS:
        if kwargs.get("action") == "store_true":
            usage = flag
        elif kwargs.get("action") is argparse.BooleanOptionalAction:
            usage = f"{flag} | --no-{flag[2:]}"
        elif "choices" in kwargs:
            usage = f"{flag} {'|'.join(kwargs['choices'])}"
        else:
            usage = f"{flag} {kwargs['metavar']}"
        out.append((usage, str(kwargs["help"])))
    return out
