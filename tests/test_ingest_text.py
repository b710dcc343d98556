"""display_text: text from data files made fit for hover labels and record panels."""
from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.schema import BIDI_CONTROLS, ZERO_WIDTH_SPACE, display_text


def test_empty_values():
    assert display_text(None) == ""
    assert display_text(math.nan) == ""
    assert display_text("") == ""


def test_bidirectional_controls_are_removed():
    # "Trojan Source": RLO reverses what follows on screen.
    tricky = "Military Forces of \u202eaissuR\u202c (2000-)\u2066x\u2069\u200e\u200f\u061c"
    assert display_text(tricky) == "Military Forces of aissuR (2000-)x"
    for code in (0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069, 0x200E, 0x200F):
        assert chr(code) not in display_text(f"a{chr(code)}b"), hex(code)


def test_other_controls_become_spaces_and_line_breaks_stay():
    assert display_text("a\x00b\x1bc\x07d") == "a b c d"
    assert display_text("line one\nline two\ttab") == "line one\nline two\ttab"


def test_a_long_unbroken_word_is_capped_and_gets_break_opportunities():
    word = "x" * 5000
    shown = display_text(word, limit=300, run=40)
    visible = shown.replace(ZERO_WIDTH_SPACE, "")
    assert visible == "x" * 299 + "…"
    runs = shown.split(ZERO_WIDTH_SPACE)
    assert max(len(r) for r in runs) <= 40
    assert len(runs) == math.ceil(300 / 40)


def test_ordinary_text_is_unchanged():
    text = "On 20 January 2025, Russian forces shelled Pokrovsk; 3 killed. https://example.org/a-b/c"
    assert display_text(text) == text


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=2000), limit=st.integers(1, 500), run=st.integers(1, 80))
def test_properties(text, limit, run):
    shown = display_text(text, limit=limit, run=run)
    visible = shown.replace(ZERO_WIDTH_SPACE, "")
    assert len(visible) <= limit
    assert not set(map(ord, shown)) & set(BIDI_CONTROLS)
    for piece in shown.replace("\n", " ").replace("\t", " ").replace("-", " ").replace("/", " ").split(ZERO_WIDTH_SPACE):
        assert all(len(word) <= run for word in piece.split()) or len(piece) <= run
    if len(text) <= limit and not set(map(ord, text)) & (set(BIDI_CONTROLS) | set(range(0x20)) | set(range(0x7F, 0xA0))):
        assert visible == text or ZERO_WIDTH_SPACE in text
