"""The file store on disk, under ``DATA_DIR/files/`` (one file system, so renames are atomic):

- ``blobs/ab/cd/<sha256 hex>``: every stored content, once, named by its SHA-256 (what backups
  must copy; ``file_blobs`` lists each with its hash);
- ``thumbs/ab/cd/<sha256 hex>.webp``: thumbnails of images (derived: made again when missing);
- ``partial/``: uploads in progress (``<key>`` for a resumable one, ``<random>.tmp`` for a
  one-request upload), never served and never backed up.

An upload is written to ``partial/`` and hashed as it arrives, fsynced, then renamed into
``blobs/`` (and the folder fsynced) before its row is written: a row always points at a
complete file. A write that fails (``ENOSPC``) is undone before the error is reported.

Everything here blocks (file-system calls): callers run it in a worker thread.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

BLOBS: Final = "blobs"
THUMBS: Final = "thumbs"
PARTIAL: Final = "partial"
READ_CHUNK_BYTES: Final = 1024 * 1024
# Free space is checked again after every this many bytes a sink writes (a statvfs costs ~1 µs).
SPACE_CHECK_BYTES: Final = 4 * 1024 * 1024
_NO_SPACE: Final = frozenset({errno.ENOSPC, errno.EDQUOT})


class OutOfSpace(Exception):
    """The file system holding the file store is full (or below the reserve)."""


def sha_hex(sha256: bytes) -> str:
    return sha256.hex()


@dataclass(frozen=True, slots=True)
class Found:
    """A file met while scanning a folder of the store."""

    name: str
    path: Path
    mtime: float


class BlobStore:
    """The folders of the file store below ``root`` (``DATA_DIR/files``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def prepare(self) -> None:
        """Create the store's folders (0700) if missing."""
        for sub in (BLOBS, THUMBS, PARTIAL):
            (self.root / sub).mkdir(mode=0o700, parents=True, exist_ok=True)

    def _sharded(self, folder: str, name: str) -> Path:
        return self.root / folder / name[:2] / name[2:4] / name

    def blob_path(self, sha256: bytes) -> Path:
        return self._sharded(BLOBS, sha_hex(sha256))

    def thumb_path(self, sha256: bytes) -> Path:
        return self._sharded(THUMBS, sha_hex(sha256) + ".webp")

    def partial_path(self, key: str) -> Path:
        return self.root / PARTIAL / key

    def new_temp_path(self) -> Path:
        return self.root / PARTIAL / f"{secrets.token_hex(16)}.tmp"

    def free_bytes(self) -> int:
        """Bytes an unprivileged writer may still use on the store's file system."""
        st = os.statvfs(self.root)
        return st.f_bavail * st.f_frsize

    def install(self, temp: Path, sha256: bytes) -> None:
        """Move the complete, fsynced ``temp`` to its content address (replacing an identical
        copy, which refreshes its mtime for the orphan sweep's grace period), durably."""
        dest = self.blob_path(sha256)
        with _space_errors():
            dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.replace(temp, dest)
            _fsync_dir(dest.parent)

    def thumb_dest(self, sha256: bytes) -> Path:
        """Where the thumbnail of ``sha256`` goes (its folder created)."""
        dest = self.thumb_path(sha256)
        dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        return dest

    def read_head(self, sha256: bytes, size: int) -> bytes:
        with open(self.blob_path(sha256), "rb") as f:
            return f.read(size)

    def has_blob(self, sha256: bytes) -> bool:
        return self.blob_path(sha256).is_file()

    def remove_blob(self, sha256: bytes) -> None:
        """Delete a content and its thumbnail (absent ones are fine)."""
        self.blob_path(sha256).unlink(missing_ok=True)
        self.thumb_path(sha256).unlink(missing_ok=True)

    def create_partial(self, key: str) -> None:
        with _space_errors():
            fd = os.open(self.partial_path(key), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)

    def partial_size(self, key: str) -> int | None:
        try:
            return self.partial_path(key).stat().st_size
        except FileNotFoundError:
            return None

    def remove_partial(self, key: str) -> None:
        self.partial_path(key).unlink(missing_ok=True)

    def scan(self, folder: str) -> Iterator[Found]:
        """Every file below ``folder`` (``BLOBS``, ``THUMBS`` or ``PARTIAL``)."""
        for dirpath, _dirs, files in os.walk(self.root / folder):
            for name in files:
                path = Path(dirpath) / name
                try:
                    mtime = path.stat().st_mtime
                except FileNotFoundError:
                    continue  # removed meanwhile
                yield Found(name, path, mtime)


@contextlib.contextmanager
def _space_errors() -> Iterator[None]:
    """``ENOSPC``/``EDQUOT`` raised inside become ``OutOfSpace``."""
    try:
        yield
    except OSError as exc:
        if exc.errno in _NO_SPACE:
            raise OutOfSpace(str(exc)) from None
        raise


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Sink:
    """One upload's file being written: appends, hashes exactly what was written, counts.

    ``size`` is the file's length and ``hasher`` the SHA-256 of those bytes, always in step: a
    write that fails is cut back off the file before the error is raised. ``check_space``
    (raises ``OutOfSpace``) is called every ``SPACE_CHECK_BYTES`` written. Blocking.
    """

    def __init__(self, path: Path, fd: int, hasher: Any, size: int, check_space: Callable[[], None]) -> None:
        self.path = path
        self._fd = fd
        self.hasher = hasher
        self.size = size
        self._check_space = check_space
        self._since_check = 0

    @classmethod
    def create(cls, path: Path, check_space: Callable[[], None]) -> Sink:
        """A new, empty file at ``path`` (which must not exist)."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        return cls(path, fd, hashlib.sha256(), 0, check_space)

    @classmethod
    def resume(cls, path: Path, check_space: Callable[[], None], hasher: Any = None, size: int = -1) -> Sink:
        """Append to ``path``; ``hasher`` must hold the SHA-256 state of its first ``size``
        bytes, else the file is read and hashed again (after a restart)."""
        fd = os.open(path, os.O_WRONLY)
        try:
            length = os.fstat(fd).st_size
            if hasher is None or size != length:
                hasher = hashlib.sha256()
                with open(path, "rb") as f:
                    while chunk := f.read(READ_CHUNK_BYTES):
                        hasher.update(chunk)
            os.lseek(fd, length, os.SEEK_SET)
        except BaseException:
            os.close(fd)
            raise
        return cls(path, fd, hasher, length, check_space)

    def write(self, data: bytes) -> None:
        """Append ``data``; raises ``OutOfSpace`` (the file then ends where it did before)."""
        view = memoryview(data)
        try:
            with _space_errors():
                while view:
                    n = os.write(self._fd, view)
                    view = view[n:]
        except BaseException:
            self.truncate(self.size)
            raise
        self.hasher.update(data)
        self.size += len(data)
        self._since_check += len(data)
        if self._since_check >= SPACE_CHECK_BYTES:
            self._since_check = 0
            self._check_space()

    def truncate(self, size: int) -> None:
        """Cut the file back to ``size`` bytes (``size`` ≤ the hashed length only when the
        hasher is dropped by the caller)."""
        os.ftruncate(self._fd, size)
        os.lseek(self._fd, size, os.SEEK_SET)

    def sync(self) -> None:
        """Flush the file to disk; raises ``OutOfSpace`` when the file system is full."""
        with _space_errors():
            os.fsync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def discard(self) -> None:
        """Close and delete the file (a failed or cancelled upload leaves nothing behind)."""
        self.close()
        self.path.unlink(missing_ok=True)
