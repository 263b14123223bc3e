"""Whether the file store has room, and telling the admins when that changes.

Storage is *low* when the free space on the store's file system is less than the reserve plus
one upload of the largest size: from then on an upload may be refused (507). Uploads check the
space before they start; the housekeeping loop checks it every minute; an upload refused for
space or failing with ``ENOSPC`` checks it at once. Each change is logged (WARNING when it gets
low) and reported through ``on_change`` (the daemon pushes ``storage`` to admins' connections).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("chatd.files")


@dataclass(frozen=True, slots=True)
class SpaceReport:
    """The file store's space as last measured."""

    low: bool
    free_bytes: int
    reserve_bytes: int


class SpaceWatch:
    """The last measured free space and whether it is low; not thread-safe (the Trio loop)."""

    def __init__(self, reserve_bytes: int, max_upload_bytes: int,
                 on_change: Callable[[SpaceReport], None] | None = None) -> None:
        self.reserve_bytes = reserve_bytes
        self._threshold = reserve_bytes + max_upload_bytes
        self._on_change = on_change
        self.free_bytes = -1  # not measured yet
        self.low = False

    def report(self) -> SpaceReport:
        return SpaceReport(self.low, max(self.free_bytes, 0), self.reserve_bytes)

    def observe(self, free_bytes: int) -> None:
        """Record a measurement; log and report a change of state."""
        self.free_bytes = free_bytes
        low = free_bytes < self._threshold
        if low == self.low:
            return
        self.low = low
        if low:
            log.warning(
                "event=files.storage_low free_bytes=%d reserve_bytes=%d "
                "hint=%s", free_bytes, self.reserve_bytes,
                "uploads are refused (507) until space is freed: delete files, run `chatd files gc`, or grow the disk",
            )
        else:
            log.info("event=files.storage_ok free_bytes=%d reserve_bytes=%d", free_bytes, self.reserve_bytes)
        if self._on_change is not None:
            self._on_change(self.report())
