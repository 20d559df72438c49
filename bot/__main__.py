"""Command line: python -m bot console | polling | webhook | cluster | migrate | seed-demo | gen-key |
import-fhir | export-fhir | backup | restore | staff | stats (bot/cli/)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from bot.settings import StartupError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Zapis bot")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser(
        "console",
        help="offline console against the Bot API emulator (= python -m emulator [options])",
        add_help=False,
    )

    sub.add_parser("polling", help="run against real Telegram with long polling")
    sub.add_parser("webhook", help="run an aiohttp webhook server")
    cluster = sub.add_parser(
        "cluster", help="N webhook processes on PostgreSQL + Redis behind the emulated Telegram"
    )
    from bot.cluster.launcher import add_arguments

    add_arguments(cluster)
    sub.add_parser("migrate", help="apply database migrations")
    seed = sub.add_parser("seed-demo", help="load the demo world into an empty database")
    seed.add_argument("--now", help="the moment the demo schedule starts from, ISO 8601")
    sub.add_parser("gen-key", help="print a new encryption key")
    from bot.cli import add_commands

    add_commands(sub)  # import-fhir, export-fhir, backup, restore, staff, stats
    return parser


def console(argv: Sequence[str]) -> int:
    """``python -m bot console …`` is ``python -m emulator …`` in a new process: the console
    lives above bot in the layers, so the runtime package never imports it."""
    command = [sys.executable, "-m", "emulator", *argv]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, command)
    return 1  # not reached: execv replaces this process


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["console"]:
        return console(argv[1:])
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.command == "console" else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Alembic lists its plugins at INFO on every start: noise above a start-up error.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    try:
        if args.command == "gen-key":
            from storage.crypto import PersonalDataCipher

            print(PersonalDataCipher.generate_key())
            return 0
        from bot import cli

        if args.command in cli.COMMANDS:
            return asyncio.run(cli.run(args))
        from bot import runner

        return asyncio.run(runner.run(args))
    except StartupError as exc:  # a setting, the database, Redis, Telegram, the port: one line
        print(str(exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
