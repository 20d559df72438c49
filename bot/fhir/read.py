"""Reading FHIR files: a Bundle, one resource, or NDJSON (one resource a line), with the
line each resource starts on, so a rejection can point at it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_RESOURCE_KEY = re.compile(r'"resource"\s*:')


@dataclass(frozen=True, slots=True)
class Raw:
    origin: str  # "schedule.json:42"
    data: dict[str, Any]

    @property
    def label(self) -> str:
        kind = self.data.get("resourceType", "?")
        return f"{kind}/{self.data.get('id', '?')}"


class ReadError(Exception):
    """A file that is not JSON at all (nothing of it can be imported)."""


def files_of(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in (".json", ".ndjson"))
    return [path]


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def read_file(path: Path) -> list[Raw]:
    text = path.read_text(encoding="utf-8")
    name = path.name
    if path.suffix == ".ndjson":
        out = []
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                out.append(Raw(f"{name}:{n}", json.loads(line)))
            except ValueError as exc:
                raise ReadError(f"{name}:{n}: not JSON: {exc}") from exc
        return out
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ReadError(f"{name}: not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ReadError(f"{name}: not a FHIR resource or Bundle")
    if data.get("resourceType") != "Bundle":
        return [Raw(f"{name}:1", data)]
    starts = [_line_of(text, m.start()) for m in _RESOURCE_KEY.finditer(text)]
    out = []
    for i, entry in enumerate(data.get("entry") or []):
        at = starts[i] if i < len(starts) else 1
        resource = entry.get("resource") if isinstance(entry, dict) else None
        out.append(Raw(f"{name}:{at}", resource if isinstance(resource, dict) else {}))
    return out
