"""Messages: the sequencer's batch insert and the history reads (keyset on (channel_id, seq)).

Reads return ``MessageRow``s; turning one into a wire frame is ``chatd.render.msg``'s job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from chatd.store.db import Conn, Record
from chatd.store.files import FILES_OF_MESSAGE_SQL, FileRow, files_from_json


@dataclass(frozen=True, slots=True)
class Posted:
    """The outcome of one message of a batch: its stored seq/id/ts; ``existed`` for a retry.

    ``seq`` is None if the channel does not exist; ``channel_id`` is the channel the stored row
    is in (differs from the requested one only if a client reused a cid across channels).
    """

    channel_id: int | None
    seq: int | None
    id: int | None
    ts_ms: int
    existed: bool


@dataclass(frozen=True, slots=True)
class MessageRow:
    """One stored message with its author's names (as they are now) and its files."""

    channel_id: int
    seq: int
    id: int
    ts_ms: int
    user_id: int
    username: str
    display_name: str
    body: str
    cid: bytes
    files: tuple[FileRow, ...] = ()


def to_ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)


async def post_messages(
    db: Conn, *, channel_id: int, users: Sequence[int], cids: Sequence[bytes], bodies: Sequence[str]
) -> list[Posted]:
    """Post a batch to one channel in ONE statement (see sql ``chatd_post_messages``).

    Results are in input order. Must be called in a transaction or autocommit (it is one
    statement, so autocommit is atomic). Raises UniqueViolation if a concurrent writer stored
    the same (user, cid) first: retry the batch.
    """
    rows = await db.fetch(
        "messages.post_batch",
        "SELECT idx, ch, seq, id, ts, existed FROM chatd_post_messages($1, $2, $3, $4)",
        channel_id, list(users), list(cids), list(bodies),
    )
    return [
        Posted(r["ch"], r["seq"], r["id"], to_ms(r["ts"]) if r["ts"] is not None else 0, r["existed"])
        for r in rows
    ]


_SELECT = f"""
SELECT m.channel_id, m.seq, m.id, m.created_at, m.user_id, u.username, u.display_name, m.body, m.cid,
       {FILES_OF_MESSAGE_SQL}
FROM messages m JOIN users u ON u.id = m.user_id
"""


def _row(r: Record) -> MessageRow:
    return MessageRow(
        r["channel_id"], r["seq"], r["id"], to_ms(r["created_at"]), r["user_id"], r["username"],
        r["display_name"], r["body"], bytes(r["cid"]), files_from_json(r["files"]),
    )


async def messages_after(
    db: Conn, *, channel_id: int, after_seq: int, limit: int, upto: int | None = None
) -> list[MessageRow]:
    """Up to ``limit`` messages with ``after_seq < seq [<= upto]``, oldest first."""
    rows = await db.fetch(
        "messages.after",
        _SELECT + """WHERE m.channel_id = $1 AND m.seq > $2 AND ($4::bigint IS NULL OR m.seq <= $4)
                     ORDER BY m.seq LIMIT $3""",
        channel_id, after_seq, limit, upto,
    )
    return [_row(r) for r in rows]


async def messages_before(
    db: Conn, *, channel_id: int, before_seq: int | None, limit: int
) -> list[MessageRow]:
    """Up to ``limit`` messages with ``seq < before_seq`` (or the latest), oldest first."""
    rows = await db.fetch(
        "messages.before",
        _SELECT + """WHERE m.channel_id = $1 AND ($2::bigint IS NULL OR m.seq < $2)
                     ORDER BY m.seq DESC LIMIT $3""",
        channel_id, before_seq, limit,
    )
    return [_row(r) for r in reversed(rows)]
