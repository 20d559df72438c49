"""``python -m emulator [options]``: the offline console (docs/console.md).

The console's own entry point: ``./dev.sh console`` runs it, and ``python -m bot
console`` hands over to it (a new process), so the runtime package never imports
the emulator — the layers ``emulator > bot > flows > storage > domain``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from bot.settings import StartupError
from emulator.options import add_console_arguments


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m emulator",
        description="Zapis offline console against the Telegram Bot API emulator",
    )
    add_console_arguments(parser)  # one table, also printed by the console's !help
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    from emulator.console import run_console

    try:
        return asyncio.run(run_console(args))
    except StartupError as exc:  # the database, a setting: one line, not a traceback
        print(str(exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
