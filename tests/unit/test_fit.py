"""Fitting text into Telegram's limits: cuts at a word, never past the budget."""

from __future__ import annotations

import pytest

from bot.fit import clip_words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#1001 · Server 6 is down", "#1001 · Server 6 is down"),
        ("#1001 · Invoice 2026-118 charged twice", "#1001 · Invoice 2026-118…"),
        ("#1001 · Cannot log in to the client area", "#1001 · Cannot log in to the…"),
        # The word ends exactly at the budget: it is kept whole.
        ("#1001 · Top-up paid but balance is low", "#1001 · Top-up paid but…"),
        # No separator is left dangling before the ellipsis.
        ("#1002 · Follow-up to #1001: invoice charged twice", "#1002 · Follow-up to #1001…"),
        # A word too long to cut before (it would leave too little) is cut inside.
        ("#1001 · Supercalifragilisticexpialidocious", "#1001 · Supercalifragilistice…"),
    ],
)
def test_clip_words(text: str, expected: str) -> None:
    assert clip_words(text, 30) == expected
    assert len(clip_words(text, 30)) <= 30
