"""What the database holds, counted: for backup manifests, restore verification, ``chatd status``
and ``chatd export``. Named queries like every store; no query here is on the hot path."""

from __future__ import annotations

import json
from dataclasses import dataclass

from chatd.store.db import Conn

# The tables whose row counts a backup records and a restore must reproduce.
COUNTED_TABLES = (
    "users", "sessions", "invites", "channels", "channel_members", "messages", "file_blobs", "attachments",
)


@dataclass(frozen=True)
class ChannelEnd:
    """One channel's end: ``last_seq`` (the sequencer's counter), the highest stored seq, count."""

    id: int
    name: str
    last_seq: int
    max_seq: int
    messages: int


@dataclass(frozen=True)
class ExportRow:
    seq: int
    id: int
    ts_ms: int
    username: str
    body: str
    # The message's files: {"sha256": hex, "name": …, "bytes": …}, in their order in the message.
    attachments: list[dict[str, object]]


async def schema_version(db: Conn) -> int:
    """The highest applied migration (0 on an empty database)."""
    exists = await db.fetchval("inventory.has_migrations", "SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return 0
    return int(await db.fetchval("inventory.schema_version", "SELECT coalesce(max(version), 0) FROM schema_migrations"))


async def table_counts(db: Conn) -> dict[str, int]:
    """Rows per table of ``COUNTED_TABLES`` (exact counts: run on a snapshot, not the hot path)."""
    sql = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM {t}" for t in COUNTED_TABLES)
    return {r[0]: int(r[1]) for r in await db.fetch("inventory.table_counts", sql)}


async def channel_ends(db: Conn) -> list[ChannelEnd]:
    """Every channel's end, by id; one pass over the messages' primary key."""
    rows = await db.fetch(
        "inventory.channel_ends",
        """SELECT c.id, c.name, c.last_seq, coalesce(m.max_seq, 0) AS max_seq, coalesce(m.n, 0) AS n
           FROM channels c
           LEFT JOIN (SELECT channel_id, max(seq) AS max_seq, count(*) AS n FROM messages GROUP BY channel_id) m
             ON m.channel_id = c.id
           ORDER BY c.id""",
    )
    return [ChannelEnd(r["id"], r["name"], r["last_seq"], r["max_seq"], r["n"]) for r in rows]


async def is_empty(db: Conn) -> bool:
    """True iff the database has no table of its own (a restore target must be empty)."""
    n = await db.fetchval(
        "inventory.user_tables",
        "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
    )
    return int(n) == 0


async def export_page(db: Conn, *, channel_id: int, after_seq: int, limit: int) -> list[ExportRow]:
    """Up to ``limit`` messages of a channel after ``after_seq``, oldest first, with sender names
    (as they are now: deleted ones are left out)."""
    rows = await db.fetch(
        "inventory.export_page",
        """SELECT m.seq, m.id, (extract(epoch FROM m.created_at) * 1000)::bigint AS ts_ms, u.username, m.body,
                  CASE WHEN m.has_files THEN (
                      SELECT json_agg(json_build_object('sha256', encode(a.sha256, 'hex'), 'name', a.name,
                                                        'bytes', a.size) ORDER BY a.position)::text
                      FROM attachments a WHERE a.message_id = m.id) END AS files
           FROM messages m JOIN users u ON u.id = m.user_id
           WHERE m.channel_id = $1 AND m.seq > $2 AND m.deleted_at IS NULL
           ORDER BY m.seq LIMIT $3""",
        channel_id, after_seq, limit,
    )
    return [
        ExportRow(r["seq"], r["id"], r["ts_ms"], r["username"], r["body"], json.loads(r["files"] or "[]"))
        for r in rows
    ]
