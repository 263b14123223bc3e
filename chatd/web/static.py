"""The web client's static files (scripts, styles, images): public, cacheable, no user data.

Assets are small (the whole client is under 200 KB), so each is read once into memory, with a
gzip copy and an ETag, and re-read only when its file changes. Serving from memory means no
open file outlives a request (a browser that aborts a download leaves nothing behind) and the
ETag makes revalidation a 304 without a body.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import trio
from quart import Response, request

from chatd.state import DaemonState

if TYPE_CHECKING:
    from quart_trio import QuartTrio

ASSET_FOLDERS = ("js", "css", "img")
# Short: a deploy of a new client should reach browsers within minutes; the ETag revalidates.
ASSET_MAX_AGE_SECS = 300
MAX_ASSET_BYTES = 2 * 1024 * 1024  # nothing in client_web/ comes close; a guard, not a limit
COMPRESSIBLE = ("text/", "application/javascript", "image/svg+xml", "application/json")
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}


def client_dir() -> Path:
    """The web client's folder: ``client_web/`` of a source tree, else the installed copy."""
    here = Path(__file__).resolve().parents[2] / "client_web"
    if here.is_dir():
        return here
    return Path(sys.prefix) / "share" / "chatd" / "client_web"


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes | None
    content_type: str
    etag: str
    mtime_ns: int


class AssetCache:
    """Assets under ``root`` by resolved path; refreshed when a file's mtime changes.

    Keyed by the file, not by the requested spelling: ``a.js``, ``./a.js`` and ``x/../a.js`` are
    one entry, so requests cannot grow the cache beyond the files that exist.
    """

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._assets: dict[Path, Asset] = {}

    def _resolve(self, rel: str) -> Path | None:
        if "\x00" in rel:
            return None  # no file name holds a NUL (the OS would refuse it: ValueError)
        try:
            path = (self.root / rel).resolve()
            if not path.is_relative_to(self.root) or not path.is_file():
                return None  # outside the client folder (../), or not a file
        except OSError:  # e.g. a name too long for the file system
            return None
        return path

    def load(self, rel: str) -> Asset | None:
        """The asset at ``rel`` (blocking file I/O: call from a worker thread)."""
        path = self._resolve(rel)
        if path is None:
            return None
        st = path.stat()
        cached = self._assets.get(path)
        if cached is not None and cached.mtime_ns == st.st_mtime_ns:
            return cached
        if st.st_size > MAX_ASSET_BYTES:
            return None
        body = path.read_bytes()
        ctype = TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        gz = gzip.compress(body, 9, mtime=0) if ctype.startswith(COMPRESSIBLE) else None
        if gz is not None and len(gz) >= len(body):
            gz = None
        asset = Asset(body, gz, ctype, '"' + hashlib.sha256(body).hexdigest()[:32] + '"', st.st_mtime_ns)
        self._assets[path] = asset
        return asset

    def __len__(self) -> int:
        """How many files are cached."""
        return len(self._assets)


def _accepts_gzip(header: str) -> bool:
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def register(app: QuartTrio, state: DaemonState) -> None:
    caches = {folder: AssetCache(client_dir() / folder) for folder in ASSET_FOLDERS}

    async def asset(folder: str, path: str) -> Response:
        found = await trio.to_thread.run_sync(caches[folder].load, path)
        if found is None:
            response = Response('{"error": "not_found", "message": "no such file"}', 404, content_type="application/json")
            return response
        headers = {
            "Cache-Control": f"public, max-age={ASSET_MAX_AGE_SECS}",
            "ETag": found.etag,
            "Vary": "Accept-Encoding",
        }
        if found.etag in request.headers.get("If-None-Match", ""):
            return Response(b"", 304, headers=headers)
        body = found.body
        if found.gzipped is not None and _accepts_gzip(request.headers.get("Accept-Encoding", "")):
            body = found.gzipped
            headers["Content-Encoding"] = "gzip"
        return Response(body, 200, headers=headers, content_type=found.content_type)

    def view_for(folder: str) -> Any:
        async def view(path: str) -> Response:
            return await asset(folder, path)

        return view

    for folder in ASSET_FOLDERS:
        app.add_url_rule(f"/{folder}/<path:path>", f"asset_{folder}", view_for(folder), methods=["GET"])
