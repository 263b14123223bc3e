"""A channel's stream (docs/architecture.md, "The stream"): its events in position order, the
changes that add events after a message was posted (edits, deletes), and previous versions.

A position holds either a message (``messages.seq``: the event of its posting) or a change
(``message_changes.seq``). Every read here returns messages as they are NOW — a replayed posting
of a message deleted since is its tombstone — so deleted content never leaves the database.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from chatd.store.db import Conn, Database
from chatd.store.files import release_message_files
from chatd.store.messages import MESSAGE_COLUMNS, MessageRow, message_row, to_ms


@dataclass(frozen=True, slots=True)
class Event:
    """The event at stream position ``pos``: the posting of ``message`` (``pos == message.seq``)
    or a change to it (``changed``); ``message`` is as it is now."""

    pos: int
    message: MessageRow

    @property
    def changed(self) -> bool:
        return self.pos != self.message.seq


@dataclass(frozen=True, slots=True)
class CountsRow:
    """A reader's counts of a channel after a change moved them; ``newly_mentioned``: the change
    made the message mention them."""

    user_id: int
    unread: int
    mentions: int
    newly_mentioned: bool


@dataclass(frozen=True, slots=True)
class Changed:
    """The outcome of an edit or a delete (sql ``chatd_change_message``).

    ``status``: ``ok`` (``pos`` is the change's position), ``unchanged`` (an edit to the same text
    and mentions: no position), ``not_found``, ``not_author``, ``window``. ``released``: the
    content hashes of files a delete released that no other upload shares (their bytes can go).
    """

    status: str
    pos: int | None = None
    version: int | None = None
    counts: tuple[CountsRow, ...] = ()
    released: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class VersionRow:
    """A previous version of an edited message: what it said, written at ``ts_ms``."""

    version: int
    body: str
    ts_ms: int
    mentions: tuple[int, ...]
    mention_all: bool


async def events_after(
    db: Conn, *, channel_id: int, after: int, limit: int, upto: int | None = None
) -> list[Event]:
    """Up to ``limit`` events at positions ``after < pos [<= upto]``, in position order, each
    with its message as it is now: ONE statement over messages and changes (resume replays and
    the actor's gap fill)."""
    rows = await db.fetch(
        "stream.events_after",
        f"""SELECT e.pos, {MESSAGE_COLUMNS}
            FROM (
                SELECT pos, message_seq FROM (
                    (SELECT x.seq AS pos, x.seq AS message_seq FROM messages x
                     WHERE x.channel_id = $1 AND x.seq > $2 AND ($4::bigint IS NULL OR x.seq <= $4)
                     ORDER BY x.seq LIMIT $3)
                    UNION ALL
                    (SELECT c.seq, c.message_seq FROM message_changes c
                     WHERE c.channel_id = $1 AND c.seq > $2 AND ($4::bigint IS NULL OR c.seq <= $4)
                     ORDER BY c.seq LIMIT $3)
                ) both_kinds ORDER BY pos LIMIT $3
            ) e
            JOIN messages m ON m.channel_id = $1 AND m.seq = e.message_seq
            JOIN users u ON u.id = m.user_id
            ORDER BY e.pos""",
        channel_id, after, limit, upto,
    )
    return [Event(r["pos"], message_row(r)) for r in rows]


async def message_at(db: Conn, *, channel_id: int, seq: int) -> MessageRow | None:
    """Message ``seq`` of the channel as it is now, or None."""
    r = await db.fetchrow(
        "stream.message_at",
        f"""SELECT {MESSAGE_COLUMNS} FROM messages m JOIN users u ON u.id = m.user_id
            WHERE m.channel_id = $1 AND m.seq = $2""",
        channel_id, seq,
    )
    return message_row(r) if r is not None else None


async def change_message(
    db: Database, *, channel_id: int, seq: int, user_id: int, delete: bool, body: str = "",
    mentions: Sequence[int] = (), mention_all: bool = False, moderator: bool = False, window_secs: int = 0,
    readers: Sequence[int] = (),
) -> Changed:
    """Edit (``body``, ``mentions``, ``mention_all``) or ``delete`` message ``seq``, as ``user_id``.

    One transaction: the checks and the change in one statement (sql ``chatd_change_message``:
    who may, the window, the new position, the versions, the purge), and for a delete the release
    of its files (``release_message_files``). ``moderator``: the user is the channel's owner or an
    admin (may delete any message). ``readers``: users whose new counts to return if it moves them.
    """
    async with db.transaction("messages.change") as tx:
        r = await tx.fetchrow(
            "messages.change",
            """SELECT status, pos, message_id, version, had_files, counts::text AS counts
               FROM chatd_change_message($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
            channel_id, seq, user_id, delete, body, list(mentions), mention_all, moderator, window_secs,
            list(readers),
        )
        assert r is not None
        released: list[bytes] = []
        if r["status"] == "ok" and delete and r["had_files"]:
            released = await release_message_files(tx, message_id=r["message_id"])
    counts = tuple(CountsRow(*c) for c in json.loads(r["counts"] or "[]"))
    return Changed(r["status"], r["pos"], r["version"], counts, tuple(released))


async def versions_of(db: Conn, *, channel_id: int, seq: int) -> list[VersionRow] | None:
    """The previous versions of message ``seq``, oldest first; None if there is no such message
    or it was deleted."""
    rows = await db.fetch(
        "messages.versions",
        """SELECT v.version, v.body, v.written_at, v.mentions, v.mention_all, m.deleted_at IS NULL AS alive
           FROM messages m LEFT JOIN message_versions v ON v.message_id = m.id
           WHERE m.channel_id = $1 AND m.seq = $2
           ORDER BY v.version""",
        channel_id, seq,
    )
    if not rows or not rows[0]["alive"]:
        return None
    return [
        VersionRow(r["version"], r["body"], to_ms(r["written_at"]), tuple(r["mentions"]), r["mention_all"])
        for r in rows if r["version"] is not None
    ]
