"""What the search tests share: storing messages at a chosen time, and reading a reply."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from chatd.store import Database


async def post_at(db: Database, ch: int, user_id: int, body: str, at: datetime | None = None,
                  mentions: list[int] | None = None) -> int:
    """Store a message of ``user_id`` in ``ch`` (next seq) sent at ``at`` (default now), mentioning
    ``mentions`` (user ids); its id.

    The search triggers index it as they index a send.
    """
    async with db.transaction("t.post_at") as tx:
        seq = await tx.fetchval("t.seq", "UPDATE channels SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq", ch)
        msg_id: int = await tx.fetchval(
            "t.insert",
            "INSERT INTO messages (channel_id, seq, user_id, cid, body, created_at, mentions) "
            "VALUES ($1, $2, $3, $4, $5, coalesce($6, clock_timestamp()), $7) RETURNING id",
            ch, seq, user_id, os.urandom(16), body, at, mentions or [],
        )
    return msg_id


async def post_many(db: Database, ch: int, user_id: int, bodies: list[str]) -> None:
    """Store many messages in one statement, oldest first, a second apart (ending now)."""
    await db.execute(
        "t.post_many",
        """WITH b AS (SELECT body, i FROM unnest($3::text[]) WITH ORDINALITY AS x(body, i)),
                bump AS (UPDATE channels SET last_seq = last_seq + (SELECT count(*) FROM b) WHERE id = $1
                         RETURNING last_seq - (SELECT count(*) FROM b) AS base)
           INSERT INTO messages (channel_id, seq, user_id, cid, body, created_at)
           SELECT $1, bump.base + b.i, $2, decode(md5(random()::text || b.i), 'hex'), b.body,
                  clock_timestamp() - (cardinality($3::text[]) - b.i) * interval '1 second'
           FROM b, bump""",
        ch, user_id, bodies,
    )


def bodies(reply: dict[str, Any]) -> list[str]:
    """The snippets of a search reply, in order (the whole body for short messages)."""
    assert reply["op"] == "ok", reply
    return [r["snippet"] for r in reply["results"]]
