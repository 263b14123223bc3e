"""What a file is, from its first bytes: never from its name or the type its uploader claimed.

Pure (no I/O). The result decides how chatd serves the file: ``inline`` types are shown by the
browser (images chatd could decode, media browsers play); everything else — SVG, HTML, XML,
text, PDF and anything unknown — is only ever served as a download
(``Content-Disposition: attachment``, ``application/octet-stream``). A file whose first bytes
look like an image but that also carries markup near its start (a PNG/HTML polyglot) is not
inline either: a browser that ignored ``nosniff`` could take it for a page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

#: How many leading bytes ``sniff`` looks at (browsers sniff markup within the first 512).
SNIFF_BYTES: Final = 4096

Family = Literal["image", "video", "audio", "other"]

# Tags a browser's content sniffing treats as HTML, plus SVG and XML: found in the first bytes
# of a supposed image or media file, they make it a download instead (never inline).
_MARKUP = re.compile(
    rb"<(?:!doctype|html|head|body|script|iframe|frame|svg|object|embed|meta|style|img|a\s|div|\?xml|!--)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Sniffed:
    """A file's type as its bytes say. ``inline``: a browser may show it as ``mime``."""

    mime: str
    family: Family
    inline: bool


OCTET_STREAM: Final = "application/octet-stream"
_UNKNOWN = Sniffed(OCTET_STREAM, "other", False)

# ISO base media file format brands (the 4 bytes after "ftyp"): what each means to a browser.
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})
_AUDIO_BRANDS = frozenset({b"M4A ", b"M4B ", b"M4P "})


def _iso_bmff(head: bytes) -> Sniffed:
    brand = head[8:12]
    if brand in _AVIF_BRANDS:
        return Sniffed("image/avif", "image", True)
    if brand in _HEIF_BRANDS:
        return Sniffed("image/heic", "other", False)  # most browsers cannot show it
    if brand in _AUDIO_BRANDS:
        return Sniffed("audio/mp4", "audio", True)
    if brand == b"qt  ":
        return Sniffed("video/quicktime", "other", False)
    return Sniffed("video/mp4", "video", True)


# Types recognised by what their first bytes are (longer, more specific prefixes first).
_PREFIXES: Final[tuple[tuple[tuple[bytes, ...], Sniffed], ...]] = (
    ((b"\xff\xd8\xff",), Sniffed("image/jpeg", "image", True)),
    ((b"\x89PNG\r\n\x1a\n",), Sniffed("image/png", "image", True)),
    ((b"GIF87a", b"GIF89a"), Sniffed("image/gif", "image", True)),
    ((b"OggS",), Sniffed("audio/ogg", "audio", True)),
    ((b"fLaC",), Sniffed("audio/flac", "audio", True)),
    ((b"ID3",), Sniffed("audio/mpeg", "audio", True)),
    ((b"%PDF-",), Sniffed("application/pdf", "other", False)),
    ((b"PK\x03\x04",), Sniffed("application/zip", "other", False)),
    ((b"\x1f\x8b",), Sniffed("application/gzip", "other", False)),
)
_RIFF_FORMS: Final = {b"WEBP": Sniffed("image/webp", "image", True), b"WAVE": Sniffed("audio/wav", "audio", True)}


def _binary(head: bytes) -> Sniffed | None:
    """The types recognised by a magic number at the start; None if none matches."""
    for prefixes, found in _PREFIXES:
        if head.startswith(prefixes):
            return found
    if head.startswith(b"RIFF") and len(head) >= 12:
        return _RIFF_FORMS.get(head[8:12], _UNKNOWN)
    if head[4:8] == b"ftyp":
        return _iso_bmff(head)
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: WebM, or Matroska that browsers may not play
        return Sniffed("video/webm", "video", True) if b"webm" in head[:64] else Sniffed("video/x-matroska", "other", False)
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:  # AAC in ADTS frames
        return Sniffed("audio/aac", "audio", True)
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:  # an MPEG audio frame
        return Sniffed("audio/mpeg", "audio", True)
    return None


def _text(head: bytes) -> Sniffed:
    """Markup or plain text (downloads either way), else unknown bytes."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith(b"<"):
        if b"<svg" in stripped:
            return Sniffed("image/svg+xml", "other", False)
        if stripped.startswith(b"<?xml"):
            return Sniffed("application/xml", "other", False)
        return Sniffed("text/html", "other", False)
    if b"\x00" in head:
        return _UNKNOWN
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the end of the window
            return _UNKNOWN
    return Sniffed("text/plain", "other", False)


def sniff(head: bytes) -> Sniffed:
    """The type of a file whose first bytes (up to ``SNIFF_BYTES``) are ``head``."""
    head = head[:SNIFF_BYTES]
    found = _binary(head)
    if found is None:
        return _text(head)
    if found.inline and _MARKUP.search(head):
        return Sniffed(found.mime, "other", False)  # a polyglot: download only
    return found
