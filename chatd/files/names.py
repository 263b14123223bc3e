"""File names as uploaded, made safe to store, show and send back in a download.

Any UTF-8 name is kept as written (emoji, right-to-left scripts, spaces), except what could
change its meaning elsewhere: control characters (NUL included), bidirectional overrides (which
can disguise ``exe.pdf`` as ``fdp.exe``), line separators, and path separators, which become
``_`` so ``../../etc/passwd`` is one harmless name. At most ``MAX_NAME_BYTES`` UTF-8 bytes (what
file systems allow), cut before the extension so ``.pdf`` survives.
"""

from __future__ import annotations

import secrets
import unicodedata
from typing import Final

MAX_NAME_BYTES: Final = 255
MAX_EXTENSION_BYTES: Final = 16  # longer "extensions" are just part of the name
DEFAULT_NAME: Final = "file"
KEY_BYTES: Final = 16  # 128 random bits: a file's id is unguessable (not that it would grant access)

# Explicit bidirectional formatting (embeddings, overrides, isolates) and the line/paragraph
# separators; ZWJ/ZWNJ and the marks LRM/RLM stay (emoji sequences and scripts need them).
_DROPPED: Final = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029")
_SEPARATORS: Final = frozenset("/\\")


def _cut(text: str, max_bytes: int) -> str:
    """The longest prefix of ``text`` within ``max_bytes`` UTF-8 bytes (whole characters)."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[:max_bytes].decode("utf-8", errors="ignore")


def safe_name(raw: str) -> str:
    """``raw`` (a name as the client sent it) as chatd stores and serves it; never empty."""
    name = unicodedata.normalize("NFC", raw)
    kept = []
    for ch in name:
        if ch in _SEPARATORS:
            kept.append("_")
        elif ch in _DROPPED or unicodedata.category(ch) == "Cc":
            continue
        else:
            kept.append(ch)
    name = "".join(kept).strip()
    if name.strip(".") == "":  # "", ".", ".." mean a folder, not a file
        return DEFAULT_NAME
    if len(name.encode("utf-8")) <= MAX_NAME_BYTES:
        return name
    stem, dot, ext = name.rpartition(".")
    if dot and stem and 0 < len(ext.encode("utf-8")) <= MAX_EXTENSION_BYTES:
        return _cut(stem, MAX_NAME_BYTES - len(ext.encode("utf-8")) - 1).rstrip() + "." + ext
    return _cut(name, MAX_NAME_BYTES).rstrip()


def new_key() -> str:
    """A fresh public id for an upload, which is also its file's id (22 URL-safe characters)."""
    return secrets.token_urlsafe(KEY_BYTES)
