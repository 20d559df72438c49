"""The rules behind «Документы» and «Справки», without a chat: what a file must be (name,
size, magic bytes), titles, the certificate status machine and when a push may go out."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from domain.certificates import (
    TRANSITIONS,
    CertificateRefused,
    CertStatus,
    check_transition,
    clean_text,
    push_due,
)
from domain.documents import (
    DocType,
    DocumentRefused,
    clean_title,
    content_type,
    declared_type,
    sniff,
)
from domain.errors import InvalidTransition
from domain.quiet_hours import QuietWindow

FILES = Path(__file__).resolve().parents[1] / "e2e" / "files"
LIMIT = 10 * 1024 * 1024


@pytest.mark.parametrize(
    ("name", "kind"),
    [("blood-test.pdf", DocType.PDF), ("xray.jpg", DocType.JPG), ("ecg.png", DocType.PNG)],
)
def test_real_files_are_recognised_by_their_bytes(name: str, kind: DocType) -> None:
    data = (FILES / name).read_bytes()
    assert declared_type(name, len(data), LIMIT) is kind
    assert content_type(data, kind, LIMIT) is kind


def test_names_and_sizes_refused_before_downloading() -> None:
    assert declared_type("СКАН.JPEG", 10, LIMIT) is DocType.JPG
    assert declared_type("", 10, LIMIT) is None  # a photo: the bytes decide
    for name, size, reason in [
        ("setup.exe", 10, "type"),
        ("report.docx", 10, "type"),
        ("scan.pdf", LIMIT + 1, "size"),
        ("scan.pdf", 0, "empty"),
    ]:
        with pytest.raises(DocumentRefused) as caught:
            declared_type(name, size, LIMIT)
        assert caught.value.reason == reason, name


def test_renamed_program_archive_and_mismatch_refused_by_content() -> None:
    for name in ("setup.pdf", "archive.zip"):
        with pytest.raises(DocumentRefused) as caught:
            content_type((FILES / name).read_bytes(), DocType.PDF, LIMIT)
        assert caught.value.reason == "content"
    with pytest.raises(DocumentRefused) as caught:
        content_type((FILES / "ecg.png").read_bytes(), DocType.PDF, LIMIT)
    assert (caught.value.reason, caught.value.found) == ("mismatch", "png")
    with pytest.raises(DocumentRefused):  # a "photo" holding a PDF is not a photo
        content_type((FILES / "blood-test.pdf").read_bytes(), None, LIMIT, photo=True)
    with pytest.raises(DocumentRefused) as caught:
        content_type(b"%PDF-" + b"0" * 100, None, 50)
    assert caught.value.reason == "size"
    assert sniff(b"GIF89a") is None


def test_titles() -> None:
    assert clean_title("  Анализ   крови ") == "Анализ крови"
    for bad in ("", "   ", "x" * 101):
        with pytest.raises(DocumentRefused):
            clean_title(bad)


def test_status_machine() -> None:
    check_transition(CertStatus.SUBMITTED, CertStatus.IN_REVIEW)
    check_transition(CertStatus.IN_REVIEW, CertStatus.MORE_INFO)
    check_transition(CertStatus.MORE_INFO, CertStatus.IN_REVIEW)
    check_transition(CertStatus.IN_REVIEW, CertStatus.READY)
    for final in (CertStatus.READY, CertStatus.REFUSED):
        assert TRANSITIONS[final] == frozenset()
        with pytest.raises(InvalidTransition):
            check_transition(final, CertStatus.IN_REVIEW)
    with pytest.raises(InvalidTransition):  # nobody issues what nobody reviewed
        check_transition(CertStatus.SUBMITTED, CertStatus.READY)
    with pytest.raises(CertificateRefused):
        clean_text("ок")
    assert clean_text("  для бассейна ") == "для бассейна"


def test_a_push_made_at_night_waits_for_the_morning() -> None:
    quiet = QuietWindow()
    day = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # 12:00 in Moscow
    assert push_due(day, "Europe/Moscow", quiet) == day
    night = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)  # 23:00 in Moscow
    assert push_due(night, "Europe/Moscow", quiet) == datetime(2026, 12, 2, 5, 0, tzinfo=UTC)
    assert push_due(night, "Europe/Moscow", None) == night
