"""``chatd files report|gc``: what the file store holds, and its housekeeping on demand."""

from __future__ import annotations

import argparse
import json
import time

from chatd.admin.common import AddCommon, SubParsers, group, leaf, print_table
from chatd.config import Config
from chatd.files import housekeeping
from chatd.files.refusals import human_bytes
from chatd.files.service import Files
from chatd.store import Database
from chatd.store import files as file_store


async def cmd_files_report(args: argparse.Namespace, cfg: Config, db: Database) -> int:
    files = Files(cfg, db)
    await files.prepare()
    blobs, blob_bytes = await file_store.blob_totals(db)
    channels = await file_store.usage_by_channel(db)
    users = await file_store.usage_by_user(db)
    pending = await housekeeping.sweep(files, now=time.time(), dry_run=True)
    free = files.space.report()
    if args.json:
        print(json.dumps({
            "store": str(files.blobs.root), "free_bytes": free.free_bytes, "reserve_bytes": free.reserve_bytes,
            "low_space": free.low, "contents": blobs, "content_bytes": blob_bytes,
            "by_channel": [{"channel": u.name, "files": u.files, "bytes": u.bytes} for u in channels],
            "by_user": [{"user": u.name, "files": u.files, "bytes": u.bytes} for u in users],
            "gc": {"unsent_uploads": pending.uploads_expired, "orphan_files": len(pending.orphan_files),
                   "orphan_bytes": pending.orphan_bytes},
        }, ensure_ascii=False, indent=2))
        return 0
    state = "LOW: uploads may be refused" if free.low else "ok"
    print(f"file store {files.blobs.root}: {human_bytes(free.free_bytes)} free, reserve "
          f"{human_bytes(free.reserve_bytes)} ({state})")
    print(f"{blobs} distinct contents, {human_bytes(blob_bytes)}")
    print("\nby channel (attached files):")
    print_table(["CHANNEL", "FILES", "BYTES"], [[u.name, str(u.files), human_bytes(u.bytes)] for u in channels])
    print("\nby user (uploads, sent or not):")
    print_table(["USER", "FILES", "BYTES"], [[u.name, str(u.files), human_bytes(u.bytes)] for u in users])
    print(f"\n`chatd files gc` would delete {pending.uploads_expired} upload(s) never sent and "
          f"{len(pending.orphan_files)} file(s) without a row ({human_bytes(pending.orphan_bytes)})")
    return 0


async def cmd_files_gc(args: argparse.Namespace, cfg: Config, db: Database) -> int:
    files = Files(cfg, db)
    await files.prepare()
    report = await housekeeping.sweep(files, now=time.time(), dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    print(f"{verb} {report.uploads_expired} upload(s) never sent (older than {cfg.files_unattached_secs} s), "
          f"{report.blobs_released} content(s) no upload refers to, {len(report.orphan_files)} file(s) without "
          f"a row ({human_bytes(report.orphan_bytes)})")
    for path in report.orphan_files:
        print(f"  {path}")
    return 0


def add_commands(sub: SubParsers, common: AddCommon) -> None:
    """Register ``chatd files …``."""
    files = group(
        sub, "files", "the file store: usage and housekeeping",
        "What the file store under DATA_DIR/files holds, and its housekeeping (which the daemon also "
        "runs every hour).", "  chatd files report\n  chatd files gc --dry-run\n",
    )
    p = leaf(files, common, "report", "usage by channel and user, free space, what gc would remove",
             "Print the file store's usage by channel and by user, its free space, and what `chatd files gc` "
             "would remove.", "  chatd files report\n  chatd files report --json\n", cmd_files_report)
    p.add_argument("--json", action="store_true", help="print JSON")
    p = leaf(files, common, "gc", "delete uploads never sent and files without a row",
             "Delete uploads no message carries that are older than files_unattached_secs, contents no "
             f"upload refers to, and files under DATA_DIR/files older than {int(housekeeping.GRACE_SECS)} s "
             "that no row refers to. Safe while chatd runs.",
             "  chatd files gc\n  chatd files gc --dry-run\n", cmd_files_gc)
    p.add_argument("--dry-run", action="store_true", help="only say what would be deleted")
