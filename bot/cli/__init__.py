"""Operator commands of ``python -m bot``: import-fhir, export-fhir, backup, restore, staff, stats.

Each has ``--help``, prints progress on long work and ends with one summary
line; the exit code is 0 on success, 1 on a refusal (bad input, rejected
resources), 2 when the command cannot run here (e.g. backup on PostgreSQL).
"""

from __future__ import annotations

import argparse
from typing import Any

COMMANDS = ("import-fhir", "export-fhir", "backup", "restore", "staff", "stats")


def add_commands(sub: Any) -> None:
    """Add the operator subcommands to the ``python -m bot`` parser."""
    p = sub.add_parser(
        "import-fhir",
        help="load a clinic's schedule from FHIR R4 (Bundle, resource or NDJSON files)",
        description="Organization, Location, Practitioner, HealthcareService, PractitionerRole,"
        " Schedule and Slot into the local source; same ids update; any rejected resource"
        " → nothing is written.",
    )
    p.add_argument("path", help="a .json/.ndjson file or a folder of them")
    p.add_argument("--region", default="msk", help="region id of the clinics (default msk)")
    p.add_argument("--tz", default="Europe/Moscow", help="IANA zone of the clinics")

    p = sub.add_parser("export-fhir", help="write appointments as a FHIR R4 Bundle")
    p.add_argument("--since", required=True, help="date (YYYY-MM-DD) or ISO date-time")
    p.add_argument("--out", help="file to write (default: standard output)")

    p = sub.add_parser("backup", help="copy the SQLite database online (PostgreSQL: pg_dump)")
    p.add_argument("dest", help="the backup file to write")

    p = sub.add_parser("restore", help="replace the SQLite database with a backup")
    p.add_argument("src", help="a file written by backup")
    p.add_argument("--yes", action="store_true", help="really overwrite the current database")

    p = sub.add_parser("staff", help="clinic staff kept in the database (plus ZAPIS_STAFF)")
    staff = p.add_subparsers(dest="staff_command", required=True)
    add = staff.add_parser("add", help="give a Telegram user a role in a clinic")
    add.add_argument("user_id", type=int)
    add.add_argument("--clinic", type=int, required=True, help="our clinic id")
    add.add_argument("--role", choices=["registrar", "doctor", "admin"], default="registrar")
    rm = staff.add_parser("remove", help="take the rights away (in one clinic or all)")
    rm.add_argument("user_id", type=int)
    rm.add_argument("--clinic", type=int, help="only this clinic")
    staff.add_parser("list", help="everyone with rights, from the database")

    p = sub.add_parser("stats", help="bookings, cancellations, no-shows, outbox backlog")
    p.add_argument("--since", help="only changes since this date (YYYY-MM-DD)")


async def run(args: argparse.Namespace) -> int:
    from bot.cli.commands import dispatch

    return await dispatch(args)
