"""What a file is comes from its first bytes (chatd/files/sniff.py): pure, table-driven."""

from __future__ import annotations

import pytest

from chatd.files.sniff import sniff

INLINE = [  # (first bytes, type, family): shown by the browser
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg", "image"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png", "image"),
    (b"GIF89a\x01\x00", "image/gif", "image"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp", "image"),
    (b"\x00\x00\x00\x1cftypavif", "image/avif", "image"),
    (b"\x00\x00\x00\x1cftypisom", "video/mp4", "video"),
    (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "video/webm", "video"),
    (b"OggS\x00\x02", "audio/ogg", "audio"),
    (b"fLaC\x00", "audio/flac", "audio"),
    (b"ID3\x03\x00", "audio/mpeg", "audio"),
    (b"\xff\xfb\x90\x00", "audio/mpeg", "audio"),
    (b"\xff\xf1\x50\x80", "audio/aac", "audio"),
    (b"RIFF\x00\x00\x00\x00WAVEfmt ", "audio/wav", "audio"),
    (b"\x00\x00\x00\x1cftypM4A ", "audio/mp4", "audio"),
]
DOWNLOAD_ONLY = [  # (first bytes, type): never inline
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/svg+xml"),
    (b"\xef\xbb\xbf  <?xml version='1.0'?><svg/>", "image/svg+xml"),
    (b"<?xml version='1.0'?><note/>", "application/xml"),
    (b"<!DOCTYPE html><html><body>hi</body></html>", "text/html"),
    (b"  <script>alert(1)</script>", "text/html"),
    (b"plain words, \xc3\xa9t\xc3\xa9\n", "text/plain"),
    (b"%PDF-1.7\n", "application/pdf"),
    (b"PK\x03\x04\x14\x00", "application/zip"),
    (b"\x1f\x8b\x08\x00", "application/gzip"),
    (b"\x00\x00\x00\x1cftypheic", "image/heic"),
    (b"\x00\x00\x00\x1cftypqt  ", "video/quicktime"),
    (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska", "video/x-matroska"),
    (b"RIFF\x00\x00\x00\x00AVI LIST", "application/octet-stream"),
    (b"\x00\x01\x02\x03\xfe\xff", "application/octet-stream"),
    (b"BM\x36\x00", "application/octet-stream"),  # BMP: no decoder on the allowlist
]


@pytest.mark.parametrize(("head", "mime", "family"), INLINE)
def test_images_and_media_are_inline(head: bytes, mime: str, family: str) -> None:
    found = sniff(head + b"\x00" * 64)
    assert (found.mime, found.family, found.inline) == (mime, family, True)


@pytest.mark.parametrize(("head", "mime"), DOWNLOAD_ONLY)
def test_everything_else_is_a_download(head: bytes, mime: str) -> None:
    found = sniff(head)
    assert (found.mime, found.family, found.inline) == (mime, "other", False)


@pytest.mark.parametrize("markup", [b"<html>", b"<script>", b"<svg onload=x>", b"<!DOCTYPE html>", b"<iframe src=x>"])
def test_an_image_with_markup_in_its_first_bytes_is_a_download(markup: bytes) -> None:
    polyglot = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 20 + b"tEXtComment\x00" + markup
    found = sniff(polyglot)
    assert (found.mime, found.family, found.inline) == ("image/png", "other", False)


def test_the_declared_name_plays_no_part() -> None:
    """sniff sees bytes only: an HTML page is HTML whatever it is called."""
    assert sniff(b"<html><body>cat.png</body></html>").mime == "text/html"
    assert sniff(b"\xe2\x82").mime == "text/plain"  # UTF-8 cut at the end of the window is still text
