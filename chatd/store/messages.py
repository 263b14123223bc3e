"""Messages: the sequencer's batch insert and the history reads (keyset on (channel_id, seq)).

Reads return ``MessageRow``s — each message as it is now (its current version, or a tombstone);
turning one into a wire frame is ``chatd.render.msg``'s job. The stream of a channel (messages
and their changes, in position order) is read by ``chatd.store.stream``.
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
    ``mentions``: the ids stored (those asked for who are members of the channel).
    """

    channel_id: int | None
    seq: int | None
    id: int | None
    ts_ms: int
    existed: bool
    mentions: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class MessageRow:
    """One stored message as it is now, with its author's names (as they are now) and its files.

    ``version`` is 1 when posted, +1 per edit and at the delete; ``deleted``: a tombstone (its
    body is "" and it has no files or mentions left).
    """

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
    version: int = 1
    edited_ms: int | None = None
    deleted: bool = False
    mentions: tuple[int, ...] = ()
    mention_all: bool = False


def to_ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)


async def post_messages(
    db: Conn, *, channel_id: int, users: Sequence[int], cids: Sequence[bytes], bodies: Sequence[str],
    mentions: Sequence[Sequence[int]] = (), mention_all: Sequence[bool] = (),
) -> list[Posted]:
    """Post a batch to one channel in ONE statement (see sql ``chatd_post_messages``).

    ``mentions[i]`` and ``mention_all[i]`` (both optional) are whom message i mentions; only
    members of the channel are kept. Results are in input order. Must be called in a transaction
    or autocommit (it is one statement, so autocommit is atomic). Raises UniqueViolation if a
    concurrent writer stored the same (user, cid) first: retry the batch.
    """
    pairs = [(i, u) for i, ids in enumerate(mentions, 1) for u in ids]
    rows = await db.fetch(
        "messages.post_batch",
        "SELECT idx, ch, seq, id, ts, existed, mentions FROM chatd_post_messages($1, $2, $3, $4, $5, $6, $7)",
        channel_id, list(users), list(cids), list(bodies), [i for i, _ in pairs], [u for _, u in pairs],
        list(mention_all),
    )
    return [
        Posted(r["ch"], r["seq"], r["id"], to_ms(r["ts"]) if r["ts"] is not None else 0, r["existed"],
               tuple(r["mentions"] or ()))
        for r in rows
    ]


#: The columns of a message as it is now, for every read of messages (``m``: the messages row,
#: ``u``: its author); ``message_row`` turns a record of them into a MessageRow.
MESSAGE_COLUMNS = f"""m.channel_id, m.seq, m.id, m.created_at, m.user_id, u.username, u.display_name, m.body,
       m.cid, m.version, m.edited_at, m.deleted_at IS NOT NULL AS deleted, m.mentions, m.mention_all,
       {FILES_OF_MESSAGE_SQL}"""

_SELECT = f"""
SELECT {MESSAGE_COLUMNS}
FROM messages m JOIN users u ON u.id = m.user_id
"""


def message_row(r: Record) -> MessageRow:
    """A MessageRow from a record of ``MESSAGE_COLUMNS``."""
    edited = r["edited_at"]
    return MessageRow(
        r["channel_id"], r["seq"], r["id"], to_ms(r["created_at"]), r["user_id"], r["username"],
        r["display_name"], r["body"], bytes(r["cid"]), files_from_json(r["files"]), r["version"],
        to_ms(edited) if edited is not None else None, r["deleted"], tuple(r["mentions"]), r["mention_all"],
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
    return [message_row(r) for r in rows]


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
    return [message_row(r) for r in reversed(rows)]
