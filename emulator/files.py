"""Files the bot sent or the users uploaded, by file_id (kept in memory only)."""

from __future__ import annotations

import hashlib
import mimetypes
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Upload:
    """A file part of a request: its name and bytes."""

    filename: str
    data: bytes


@dataclass
class StoredFile:
    file_id: str
    unique_id: str
    filename: str
    mime_type: str
    data: bytes

    @property
    def path(self) -> str:
        return f"files/{self.unique_id}/{self.filename}"

    def document_json(self) -> dict[str, object]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.unique_id,
            "file_name": self.filename,
            "mime_type": self.mime_type,
            "file_size": len(self.data),
        }

    def photo_json(self) -> list[dict[str, object]]:
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.unique_id,
                "width": 800,
                "height": 600,
                "file_size": len(self.data),
            }
        ]

    def file_json(self) -> dict[str, object]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.unique_id,
            "file_size": len(self.data),
            "file_path": self.path,
        }


class FileStore:
    def __init__(self) -> None:
        self.by_id: dict[str, StoredFile] = {}
        self.by_path: dict[str, StoredFile] = {}
        self._count = 0

    def add(self, filename: str, data: bytes) -> StoredFile:
        self._count += 1
        digest = hashlib.sha256(data).hexdigest()[:12]
        unique = f"U{self._count}{digest[:6]}"
        mime = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        stored = StoredFile(f"F{self._count}_{digest}", unique, filename or "file", mime, data)
        self.by_id[stored.file_id] = stored
        self.by_path[stored.path] = stored
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        return self.by_id.get(file_id)


class FileSaver:
    """``--files DIR``: every file the bot sends, saved as DIR/NNN-filename (001, 002, …).

    A person trying the console wants to open the PDF and import the .ics the
    bot sent; the transcript line says where each one went.
    """

    def __init__(self, folder: str) -> None:
        self.folder = folder  # as given, so the printed path reads as the user typed it
        self.count = 0

    def save(self, filename: str, data: bytes) -> str:
        """Write the file; its path as printed in the transcript."""
        self.count += 1
        name = f"{self.count:03d}-{Path(filename).name or 'file'}"
        Path(self.folder).mkdir(parents=True, exist_ok=True)
        (Path(self.folder) / name).write_bytes(data)
        return os.path.join(self.folder, name)
