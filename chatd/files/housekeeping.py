"""Housekeeping of the file store: uploads never sent, files without rows, the free space.

``sweep`` (run hourly by the daemon, and by ``chatd files gc``) is idempotent:

1. uploads no message carries, older than ``files_unattached_secs``, are deleted (finished or
   not; an unfinished one's partial file with it);
2. blob rows no upload refers to any more are deleted, with their files and thumbnails;
3. the folders are scanned: a file in ``blobs/`` without a row, a thumbnail without its blob's
   row, a file in ``partial/`` that is no unfinished upload — each older than ``GRACE_SECS`` —
   is removed (an upload writes its file before its row, hence the grace).

``run`` (the service) measures the free space every ``SPACE_CHECK_SECS`` (``SpaceWatch`` logs
and tells the admins when it gets low) and sweeps every ``SWEEP_SECS``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import trio

from chatd.clock import Clock
from chatd.files.blobstore import BLOBS, PARTIAL, THUMBS, Found
from chatd.files.service import Files
from chatd.store import StoreError
from chatd.store import files as file_store

log = logging.getLogger("chatd.files")

SPACE_CHECK_SECS: Final = 60.0  # a filling disk is noticed within a minute
SWEEP_SECS: Final = 3600.0  # hourly: orphans cost disk space, not correctness
FIRST_SWEEP_SECS: Final = 300.0  # not in the rush of a start (clients reconnecting)
# A file on disk with no row is removed only when older than this: an upload writes its file
# before its row, and a one-request upload takes minutes at most (Zulip waits 5 minutes).
GRACE_SECS: Final = 3600.0
BATCH: Final = 1000  # hashes looked up per query


@dataclass
class SweepReport:
    """What a sweep removed (or, in a dry run, would remove)."""

    uploads_expired: int = 0
    blobs_released: int = 0
    orphan_files: list[str] = field(default_factory=list)  # paths below files/
    orphan_bytes: int = 0


def _sha(name: str) -> bytes | None:
    try:
        sha = bytes.fromhex(name)
    except ValueError:
        return None
    return sha if len(sha) == 32 else None


async def sweep(files: Files, *, now: float, dry_run: bool = False) -> SweepReport:
    """One pass of housekeeping (see the module docstring); ``now`` is the wall clock (epoch
    seconds) that upload ages are measured against. A dry run deletes nothing (``files report``)."""
    report = SweepReport()
    db = files.db
    if dry_run:
        report.uploads_expired = await file_store.count_unattached_uploads(
            db, older_than_epoch=now - files.unattached_secs
        )
    else:
        expired = await file_store.delete_unattached_uploads(db, older_than_epoch=now - files.unattached_secs)
        report.uploads_expired = len(expired)
        files.resumable.forget_hashers({u.key for u in expired})
        for up in expired:
            if up.sha256 is None:
                await trio.to_thread.run_sync(files.blobs.remove_partial, up.key)
        released = await file_store.delete_unreferenced_blobs(db)
        report.blobs_released = len(released)
        await files.discard_blobs(released)
    await _orphans(files, report, dry_run)
    if report.uploads_expired or report.blobs_released or report.orphan_files:
        log.info(
            "event=files.sweep uploads_expired=%d blobs_released=%d orphans=%d orphan_bytes=%d dry_run=%s",
            report.uploads_expired, report.blobs_released, len(report.orphan_files), report.orphan_bytes, dry_run,
        )
    return report


async def _orphans(files: Files, report: SweepReport, dry_run: bool) -> None:
    root = files.blobs.root
    cutoff = time.time() - GRACE_SECS
    for folder in (BLOBS, THUMBS, PARTIAL):
        found = await trio.to_thread.run_sync(_old_files, files, folder, cutoff)
        for start in range(0, len(found), BATCH):
            batch = found[start:start + BATCH]
            keep = await _kept(files, folder, batch)
            for item in batch:
                if item.name in keep:
                    continue
                size = await trio.to_thread.run_sync(_remove_if_old, item, cutoff, dry_run)
                if size is not None:
                    report.orphan_files.append(str(item.path.relative_to(root)))
                    report.orphan_bytes += size


def _old_files(files: Files, folder: str, cutoff: float) -> list[Found]:
    return [f for f in files.blobs.scan(folder) if f.mtime < cutoff]


async def _kept(files: Files, folder: str, batch: Sequence[Found]) -> set[str]:
    """The names in ``batch`` that rows still refer to."""
    if folder == PARTIAL:
        return await file_store.unfinished_keys(files.db, [f.name for f in batch])
    shas: dict[bytes, str] = {}
    for f in batch:
        sha = _sha(f.name.removesuffix(".webp") if folder == THUMBS else f.name)
        if sha is not None:
            shas[sha] = f.name
    known = await file_store.known_blobs(files.db, list(shas))
    return {shas[s] for s in known}


def _remove_if_old(item: Found, cutoff: float, dry_run: bool) -> int | None:
    """Remove ``item`` if it is still there and still old (an identical upload may have just
    renewed it); its size, or None if it stays."""
    try:
        st = item.path.stat()
    except FileNotFoundError:
        return None
    if st.st_mtime >= cutoff:
        return None
    if not dry_run:
        item.path.unlink(missing_ok=True)
    return st.st_size


async def run(files: Files, clock: Clock, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
    """The file store's service: prepare the folders, then watch the space and sweep, forever.

    Crash policy: a failed sweep or measurement is logged and tried again next time.
    """
    await files.prepare()
    task_status.started()
    next_sweep = trio.current_time() + FIRST_SWEEP_SECS
    while True:
        await trio.sleep(SPACE_CHECK_SECS)
        try:
            await files.measure_space()
        except OSError as exc:
            log.warning("event=files.space_check_failed error=%s", str(exc))
        if trio.current_time() < next_sweep:
            continue
        next_sweep = trio.current_time() + SWEEP_SECS
        try:
            await sweep(files, now=clock.now())
        except (StoreError, OSError) as exc:
            log.warning("event=files.sweep_failed error=%s", str(exc))
        except Exception:
            log.exception("event=files.sweep_crashed")
