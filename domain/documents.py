"""«Документы»: what a patient may keep in the section, and the use cases that keep it.

Only PDF, JPG and PNG up to the policy's size are accepted, judged twice: by
what Telegram tells us before downloading (the file's name, its size) and by
the first bytes of the file itself — an archive or a program renamed «.pdf»
keeps its own magic bytes, so the name alone proves nothing. A refusal says
which rule was broken; nothing is written until the file passed every check
and has a title (the title and the file name are personal data: encrypted at
rest by storage/repos/documents.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Protocol

from domain.errors import DomainError, Stale
from domain.models import JournalEntry, Patient


class DocType(StrEnum):
    PDF = "pdf"
    JPG = "jpg"
    PNG = "png"


EXTENSIONS = {".pdf": DocType.PDF, ".jpg": DocType.JPG, ".jpeg": DocType.JPG, ".png": DocType.PNG}
MAGIC = {
    DocType.PDF: b"%PDF-",
    DocType.JPG: b"\xff\xd8\xff",
    DocType.PNG: b"\x89PNG\r\n\x1a\n",
}
HEAD_BYTES = 16  # enough for every signature above
MAX_TITLE = 100
SENT_AS = ("document", "photo")  # how it came, and so how it is sent back (by file_id)


class DocumentRefused(DomainError):
    """An upload that breaks a rule; ``reason`` names it.

    ``type`` (not PDF/JPG/PNG by name), ``size`` (over ``limit`` bytes), ``empty``,
    ``content`` (the bytes are not PDF/JPG/PNG whatever the name says), ``mismatch``
    (named ``claimed`` but holding ``found``), ``title`` (empty or longer than MAX_TITLE).
    """

    def __init__(self, reason: str, *, limit: int = 0, claimed: str = "", found: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.limit = limit
        self.claimed = claimed
        self.found = found


def declared_type(file_name: str | None, size: int | None, limit: int) -> DocType | None:
    """The check before downloading: the size Telegram reports and the name's extension.

    Returns the type the name claims (None: no extension, e.g. a photo — the
    content decides). Raises DocumentRefused for a bigger file or another type.
    """
    if size is not None and size > limit:
        raise DocumentRefused("size", limit=limit)
    if size == 0:
        raise DocumentRefused("empty")
    suffix = PurePosixPath(file_name or "").suffix.lower()
    if not suffix:
        return None
    claimed = EXTENSIONS.get(suffix)
    if claimed is None:
        raise DocumentRefused("type", claimed=suffix.lstrip("."))
    return claimed


def sniff(head: bytes) -> DocType | None:
    """The type the first bytes prove, or None."""
    for kind, magic in MAGIC.items():
        if head.startswith(magic):
            return kind
    return None


def content_type(
    data: bytes, claimed: DocType | None, limit: int, *, photo: bool = False
) -> DocType:
    """The check after downloading: the real size and the magic bytes (a photo: JPG/PNG only)."""
    if not data:
        raise DocumentRefused("empty")
    if len(data) > limit:
        raise DocumentRefused("size", limit=limit)
    found = sniff(data[:HEAD_BYTES])
    if found is None or (photo and found is DocType.PDF):
        raise DocumentRefused("content", claimed=claimed.value if claimed else "")
    if claimed is not None and claimed is not found:
        raise DocumentRefused("mismatch", claimed=claimed.value, found=found.value)
    return found


def clean_title(text: str | None) -> str:
    title = " ".join((text or "").split())
    if not title or len(title) > MAX_TITLE:
        raise DocumentRefused("title", limit=MAX_TITLE)
    return title


@dataclass(frozen=True, slots=True)
class Upload:
    """A file that passed every check, waiting for its title (kept in the dialogue)."""

    file_id: str
    file_name: str
    kind: DocType
    size: int
    sent_as: str  # "document" | "photo"


@dataclass(frozen=True, slots=True)
class Document:
    id: int
    patient_id: int
    user_id: int
    kind: DocType
    sent_as: str
    file_id: str
    size: int
    title: str
    file_name: str
    created_at: datetime


class DocumentsRepository(Protocol):
    async def add(
        self, user_id: int, patient_id: int, upload: Upload, title: str, now: datetime
    ) -> Document: ...
    async def get(self, document_id: int) -> Document | None: ...
    async def for_user(self, user_id: int, *, patient_id: int | None = None) -> list[Document]: ...
    async def delete(self, document_id: int, now: datetime) -> bool: ...


class PatientsPort(Protocol):
    async def patients_of(self, user_id: int) -> list[Patient]: ...


class JournalPort(Protocol):
    async def add(self, entry: JournalEntry) -> None: ...


class DocumentsUnitOfWork(Protocol):
    @property
    def documents(self) -> DocumentsRepository: ...
    @property
    def users(self) -> PatientsPort: ...
    @property
    def journal(self) -> JournalPort: ...


async def own_patient(uow: DocumentsUnitOfWork, user_id: int, patient_id: int) -> Patient:
    """The account's own patient (self or a relative); anybody else's is a stale button."""
    for patient in await uow.users.patients_of(user_id):
        if patient.id == patient_id:
            return patient
    raise Stale


async def own_document(uow: DocumentsUnitOfWork, user_id: int, document_id: int) -> Document:
    """A live document of this account's patients; another account's is a stale button."""
    document = await uow.documents.get(document_id)
    if document is None or document.user_id != user_id:
        raise Stale
    await own_patient(uow, user_id, document.patient_id)  # a removed relative's: gone too
    return document


async def fetch(
    uow: DocumentsUnitOfWork, now: datetime, user_id: int, document_id: int
) -> Document:
    """The account's document to send back (journaled: a medical document left the store)."""
    document = await own_document(uow, user_id, document_id)
    await uow.journal.add(
        JournalEntry(
            user_id=user_id,
            at=now,
            action="document_sent",
            details={"document_id": document.id, "patient_id": document.patient_id},
        )
    )
    return document


async def save(
    uow: DocumentsUnitOfWork,
    now: datetime,
    user_id: int,
    patient_id: int,
    upload: Upload,
    title: str,
) -> Document:
    await own_patient(uow, user_id, patient_id)
    document = await uow.documents.add(user_id, patient_id, upload, clean_title(title), now)
    await uow.journal.add(
        JournalEntry(
            user_id=user_id,
            at=now,
            action="document_added",
            details={
                "document_id": document.id,
                "patient_id": patient_id,
                "kind": upload.kind.value,
                "size": upload.size,
            },
        )
    )
    return document


async def delete(
    uow: DocumentsUnitOfWork, now: datetime, user_id: int, document_id: int
) -> Document:
    document = await own_document(uow, user_id, document_id)
    if not await uow.documents.delete(document.id, now):
        raise Stale  # deleted a moment ago (a second tap)
    await uow.journal.add(
        JournalEntry(
            user_id=user_id,
            at=now,
            action="document_deleted",
            details={"document_id": document.id, "patient_id": document.patient_id},
        )
    )
    return document
