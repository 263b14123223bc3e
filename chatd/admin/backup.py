"""``chatd backup``, ``chatd restore`` and ``chatd export``: the operator's data, out and back in.

The archive format and its guarantees are in ``chatd.backup``; this module is the command line.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any, TextIO

import trio
import trio_asyncio

from chatd.admin.common import AddCommon, AdminError, SubParsers, leaf
from chatd.backup import (
    RESTORED_CONFIG,
    BackupError,
    check_empty_target,
    create_backup,
    embedded_cluster_for,
    place_files,
    read_verified,
    restore_into,
)
from chatd.config import CONFIG_FILE_NAME, Config
from chatd.dbctx import ensure_embedded_database
from chatd.runner import run_async
from chatd.store import Database, open_database
from chatd.store import channels as channel_store
from chatd.store.inventory import export_page
from chatd.text import identity_key

_FMT = argparse.RawDescriptionHelpFormatter
EXPORT_PAGE = 1000  # messages per read: bounded memory whatever the channel's size


def _config_file(args: argparse.Namespace, cfg: Config) -> Path | None:
    if getattr(args, "config", None):
        return Path(args.config)
    if os.environ.get("CHATD_CONFIG"):
        return Path(os.environ["CHATD_CONFIG"])
    default = cfg.data_dir / CONFIG_FILE_NAME
    return default if default.is_file() else None


async def cmd_backup(args: argparse.Namespace, cfg: Config, db: Database) -> int:
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = Path(args.out) if args.out else Path(f"chatd-backup-{stamp}.tar")
    try:
        result = await create_backup(db, cfg.data_dir, out, _config_file(args, cfg))
    except BackupError as exc:
        raise AdminError(str(exc)) from None
    m = result.manifest
    files = sum(1 for k in m["members"] if k.startswith("files/"))
    print(f"wrote {result.path} ({result.path.stat().st_size / 1e6:.1f} MB) in {result.seconds:.1f} s: "
          f"schema {m['schema_version']}, {m['counts']['messages']} messages in {len(m['channels'])} channels, "
          f"{m['counts']['users']} users, {files} stored files")
    return 0


def cmd_restore(args: argparse.Namespace, cfg: Config) -> int:
    """Not a ``leaf``: the target database does not exist yet."""

    archive = Path(args.archive)

    async def run() -> int:
        try:
            return await _restore(archive, cfg, staging)
        except BackupError as exc:
            print(f"chatd: error: {exc}\n(nothing is in use yet: remove {cfg.data_dir} before trying again)",
                  file=sys.stderr)
            return 1

    try:
        check_empty_target(cfg.data_dir)
        if not archive.is_file():
            raise BackupError(f"{archive}: no such file")
    except BackupError as exc:
        print(f"chatd: error: {exc}", file=sys.stderr)
        return 1
    cfg.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    staging = cfg.data_dir / ".restore"
    staging.mkdir(mode=0o700)
    return run_async(run)


async def _restore(archive: Path, cfg: Config, staging: Path) -> int:
    data_dir = cfg.data_dir
    t0 = trio.current_time()
    try:
        manifest = await trio.to_thread.run_sync(read_verified, archive, staging)
        async with trio_asyncio.open_loop():
            if cfg.embedded_db:
                cluster = await trio.to_thread.run_sync(embedded_cluster_for, data_dir)
                cluster.start()  # in this thread: the server dies with the thread that started it
                try:
                    await ensure_embedded_database(cluster)
                    async with open_database(cluster.dsn, 2, 30) as db:
                        applied = await restore_into(db, staging, manifest)
                finally:
                    with trio.CancelScope(shield=True):
                        await trio.to_thread.run_sync(cluster.stop)
            else:
                async with open_database(cfg.database_url, 2, cfg.db_connect_timeout_secs) as db:
                    applied = await restore_into(db, staging, manifest)
        await trio.to_thread.run_sync(place_files, staging, data_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    files = sum(1 for k in manifest["members"] if k.startswith("files/"))
    print(f"restored {archive} into {data_dir} in {trio.current_time() - t0:.1f} s and verified it: "
          f"{manifest['counts']['messages']} messages, {len(manifest['channels'])} channels, "
          f"{manifest['counts']['users']} users, {files} files"
          + (f"; migrated forward: {', '.join(applied)}" if applied else ""))
    if (data_dir / RESTORED_CONFIG).exists():
        print(f"the backed-up configuration is in {data_dir / RESTORED_CONFIG}: review it before using it")
    return 0


async def cmd_export(args: argparse.Namespace, cfg: Config, db: Database) -> int:
    found = await channel_store.find_channel_by_key(db, identity_key(args.channel.removeprefix("#")))
    if found is None:
        raise AdminError(f"no channel named {args.channel!r}")
    out: TextIO = await trio.to_thread.run_sync(_open_out, args.out) if args.out else sys.stdout
    try:
        n = await _write_jsonl(db, found.id, found.name, out)
    finally:
        if out is not sys.stdout:
            out.close()
    print(f"exported {n} messages of #{found.name}", file=sys.stderr)
    return 0


def _open_out(path: str) -> TextIO:
    return open(path, "w", encoding="utf-8")


async def _write_jsonl(db: Database, channel_id: int, name: str, out: TextIO) -> int:
    after, n = 0, 0
    while page := await export_page(db, channel_id=channel_id, after_seq=after, limit=EXPORT_PAGE):
        for row in page:
            record: dict[str, Any] = {
                "channel": name, "seq": row.seq, "id": row.id, "ts": row.ts_ms, "user": row.username,
                "body": row.body,
                # References to the message's stored files ({"sha256", "name", "bytes"}): filled
                # in by the file store when it lands; an empty list until then.
                "attachments": [],
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        after, n = page[-1].seq, n + len(page)
    return n


def add_commands(sub: SubParsers, common: AddCommon) -> None:
    p = leaf(sub, common, "backup", "write a consistent backup archive while chatd runs",
             "Write one archive: a pg_dump of a consistent snapshot, the stored files (DATA_DIR/files), "
             "the configuration file, and a manifest with counts, the last seq of every channel and the "
             "SHA-256 of every member. Safe while chatd serves.",
             "  chatd backup\n  chatd backup --out /var/backups/chatd/chatd-$(date +%F).tar\n", cmd_backup)
    p.add_argument("--out", help="archive to write (default: ./chatd-backup-<UTC time>.tar)")

    p = sub.add_parser("restore", help="restore a backup into a new data directory, and verify it",
                       description="Restore ARCHIVE into --data-dir (which must be new or empty), or into "
                       "the empty database of --database-url: every member is checked against its SHA-256, "
                       "the database restored, migrated forward and compared with the manifest.",
                       epilog="examples:\n  chatd restore chatd-backup-20250101T030000Z.tar --data-dir /var/lib/chatd-new\n",
                       formatter_class=_FMT)
    common(p)
    p.add_argument("archive", help="a file written by chatd backup")
    p.set_defaults(handler=cmd_restore)

    p = leaf(sub, common, "export", "write a channel's history as JSON Lines",
             "Write every message of a channel, oldest first, one JSON object per line: channel, seq, id, "
             "ts (ms since the epoch), user, body, attachments.",
             "  chatd export --channel general > general.jsonl\n  chatd export --channel '#ops' --out ops.jsonl\n",
             cmd_export)
    p.add_argument("--channel", required=True, help="channel name (a leading # is ignored)")
    p.add_argument("--out", help="file to write (default: standard output)")
