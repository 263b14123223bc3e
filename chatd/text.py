"""Text rules shared by names of users and channels: normalisation and forbidden characters."""

from __future__ import annotations

import unicodedata

# Bidi embedding/override/isolate controls: they let a name display as something else.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def identity_key(text: str) -> str:
    """The form uniqueness is decided on: NFKC, case-folded, NFKC again (so ``İ``/``ß`` fold)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def bad_character(text: str) -> str | None:
    """A description of the first control, bidi-override or unassigned character, or None."""
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in BIDI_CONTROLS:
            return f"the bidirectional control character U+{ord(ch):04X}"
        if cat in ("Cc", "Cs", "Co", "Cn"):
            return f"the control or unassigned character U+{ord(ch):04X}"
        if ch in "\u2028\u2029":
            return "a line or paragraph separator"
    return None
