"""The daemon's file service: which uploads to accept, receiving them, and what each file is.

``Files`` is built once (``chatd.state``) and used by the HTTP routes (``chatd.web.uploads``,
``chatd.web.downloads``) and the housekeeping task. An upload goes:

1. **admitted** (``admit``): the declared size within ``files_max_bytes`` (413), the user's
   bytes within ``files_quota_bytes`` (413 ``quota_exceeded``), fewer than
   ``files_pending_max`` unfinished uploads (429), and free space for the declared size plus
   ``files_reserve_bytes`` plus what uploads in flight were promised (507);
2. **received** (``pump``): the body, in the pieces the connection delivers (≤ ~0.5 MiB, see
   ``chatd.web.body``), appended to a file in ``files/partial/`` and hashed in a worker thread,
   counted against the limit again (a body without Content-Length, or a lying one); at most
   ``IO_THREADS`` such writes run at once;
3. **stored** (``store``): fsynced, renamed to its content address, sniffed and — for images —
   thumbnailed (``thumbnails.make_thumbnail`` behind ``thumb_limiter``: at most one per core),
   then recorded. Any failure before the rename deletes the partial file; a full disk
   (``ENOSPC``) is a 507 and leaves neither file nor row.

Memory per upload is the connection's body buffer plus one piece in flight: about 1 MiB,
whatever the file's size.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import trio

from chatd import metrics
from chatd.config import Config
from chatd.files.blobstore import BlobStore, OutOfSpace, Sink
from chatd.files.names import new_key, safe_name
from chatd.files.refusals import UploadRefused, human_bytes, out_of_space, too_large
from chatd.files.resumable import Resumable
from chatd.files.sniff import SNIFF_BYTES, sniff
from chatd.files.space import SpaceReport, SpaceWatch
from chatd.files.thumbnails import ImageSize, NotAnImage, make_thumbnail
from chatd.store import Database
from chatd.store import files as file_store
from chatd.store.files import Blob, FileRow
from chatd.wire import StoragePush

log = logging.getLogger("chatd.files")

# Worker threads writing and hashing upload bodies at once. Eight uploads on two cores with a
# thread each fought the event loop for the GIL and each other for the disk: uploads ran at ~0.55
# of the transport's rate; two threads brought it to ~0.7 (bench S10, loaded machine, noisy).
IO_THREADS = 2


def storage_push(report: SpaceReport) -> StoragePush:
    """The ``storage`` push (to admins' connections) for a space report."""
    return StoragePush("low" if report.low else "ok", report.free_bytes, report.reserve_bytes)


class Files:
    """Uploads, downloads' look-ups and the file store's space. One per daemon; every method
    runs in the Trio loop (blocking work goes to worker threads)."""

    def __init__(self, config: Config, db: Database,
                 on_space_change: Callable[[SpaceReport], None] | None = None) -> None:
        self.db = db
        self.max_bytes = config.files_max_bytes
        self.quota_bytes = config.files_quota_bytes
        self.pending_max = config.files_pending_max
        self.reserve_bytes = config.files_reserve_bytes
        self.unattached_secs = config.files_unattached_secs
        self.blobs = BlobStore(config.data_dir / "files")
        self.space = SpaceWatch(config.files_reserve_bytes, config.files_max_bytes, on_space_change)
        self.thumb_limiter = trio.CapacityLimiter(os.cpu_count() or 1)
        self.io_limiter = trio.CapacityLimiter(IO_THREADS)
        self._reserved = 0  # bytes uploads in flight may still write (their declared rest)
        self._one_request: collections.Counter[int] = collections.Counter()
        self.resumable = Resumable(self)

    async def prepare(self) -> None:
        """Create the store's folders and take a first measure of the free space."""
        await trio.to_thread.run_sync(self.blobs.prepare)
        await self.measure_space()

    def storage_notice(self) -> StoragePush | None:
        """What an admin's connection is told after its hello: the space is low, or nothing."""
        report = self.space.report()
        return storage_push(report) if report.low else None

    async def measure_space(self) -> int:
        """Free bytes on the store's file system not promised to uploads in flight."""
        free = await trio.to_thread.run_sync(self.blobs.free_bytes) - self._reserved
        self.space.observe(free)
        return free

    def check_floor(self) -> None:
        """In a worker thread, while a body streams: stop before eating into the reserve (the
        database's WAL may share this file system)."""
        if self.blobs.free_bytes() < self.reserve_bytes:
            raise OutOfSpace("free space fell below files_reserve_bytes")

    async def out_of_space(self) -> UploadRefused:
        """The 507 refusal, after measuring the space again (the admins hear if it is low)."""
        await self.measure_space()
        return out_of_space()

    @contextlib.contextmanager
    def reserving(self, size: int) -> Iterator[None]:
        """Promise ``size`` bytes to an upload in flight (later admissions count them as used)."""
        self._reserved += size
        try:
            yield
        finally:
            self._reserved -= size

    # --- admission ------------------------------------------------------------------------------

    async def admit(self, user_id: int, size: int | None) -> None:
        """Raise ``UploadRefused`` unless ``user_id`` may start an upload of ``size`` bytes
        (None: not declared) now: size, quota, unfinished uploads, free space."""
        if size is not None and size > self.max_bytes:
            raise too_large(self.max_bytes, size)
        usage = await file_store.usage_of_user(self.db, user_id=user_id)
        if self.quota_bytes and usage.bytes + (size or 0) > self.quota_bytes:
            raise UploadRefused(
                413, "quota_exceeded",
                f"Your files use {human_bytes(usage.bytes)} of your {human_bytes(self.quota_bytes)}; "
                "delete some or ask an admin for more.", quota_bytes=self.quota_bytes, used_bytes=usage.bytes,
            )
        if usage.unfinished + self._one_request[user_id] >= self.pending_max:
            raise UploadRefused(
                429, "too_many_uploads",
                f"You have {self.pending_max} unfinished uploads; finish or cancel one first.",
                pending_max=self.pending_max,
            )
        await self.check_space(size or 0)

    async def check_space(self, size: int) -> None:
        """Raise the 507 refusal unless ``size`` more bytes leave the reserve free."""
        if await self.measure_space() < size + self.reserve_bytes:
            raise await self.out_of_space()

    # --- receiving --------------------------------------------------------------------------------

    async def pump(self, body: AsyncIterator[bytes], sink: Sink, limit: int,
                   excess: Callable[[], UploadRefused]) -> None:
        """Append ``body`` to ``sink``: at most ``limit`` more bytes, else ``excess()``."""
        end = sink.size + limit
        async for chunk in body:
            if sink.size + len(chunk) > end:
                raise excess()
            if chunk:
                await trio.to_thread.run_sync(sink.write, chunk, limiter=self.io_limiter)

    async def upload(self, body: AsyncIterator[bytes], *, user_id: int, name: str,
                     declared: int | None) -> FileRow:
        """Receive a whole file in one request (``declared``: its Content-Length, if any);
        ``name`` as the client gave it (made safe here, ``names.safe_name``)."""
        await self.admit(user_id, declared)
        self._one_request[user_id] += 1
        try:
            with self.reserving(declared or 0):
                temp = self.blobs.new_temp_path()
                sink = await trio.to_thread.run_sync(Sink.create, temp, self.check_floor)
                try:
                    await self.pump(body, sink, self.max_bytes, lambda: too_large(self.max_bytes))
                    await trio.to_thread.run_sync(sink.sync)
                except BaseException as exc:
                    with trio.CancelScope(shield=True):
                        await trio.to_thread.run_sync(sink.discard)
                    if isinstance(exc, OutOfSpace):
                        raise await self.out_of_space() from None
                    raise
                sink.close()
        finally:
            self._one_request[user_id] -= 1
            if not self._one_request[user_id]:
                del self._one_request[user_id]
        blob = await self.store(temp, sink.hasher.digest(), sink.size)
        return await file_store.record_upload(self.db, key=new_key(), user_id=user_id, name=safe_name(name), blob=blob)

    # --- storing ------------------------------------------------------------------------------

    async def store(self, temp: Path, sha256: bytes, size: int) -> Blob:
        """Install the complete file ``temp`` as content ``sha256``; what that content is."""
        try:
            known = await file_store.get_blob(self.db, sha256)
            await trio.to_thread.run_sync(self.blobs.install, temp, sha256)
        except BaseException as exc:
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(lambda: temp.unlink(missing_ok=True))
            if isinstance(exc, OutOfSpace):
                raise await self.out_of_space() from None
            raise
        metrics.UPLOADS.inc()
        metrics.UPLOAD_BYTES.inc(size)
        return known if known is not None else await self._analyze(sha256, size)

    async def _analyze(self, sha256: bytes, size: int) -> Blob:
        """Sniff a new content; thumbnail it if it is an image (a failure makes it a file)."""
        head = await trio.to_thread.run_sync(self.blobs.read_head, sha256, SNIFF_BYTES)
        found = sniff(head)
        if found.family == "image":
            try:
                dims = await self.thumbnail(sha256)
            except NotAnImage as exc:
                log.info("event=files.not_an_image sha256=%s reason=%s", sha256.hex(), str(exc))
            else:
                return Blob(sha256, size, found.mime, "image", dims.width, dims.height)
        kind = found.family if found.family in ("video", "audio") else "file"
        return Blob(sha256, size, found.mime, kind)

    async def thumbnail(self, sha256: bytes) -> ImageSize:
        """Make the thumbnail of image ``sha256`` (at most one per core at a time); returns
        the image's displayed size. Raises ``NotAnImage``."""
        src, dest = self.blobs.blob_path(sha256), await trio.to_thread.run_sync(self.blobs.thumb_dest, sha256)
        return await trio.to_thread.run_sync(make_thumbnail, src, dest, limiter=self.thumb_limiter)

    async def thumbnail_path(self, sha256: bytes) -> Path | None:
        """The thumbnail of an image, made again if it is missing (a restored backup)."""
        path = self.blobs.thumb_path(sha256)
        if await trio.to_thread.run_sync(path.is_file):
            return path
        try:
            await self.thumbnail(sha256)
        except (NotAnImage, FileNotFoundError):
            return None
        return path

    async def discard_blobs(self, shas: list[bytes]) -> None:
        """Delete these contents' files now (their rows are gone: ``release_message_files``)."""
        for sha in shas:
            await trio.to_thread.run_sync(self.blobs.remove_blob, sha)
