"""The operator commands themselves (see bot/cli/__init__.py for the parser)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.settings import Settings, load_settings
from storage.crypto import PersonalDataCipher
from storage.uow import UnitOfWorkFactory


def parse_since(value: str, tz: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ZoneInfo(tz))


def say(text: str) -> None:
    """Progress goes to standard error, so standard output can carry a Bundle."""
    print(text, file=sys.stderr, flush=True)


async def _uow(settings: Settings) -> UnitOfWorkFactory:
    from bot.keys import encryption_key
    from storage.db import create_engine
    from storage.migrate import upgrade

    engine = create_engine(settings.database_url, inloop=settings.sqlite_driver == "inloop")
    await upgrade(engine)
    return UnitOfWorkFactory(
        engine, PersonalDataCipher(encryption_key(settings, settings.database_url))
    )


async def dispatch(args: argparse.Namespace) -> int:
    settings = load_settings()
    if args.command in ("backup", "restore"):
        from bot.cli.backup import backup, restore

        if args.command == "backup":
            return await backup(settings.database_url, Path(args.dest))
        return await restore(settings.database_url, Path(args.src), confirmed=args.yes)
    uow = await _uow(settings)
    try:
        if args.command == "import-fhir":
            return await import_fhir(uow, args)
        if args.command == "export-fhir":
            return await export_fhir(uow, args, settings.default_tz)
        if args.command == "staff":
            return await staff(uow, args)
        if args.command == "stats":
            return await stats(uow, args, settings.default_tz)
    finally:
        await uow.engine.dispose()
    raise SystemExit(f"unknown command {args.command}")


async def import_fhir(uow: UnitOfWorkFactory, args: argparse.Namespace) -> int:
    from bot.fhir.importer import Options
    from bot.fhir.importer import import_fhir as run_import
    from bot.fhir.read import ReadError

    path = Path(args.path)
    if not path.exists():
        say(f"import-fhir: {path} does not exist")
        return 1
    try:
        report = await run_import(uow, path, Options(args.region, args.tz), progress=say)
    except ReadError as exc:
        say(f"import-fhir: {exc}; nothing imported")
        return 1
    for line in report.rejected:
        say(f"rejected {line}")
    print(report.line())
    return 1 if report.rejected else 0


async def export_fhir(uow: UnitOfWorkFactory, args: argparse.Namespace, tz: str) -> int:
    from bot.fhir.export import export_fhir as run_export

    since = parse_since(args.since, tz)
    text, count = await run_export(uow, since, datetime.now(UTC))
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"export-fhir: {count} appointments since {since:%Y-%m-%d} written to {args.out}")
    else:
        print(text)
        say(f"export-fhir: {count} appointments since {since:%Y-%m-%d}")
    return 0


async def staff(uow_factory: UnitOfWorkFactory, args: argparse.Namespace) -> int:
    from storage.sources.ops import OpsRepository

    async with uow_factory() as uow:
        repo = OpsRepository(uow.conn, uow.cipher)
        if args.staff_command == "add":
            if not await repo.clinic_exists(args.clinic):
                print(f"staff: no clinic {args.clinic}")
                return 1
            added = await repo.add_staff(args.user_id, args.clinic, args.role, datetime.now(UTC))
            await uow.commit()
            verb = "added" if added else "updated"
            print(f"staff: {args.user_id} {verb} as {args.role} of clinic {args.clinic}")
            return 0
        if args.staff_command == "remove":
            gone = await repo.remove_staff(args.user_id, args.clinic)
            await uow.commit()
            print(f"staff: {gone} role(s) of {args.user_id} removed")
            return 0 if gone else 1
        rows = await repo.staff()
        for row in rows:
            print(f"{row.user_id}\tclinic {row.clinic_id}\t{row.role}")
        print(f"staff: {len(rows)} role(s)")
        return 0


async def stats(uow_factory: UnitOfWorkFactory, args: argparse.Namespace, tz: str) -> int:
    from storage.sources.ops import OpsRepository

    since = parse_since(args.since, tz) if args.since else None
    async with uow_factory() as uow:
        figures = await OpsRepository(uow.conn, uow.cipher).stats(since)
    print(figures.line())
    return 0
