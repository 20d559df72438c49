"""Telegram's HTML parse mode, as far as the emulator needs it: validate and strip.

Telegram counts the 4096-character limit on the text *after* entity parsing,
and refuses malformed markup with 400 "can't parse entities". A name typed by
a user with a stray ``<`` that a flow forgot to escape breaks in real
Telegram, so it must break here too.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

ALLOWED_TAGS = frozenset(
    {
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span",
        "tg-spoiler", "a", "code", "pre", "blockquote", "tg-emoji",
    }
)  # fmt: skip


_BARE_LT = re.compile(r"<(?![a-zA-Z/])")


class EntityParseError(ValueError):
    """The markup is not what Telegram accepts; the message is Telegram's wording."""


class _Stripper(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[str] = []
        self.error: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS and self.error is None:
            self.error = f'Unsupported start tag "{tag}"'
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if (not self.stack or self.stack[-1] != tag) and self.error is None:
            self.error = f'Unmatched end tag "{tag}"'
            return
        if self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def strip_html(text: str) -> str:
    """The plain text Telegram would show for ``text`` sent with parse_mode=HTML."""
    if "<" not in text and "&" not in text:
        return text
    parser = _Stripper()
    parser.feed(text)
    parser.close()
    if parser.error is None and parser.stack:
        parser.error = f'Can\'t find end tag corresponding to start tag "{parser.stack[-1]}"'
    if parser.error is not None:
        raise EntityParseError(f"Bad Request: can't parse entities: {parser.error}")
    # A bare "<" (not starting a tag) is kept as text by HTMLParser; Telegram refuses it.
    if _BARE_LT.search(text):
        raise EntityParseError("Bad Request: can't parse entities: Unsupported start tag")
    return "".join(parser.parts)


def plain_text(text: str, parse_mode: str | None) -> str:
    if parse_mode is not None and parse_mode.upper() == "HTML":
        return strip_html(text)
    return text
