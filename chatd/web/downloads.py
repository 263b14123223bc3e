"""Serving users' files: ``GET /files/<id>`` (``?download=1`` forces a download) and
``GET /files/<id>/thumb`` (an image's WebP thumbnail), with ``HEAD``, ``Range`` and ``ETag``.

Who may read: the current members of the channel whose message carries the file, and its
uploader until a message does (``store.files.readable_file``). Everyone else — another user,
a former member, no session at all — gets exactly the 404 of a file that does not exist.

How it is served (every user file is hostile until proven otherwise):

- inline only when its *bytes* say it is an image chatd decoded or media browsers play
  (``chatd.files.sniff``); SVG, HTML, XML, text, PDF and anything unknown are downloads:
  ``Content-Disposition: attachment`` and ``application/octet-stream``;
- ``X-Content-Type-Options: nosniff`` (set on every response by ``chatd.web.app``), a sandbox
  CSP (``USER_CONTENT_CSP``: even a file opened as a page runs nothing and loads nothing),
  ``Cross-Origin-Resource-Policy: same-origin`` (no other site may embed it);
- ``Content-Disposition`` per RFC 6266: an ASCII ``filename`` fallback and the real name as
  ``filename*=UTF-8''…`` (the stored name has no control characters or path separators);
- ``Cache-Control: private, no-cache`` with the content hash as ``ETag``: browsers keep a copy
  but ask each time (a 304), so a user who left the channel is refused from then on.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

import trio
from quart import Response, request

from chatd.files.sniff import OCTET_STREAM
from chatd.state import DaemonState
from chatd.store import files as file_store
from chatd.web.guard import current_principal, not_found_response, require_user_or_not_found

if TYPE_CHECKING:
    from quart_trio import QuartTrio

USER_CONTENT_CSP: Final = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'"
READ_CHUNK_BYTES: Final = 256 * 1024  # per read in a worker thread; a few per TCP window
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
# RFC 5987 attr-char: what stays unescaped in filename*.
_ATTR_CHARS: Final = "!#$&+-.^_`|~"


def content_disposition(disposition: str, name: str) -> str:
    """``inline``/``attachment`` with ``name`` as RFC 6266 wants it: a plain ASCII fallback for
    old clients, and the exact UTF-8 name in ``filename*``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    fallback = "".join(c if c.isprintable() and c not in '"\\/%;' else "_" for c in ascii_name).strip() or "file"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe=_ATTR_CHARS)}"


def parse_range(header: str | None, size: int) -> tuple[int, int] | bool | None:
    """The byte range (first, last inclusive) a ``Range`` header asks of ``size`` bytes.

    None: serve it all (no header, a form chatd does not serve, such as several ranges);
    False: unsatisfiable (416).
    """
    if not header:
        return None
    m = _RANGE.match(header.strip())
    if m is None:
        return None
    first, last = m.group(1), m.group(2)
    if not first:
        if not last:
            return None
        n = int(last)
        if n == 0:
            return False
        return max(size - n, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        return False
    return start, end


async def _read_range(path: Path, start: int, end: int) -> AsyncIterator[bytes]:
    """Bytes ``start``…``end`` of ``path``, read in a worker thread a piece at a time; the file
    is closed however the response ends (a client leaving mid-download included)."""
    f = await trio.to_thread.run_sync(path.open, "rb")
    try:
        await trio.to_thread.run_sync(f.seek, start)
        left = end - start + 1
        while left > 0:
            data = await trio.to_thread.run_sync(f.read, min(READ_CHUNK_BYTES, left))
            if not data:
                return  # the file shrank: cannot happen to a stored blob; end short
            left -= len(data)
            yield data
    finally:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(f.close)


def _respond(path: Path, size: int, etag: str, content_type: str, disposition: str) -> Response:
    """A user file's response: 200, 206 (Range), 304 (ETag) or 416, HEAD without a body."""
    headers: dict[str, Any] = {
        "Content-Security-Policy": USER_CONTENT_CSP,
        "Cross-Origin-Resource-Policy": "same-origin",
        "Content-Disposition": disposition,
        "Cache-Control": "private, no-cache",
        "ETag": etag,
        "Accept-Ranges": "bytes",
    }
    if etag in request.headers.get("If-None-Match", ""):
        return Response(b"", 304, headers=headers)
    wanted: tuple[int, int] | bool | None = parse_range(request.headers.get("Range"), size)
    if_range = request.headers.get("If-Range")
    if if_range is not None and if_range != etag:
        wanted = None  # the client's partial copy is of another version: send everything
    if wanted is False:
        headers["Content-Range"] = f"bytes */{size}"
        return Response(b"", 416, headers=headers)
    status, (start, end) = (200, (0, size - 1)) if not isinstance(wanted, tuple) else (206, wanted)
    if status == 206:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    length = max(end - start + 1, 0)
    if request.method == "HEAD" or length == 0:
        response = Response(b"", status, headers=headers, content_type=content_type)
    else:
        response = Response(_read_range(path, start, end), status, headers=headers, content_type=content_type)
        response.timeout = None  # a large download over a slow link may take hours
    response.headers["Content-Length"] = str(length)
    return response


def register(app: QuartTrio, state: DaemonState) -> None:
    files = state.files

    @app.get("/files/<key>")
    @require_user_or_not_found
    async def download(key: str) -> Any:
        found = await file_store.readable_file(state.db, key=key, user_id=current_principal().user_id)
        if found is None:
            return not_found_response()
        row, sha = found
        inline = row.kind != "file" and "download" not in request.args
        return _respond(
            files.blobs.blob_path(sha), row.size, f'"{sha.hex()}"', row.mime if inline else OCTET_STREAM,
            content_disposition("inline" if inline else "attachment", row.name),
        )

    @app.get("/files/<key>/thumb")
    @require_user_or_not_found
    async def thumbnail(key: str) -> Any:
        found = await file_store.readable_file(state.db, key=key, user_id=current_principal().user_id)
        if found is None or found[0].kind != "image":
            return not_found_response()
        row, sha = found
        path = await files.thumbnail_path(sha)
        if path is None:
            return not_found_response()
        size = (await trio.to_thread.run_sync(path.stat)).st_size
        stem = row.name.rsplit(".", 1)[0] if "." in row.name else row.name
        return _respond(path, size, f'"t{sha.hex()}"', "image/webp", content_disposition("inline", f"{stem}.webp"))
