"""Resumable uploads (tus 1.0: creation, core, termination): an upload created with its
length, its bytes appended by PATCHes from the offset the server holds, complete when the
offset reaches the length.

The bytes of an unfinished upload are ``files/partial/<key>``; its row has no hash yet. The
SHA-256 state is kept between PATCHes (``_hashers``) so a PATCH never reads the file again —
except after a restart, when it is rebuilt from the file. A PATCH cut short keeps (and
fsyncs) what arrived: the client asks the offset and sends the rest. Only one PATCH of an
upload runs at a time (423 for another).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Protocol

import trio

from chatd.files.blobstore import BlobStore, OutOfSpace, Sink
from chatd.files.names import new_key, safe_name
from chatd.files.refusals import UploadRefused
from chatd.store import Database
from chatd.store import files as file_store
from chatd.store.files import Blob, FileRow, UploadRow

log = logging.getLogger("chatd.files")


class Receiving(Protocol):
    """What resumable uploads use of the file service (``chatd.files.service.Files``)."""

    db: Database
    blobs: BlobStore

    def check_floor(self) -> None: ...
    async def admit(self, user_id: int, size: int | None) -> None: ...
    async def check_space(self, size: int) -> None: ...
    def reserving(self, size: int) -> contextlib.AbstractContextManager[None]: ...
    async def pump(self, body: AsyncIterator[bytes], sink: Sink, limit: int,
                   excess: Callable[[], UploadRefused]) -> None: ...
    async def out_of_space(self) -> UploadRefused: ...
    async def store(self, temp: Path, sha256: bytes, size: int) -> Blob: ...


class Resumable:
    """The resumable uploads of one daemon (``files.resumable``); Trio loop only."""

    def __init__(self, files: Receiving) -> None:
        self.files = files
        self._writing: set[str] = set()  # uploads with a PATCH in progress
        # Between PATCHes: (length hashed, SHA-256 state) by key.
        self._hashers: dict[str, tuple[int, Any]] = {}

    async def create(self, *, user_id: int, name: str, size: int) -> str:
        """Start a resumable upload of ``size`` bytes; returns its key (its bytes come by
        ``append``)."""
        await self.files.admit(user_id, size)
        key = new_key()
        try:
            await trio.to_thread.run_sync(self.files.blobs.create_partial, key)
        except OutOfSpace:
            raise await self.files.out_of_space() from None
        try:
            await file_store.create_upload(self.files.db, key=key, user_id=user_id, name=safe_name(name), size=size)
        except BaseException:
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(self.files.blobs.remove_partial, key)
            raise
        return key

    async def offset(self, up: UploadRow) -> int:
        """How many bytes of upload ``up`` the server holds."""
        if up.sha256 is not None:
            return up.size
        return await trio.to_thread.run_sync(self.files.blobs.partial_size, up.key) or 0

    async def append(self, up: UploadRow, body: AsyncIterator[bytes], *, offset: int,
                     length: int | None) -> FileRow | None:
        """Append a PATCH body at ``offset`` to resumable upload ``up`` (``length``: the body's
        Content-Length, if any). Returns the finished file when this completed the upload.

        What arrived before the connection dropped is kept: the client asks for the offset and
        sends the rest. Raises ``UploadRefused``: 409 (offset mismatch), 423 (another PATCH
        is writing), 413 (beyond the upload's length), 507 (no space: the upload is deleted).
        """
        if up.key in self._writing:
            raise UploadRefused(423, "locked", "Another request is writing this upload; retry shortly.")
        self._writing.add(up.key)
        try:
            current = await self.offset(up)
            if offset != current or up.sha256 is not None:
                raise UploadRefused(409, "offset_mismatch", f"The upload holds {current} bytes, not {offset}.",
                                    offset=current)
            remaining = up.size - current
            if length is not None and length > remaining:
                raise UploadRefused(413, "too_large", f"Only {remaining} bytes of this upload are missing.")
            await self.files.check_space(remaining if length is None else length)
            with self.files.reserving(remaining if length is None else length):
                return await self._append(up, body, remaining)
        finally:
            self._writing.discard(up.key)

    async def _append(self, up: UploadRow, body: AsyncIterator[bytes], remaining: int) -> FileRow | None:
        path = self.files.blobs.partial_path(up.key)
        size, hasher = self._hashers.pop(up.key, (-1, None))
        try:
            sink = await trio.to_thread.run_sync(Sink.resume, path, self.files.check_floor, hasher, size)
        except FileNotFoundError:
            raise UploadRefused(404, "not_found", "No such upload.") from None
        start = sink.size
        try:
            def excess() -> UploadRefused:
                return UploadRefused(413, "too_large", f"Only {remaining} bytes of this upload were missing.")

            await self.files.pump(body, sink, remaining, excess)
            await trio.to_thread.run_sync(sink.sync)
        except UploadRefused:
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(sink.truncate, start)
                await trio.to_thread.run_sync(sink.close)
            raise
        except OutOfSpace:
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(sink.close)
                await self._forget(up.key)
            raise await self.files.out_of_space() from None
        except BaseException:  # the client went away mid-body: keep what arrived, durably
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(_sync_quietly, sink)
                self._hashers[up.key] = (sink.size, sink.hasher)
            raise
        sink.close()
        if sink.size < up.size:
            self._hashers[up.key] = (sink.size, sink.hasher)
            return None
        blob = await self.files.store(path, sink.hasher.digest(), sink.size)
        row = await file_store.finish_upload(self.files.db, key=up.key, blob=blob)
        if row is None:  # deleted while it was being finished; its blob goes at the next sweep
            raise UploadRefused(404, "not_found", "No such upload.")
        log.info("event=files.uploaded key=%s bytes=%d kind=%s", row.key, row.size, row.kind)
        return row

    async def delete(self, *, user_id: int, key: str) -> bool:
        """Cancel (terminate) ``user_id``'s upload ``key`` unless a message carries it."""
        if key in self._writing:
            raise UploadRefused(423, "locked", "Another request is writing this upload; retry shortly.")
        row = await file_store.delete_upload(self.files.db, key=key, user_id=user_id)
        if row is None:
            return False
        self._hashers.pop(key, None)
        if row.sha256 is None:
            await trio.to_thread.run_sync(self.files.blobs.remove_partial, key)
        return True

    async def _forget(self, key: str) -> None:
        """Delete an unfinished upload's row and partial file (after ENOSPC: free what it held)."""
        self._hashers.pop(key, None)
        await file_store.delete_unfinished_upload(self.files.db, key=key)
        await trio.to_thread.run_sync(self.files.blobs.remove_partial, key)

    def forget_hashers(self, keys: set[str]) -> None:
        """Drop the hash states of uploads housekeeping deleted."""
        for key in keys:
            self._hashers.pop(key, None)


def _sync_quietly(sink: Sink) -> None:
    """Flush and close a sink whose request is ending badly (the error being raised matters
    more than this one: a failed flush only means the offset the client is told may need
    resending)."""
    try:
        sink.sync()
    except (OSError, OutOfSpace) as exc:
        log.info("event=files.flush_failed error=%s", str(exc))
    finally:
        sink.close()
