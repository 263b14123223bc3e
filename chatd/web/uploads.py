"""Uploading files over HTTPS: one request, or resumable (tus 1.0: core, creation, termination).

- ``POST /api/files?name=<name>``: the body is the file (any Content-Type; Content-Length or
  chunked). 201 with the file (``{"id", "name", "size", "type", "kind", "w"?, "h"?}``, the shape
  messages carry). For scripts and small files.
- ``POST /api/files/discard``: reads the body like an upload (same limit) and discards it:
  the transport's own rate, which bench S10 compares uploads with.
- ``OPTIONS /api/uploads``: the tus capabilities (``Tus-Version``, ``Tus-Extension``,
  ``Tus-Max-Size``), for a logged-in client like every route here.
- ``POST /api/uploads`` (``Upload-Length``, ``Upload-Metadata: filename <base64>``): 201 with
  ``Location: /api/uploads/<id>``.
- ``HEAD /api/uploads/<id>``: ``Upload-Offset`` (how much the server holds), ``Upload-Length``.
- ``PATCH /api/uploads/<id>`` (``Content-Type: application/offset+octet-stream``,
  ``Upload-Offset``): appends; 204 with the new ``Upload-Offset``. A body cut short (the
  connection dropped) keeps what arrived: HEAD, then PATCH the rest.
- ``DELETE /api/uploads/<id>``: cancels an upload no message carries yet (204).
- ``GET /api/uploads/<id>``: ``{"id", "name", "size", "offset", "complete", "file"?}`` (not
  tus: how a client learns the finished file's kind and size).

The id of an upload is the id of its file: a message carries it (``send.files``) once it is
complete. Every route needs a session and, for writes, passes the app's Origin check
(``chatd.web.guard``); someone else's upload answers exactly like a missing one (404). Errors
are ``{"error": code, "message": …}``: 413 ``too_large`` (with ``limit_bytes``, at once from
the declared size, or as soon as a body passes it) and ``quota_exceeded``, 429
``too_many_uploads``, 507 ``insufficient_storage``, 409 ``offset_mismatch`` (with ``offset``),
423 ``locked``, 412 (tus version), 415, 400. Details and examples: docs/files.md.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any, Final

from quart import Response, jsonify, request

from chatd import render
from chatd.files.refusals import UploadRefused, too_large
from chatd.state import DaemonState
from chatd.store import files as file_store
from chatd.web.body import STREAM_PIECE_BYTES, BodyCut, BoundedBody
from chatd.web.guard import (
    current_principal,
    error_response,
    not_found_response,
    require_user,
)

if TYPE_CHECKING:
    from quart_trio import QuartTrio

TUS_VERSION: Final = "1.0.0"
TUS_EXTENSIONS: Final = "creation,termination"
TUS_CONTENT_TYPE: Final = "application/offset+octet-stream"


class BadUpload(Exception):
    """A malformed upload request (400, 412, 415); ``str()`` says what to fix."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _streamed_body() -> BoundedBody:
    """This request's body, read as it arrives in pieces of ``STREAM_PIECE_BYTES`` or more;
    the upload counts its size itself."""
    body = request.body
    assert isinstance(body, BoundedBody), "chatd.web.app installs BoundedRequest"
    body.limit = None
    body.min_piece = STREAM_PIECE_BYTES
    return body


def _tus_headers(**extra: str) -> dict[str, str]:
    return {"Tus-Resumable": TUS_VERSION, "Cache-Control": "no-store", **extra}


def _require_tus() -> None:
    version = request.headers.get("Tus-Resumable")
    if version != TUS_VERSION:
        raise BadUpload(412, "tus_version", f"Send Tus-Resumable: {TUS_VERSION} (this server speaks tus {TUS_VERSION}).")


def _header_int(name: str) -> int:
    value = request.headers.get(name, "")
    if not value.isdigit() or len(value) > 18:
        raise BadUpload(400, "bad_header", f"{name} must be a non-negative integer.")
    return int(value)


def _metadata_name(header: str) -> str:
    """The ``filename`` of a tus ``Upload-Metadata`` header (``key base64,key base64``)."""
    for pair in header.split(","):
        key, _, value = pair.strip().partition(" ")
        if key == "filename":
            try:
                return base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise BadUpload(400, "bad_header", "Upload-Metadata filename must be base64 of UTF-8.") from None
    return ""


