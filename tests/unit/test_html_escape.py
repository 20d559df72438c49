"""Typed text inside HTML-parsed messages (issue 7, item 13)."""

from __future__ import annotations

from emulator.htmltext import strip_html
from flows.ui.format import clip_html, esc


def test_reasons_with_html_characters_survive_telegram_parsing() -> None:
    for reason in ("врач < 1 ставки", "<3", "</code>", "a & b", "<b>bold"):
        assert strip_html("Причина: " + esc(reason)) == "Причина: " + reason


def test_clipping_escaped_text_never_cuts_an_entity() -> None:
    text = "x" * 4090 + esc("<<<<")  # entities straddle the limit
    clipped = clip_html(text)
    assert len(clipped) <= 4096 and clipped.endswith("…")
    strip_html(clipped)  # Telegram would parse it (raises on a half entity)
    assert "&lt" not in clipped.rsplit(";", 1)[-1]
