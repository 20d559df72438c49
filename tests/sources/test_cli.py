"""Operator CLI: --help on each command, import/export FHIR, backup → restore → the same rows,
staff add|remove|list (merged into the running bot's staff), stats."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.cli import COMMANDS

BUNDLE = Path(__file__).parent / "fhir" / "clinic_bundle.json"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "zapis.sqlite3"
    monkeypatch.setenv("ZAPIS_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.delenv("ZAPIS_ENCRYPTION_KEY", raising=False)
    return path


def dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {
            t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables
        }


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    assert "usage: python -m bot " + command in capsys.readouterr().out


def test_import_export_backup_restore(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import-fhir", str(BUNDLE), "--region", "spb"]) == 0
    out = capsys.readouterr()
    assert "import-fhir: 1 Organization, 1 Location, 1 Practitioner" in out.out
    assert "read clinic_bundle.json: 9 resources so far" in out.err
    assert main(["import-fhir", str(BUNDLE), "--region", "spb"]) == 0  # idempotent
    assert "(0 new slots)" in capsys.readouterr().out

    bundle = tmp_path / "out.json"
    assert main(["export-fhir", "--since", "2020-01-01", "--out", str(bundle)]) == 0
    assert "export-fhir: 0 appointments since 2020-01-01" in capsys.readouterr().out
    assert '"resourceType": "Bundle"' in bundle.read_text(encoding="utf-8")

    backup = tmp_path / "backup.sqlite3"
    assert main(["backup", str(backup)]) == 0
    out = capsys.readouterr()
    assert out.out.startswith("backup: ") and " rows written to " in out.out
    assert "pages" in out.err
    before = dump(db)
    assert main(["staff", "add", "777", "--clinic", "1", "--role", "admin"]) == 0
    assert dump(db) != before
    assert main(["restore", str(backup)]) == 1  # not without --yes
    assert main(["restore", str(backup), "--yes"]) == 0
    assert dump(db) == before


def test_restore_refuses_what_is_not_a_database(db: Path, tmp_path: Path) -> None:
    assert main(["stats"]) == 0
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all" * 100)
    before = dump(db)
    assert main(["restore", str(junk), "--yes"]) == 1
    assert dump(db) == before


def test_staff_and_stats(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import-fhir", str(BUNDLE)]) == 0
    assert main(["staff", "add", "9001", "--clinic", "99"]) == 1  # no such clinic
    assert main(["staff", "add", "9001", "--clinic", "1"]) == 0
    assert main(["staff", "add", "9001", "--clinic", "1", "--role", "doctor"]) == 0
    capsys.readouterr()
    assert main(["staff", "list"]) == 0
    assert capsys.readouterr().out == "9001\tclinic 1\tdoctor\nstaff: 1 role(s)\n"
    assert main(["staff", "remove", "9001"]) == 0
    assert main(["staff", "remove", "9001"]) == 1
    capsys.readouterr()
    assert main(["stats", "--since", "2020-01-01"]) == 0
    assert capsys.readouterr().out == (
        "stats: 0 bookings, 0 cancellations, 0 no-shows, 0 completed, "
        "outbox backlog 0 pending / 0 failed\n"
    )


def test_broken_bundle_exits_1_with_the_line(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "b.json"
    broken.write_text(BUNDLE.read_text(encoding="utf-8").replace('"free"', '"maybe"', 1))
    assert main(["import-fhir", str(broken)]) == 1
    out = capsys.readouterr()
    assert "rejected b.json:" in out.err and "status 'maybe'" in out.err
    assert out.out == "import-fhir: 1 rejected, nothing imported\n"


async def test_database_staff_join_the_settings_at_start(engine, uow_factory) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from bot.cli.staff_load import merge_db_staff
    from bot.settings import StaffMember, load_settings
    from storage.sources.ops import OpsRepository
    from tests.storage.builders import World

    world = await World.build(engine, n_slots=1, n_users=1)
    clinic = world.clinic_id if hasattr(world, "clinic_id") else 1
    async with uow_factory() as uow:
        await OpsRepository(uow.conn, uow.cipher).add_staff(5, clinic, "doctor", datetime.now(UTC))
        await uow.commit()
    settings = load_settings(staff={"6": {"clinics": [clinic], "role": "admin"}})
    app = SimpleNamespace(uow=uow_factory, settings=settings)
    assert await merge_db_staff(app) == 1  # type: ignore[arg-type]
    assert settings.staff[5] == StaffMember(clinics=[clinic], role="doctor")
    assert settings.staff[6].role == "admin"