def register(app: QuartTrio, state: DaemonState) -> None:
    files = state.files

    @app.errorhandler(UploadRefused)
    async def _refused(exc: UploadRefused) -> Any:
        response, status = error_response(exc.status, exc.code, exc.message, **exc.extra)
        if request.path.startswith("/api/uploads"):
            response.headers.update(_tus_headers())
        return response, status

    @app.errorhandler(BodyCut)
    async def _cut(exc: BodyCut) -> Any:  # nobody reads this: the client has gone
        return error_response(400, "body_cut", str(exc))

    @app.errorhandler(BadUpload)
    async def _bad(exc: BadUpload) -> Any:
        response, status = error_response(exc.status, exc.code, exc.message)
        response.headers.update(_tus_headers(**({"Tus-Version": TUS_VERSION} if exc.status == 412 else {})))
        return response, status

    @app.post("/api/files")
    @require_user
    async def upload_file() -> Any:
        """One-request upload: the body is the file."""
        name = request.args.get("name", "")
        row = await files.upload(
            _streamed_body(), user_id=current_principal().user_id, name=name, declared=request.content_length
        )
        return jsonify(render.file(row)), 201

    @app.post("/api/files/discard")
    @require_user
    async def discard_upload() -> Any:
        """Read a body exactly as an upload is read (same limit), and throw it away: the
        transport's own rate, to compare uploads with (bench S10; a proxy in the way)."""
        declared = request.content_length
        if declared is not None and declared > files.max_bytes:
            raise too_large(files.max_bytes, declared)
        received = 0
        async for piece in _streamed_body():
            received += len(piece)
            if received > files.max_bytes:
                raise too_large(files.max_bytes)
        return jsonify(bytes=received), 200

    @app.route("/api/uploads", methods=["OPTIONS"])
    @require_user
    async def tus_options() -> Response:
        return Response(b"", 204, headers=_tus_headers(
            **{"Tus-Version": TUS_VERSION, "Tus-Extension": TUS_EXTENSIONS, "Tus-Max-Size": str(files.max_bytes)}
        ))

    @app.post("/api/uploads", provide_automatic_options=False)  # OPTIONS is tus_options
    @require_user
    async def tus_create() -> Response:
        _require_tus()
        if "Upload-Defer-Length" in request.headers:
            raise BadUpload(400, "bad_header", "Upload-Defer-Length is not supported: send Upload-Length.")
        size = _header_int("Upload-Length")
        name = _metadata_name(request.headers.get("Upload-Metadata", ""))
        key = await files.resumable.create(user_id=current_principal().user_id, name=name, size=size)
        return Response(b"", 201, headers=_tus_headers(Location=f"/api/uploads/{key}", **{"Upload-Offset": "0"}))

    @app.route("/api/uploads/<key>", methods=["GET", "HEAD", "PATCH", "DELETE"])
    @require_user
    async def tus_upload(key: str) -> Any:
        user_id = current_principal().user_id
        up = await file_store.get_upload(state.db, key=key, user_id=user_id)
        if up is None:
            return not_found_response()
        if request.method == "DELETE":
            _require_tus()
            if up.message_id is not None:
                raise UploadRefused(409, "attached", "A message carries this file; it cannot be cancelled.")
            if not await files.resumable.delete(user_id=user_id, key=key):
                return not_found_response()
            return Response(b"", 204, headers=_tus_headers())
        if request.method == "PATCH":
            _require_tus()
            if request.mimetype != TUS_CONTENT_TYPE:
                raise BadUpload(415, "unsupported_media_type", f"Send the bytes as {TUS_CONTENT_TYPE}.")
            offset = _header_int("Upload-Offset")
            done = await files.resumable.append(up, _streamed_body(), offset=offset, length=request.content_length)
            new_offset = up.size if done is not None else await files.resumable.offset(up)
            return Response(b"", 204, headers=_tus_headers(**{"Upload-Offset": str(new_offset)}))
        offset = await files.resumable.offset(up)
        if request.method == "HEAD":
            return Response(b"", 200, headers=_tus_headers(
                **{"Upload-Offset": str(offset), "Upload-Length": str(up.size)}
            ))
        info: dict[str, Any] = {"id": up.key, "name": up.name, "size": up.size, "offset": offset,
                                "complete": up.sha256 is not None}
        found = await file_store.readable_file(state.db, key=key, user_id=user_id) if up.sha256 else None
        if found is not None:
            info["file"] = render.file(found[0])
        return jsonify(info)
