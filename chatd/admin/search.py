"""``chatd search reindex``: rebuild the search index from the messages, online."""

from __future__ import annotations

import argparse
import sys
import time

from chatd.admin.common import AddCommon, SubParsers, group, leaf
from chatd.config import Config
from chatd.store import Database
from chatd.store import search as search_store

PROGRESS_EVERY_SECS = 2.0  # a line on stderr at most this often: 1M messages take a few minutes


async def cmd_search_reindex(args: argparse.Namespace, cfg: Config, db: Database) -> int:
    started = time.monotonic()
    last = started

    def progress(done: int, left: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= PROGRESS_EVERY_SECS:
            last = now
            print(f"  {done:,} messages, {left:,} to go", file=sys.stderr)

    await search_store.backfill(db, progress=progress)  # anything a migration left, first
    changed = await search_store.reindex(db, batch=args.batch, progress=progress)
    print(f"reindexed: {changed:,} message(s) changed in {time.monotonic() - started:.1f} s")
    return 0


def add_commands(sub: SubParsers, common: AddCommon) -> None:
    """Register ``chatd search reindex``."""
    g = group(sub, "search", "the search index",
              "The search index (kept current by the database on every send, edit and delete).",
              "  chatd search reindex\n")
    p = leaf(g, common, "reindex", "rebuild the search index online",
             "Recompute every message's index entry from its current text, in batches of their own "
             "transaction, while chatd runs (sends are never held for more than one batch). Needed "
             "only after a change to the tokenizer, or if the index was damaged.",
             "  chatd search reindex\n  chatd search reindex --batch 500\n", cmd_search_reindex)
    p.add_argument("--batch", type=int, default=search_store.BATCH, metavar="N",
                   help=f"messages per transaction (default {search_store.BATCH})")
