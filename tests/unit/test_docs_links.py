"""Regression: README pointed outside the repository (`../shared/CONSOLE.md`,
`../shared/ARCHITECTURE.md`), so a clone had no console protocol (issue 7, item 11).
Every relative link and path in README.md and docs/ must name a file of the repository.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)")


def test_docs_link_only_inside_the_repository() -> None:
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        assert "../shared" not in text, doc.name
        for target in LINK.findall(text):
            if "://" in target:
                continue
            path = (doc.parent / target).resolve()
            assert path.is_relative_to(ROOT), f"{doc.name} -> {target}"
            assert path.exists(), f"{doc.name} -> {target} (missing)"


def test_readme_links_the_console_protocol_and_the_architecture() -> None:
    links = set(LINK.findall((ROOT / "README.md").read_text(encoding="utf-8")))
    assert {"docs/console.md", "docs/architecture.md"} <= links


def test_console_doc_lists_every_directive() -> None:
    from emulator.options import OPTIONS
    from emulator.script import DIRECTIVES

    text = (ROOT / "docs" / "console.md").read_text(encoding="utf-8")
    for name in [*DIRECTIVES, *(flag for flag, _ in OPTIONS)]:
        assert f"`{name}" in text, name
