"""Channels and membership: named queries (the name is the log name), returning frozen rows."""

from __future__ import annotations

import json
from dataclasses import dataclass

from chatd.store.db import Conn, Database, Record

# Unread counts are exact up to this many; beyond it the client shows "9999+". Counting a
# larger gap costs a longer index range scan on every channel list for no one's benefit.
# (sql chatd_unread_counts has the same number.)
UNREAD_COUNT_CAP = 9999
DEFAULT_CHANNEL = "general"
DEFAULT_CHANNEL_DESCRIPTION = "Everyone is here. Say hello!"


@dataclass(frozen=True, slots=True)
class Access:
    """What a user may do with a channel. ``role`` is None for a non-member; ``dm``: a direct
    message conversation (its people are fixed)."""

    id: int
    private: bool
    role: str | None
    last_seq: int
    dm: bool = False

    @property
    def visible(self) -> bool:
        """True iff the user may learn the channel exists (public, or a member)."""
        return not self.private or self.role is not None


@dataclass(frozen=True, slots=True)
class UserRef:
    """An active user found by name."""

    id: int
    username: str
    display_name: str


@dataclass(frozen=True, slots=True)
class ChannelRow:
    """A channel as one of its members sees it: role, read marker, and the counts as of
    ``last_seq`` (unread messages of others, those that mention the member), notification
    settings; ``dm``: the other people of a direct message conversation (None for a channel)."""

    id: int
    name: str
    description: str
    private: bool
    role: str
    last_seq: int
    read_seq: int
    unread: int
    mentions: int = 0
    notify: str = "mentions"
    muted: bool = False
    dm: tuple[UserRef, ...] | None = None


@dataclass(frozen=True, slots=True)
class ReadState:
    """A read marker after a ``read``: whether it moved, where it is, and the counts as of
    ``last_seq``."""

    moved: bool
    seq: int
    unread: int
    mentions: int
    last_seq: int


@dataclass(frozen=True, slots=True)
class PublicChannelRow:
    """A public channel as the channel browser lists it."""

    id: int
    name: str
    description: str
    members: int
    joined: bool


@dataclass(frozen=True, slots=True)
class MemberRow:
    """A member of a channel."""

    user_id: int
    username: str
    display_name: str
    role: str


@dataclass(frozen=True, slots=True)
class ChannelRef:
    """A channel found by name."""

    id: int
    name: str
    private: bool


# Unread: messages of others after the read marker, never tombstones (a user's own messages are
# never unread); mentions: those of them that mention the user. One statement, so the counts
# and last_seq are of one snapshot: the counts are as of last_seq (PROTOCOL.md §10.3). A
# conversation's name is its other people's display names.
_CHANNEL_FOR_USER = """
SELECT c.id, c.name, c.description, c.private, m.role, c.last_seq, m.read_seq, n.unread, n.mentions,
       coalesce(m.notify, CASE WHEN c.kind = 'dm' THEN 'all' ELSE 'mentions' END) AS notify, m.muted,
       CASE WHEN c.kind = 'dm' THEN (
           SELECT coalesce(json_agg(json_build_array(u.id, u.username, u.display_name) ORDER BY u.username_key), '[]')
           FROM channel_members o JOIN users u ON u.id = o.user_id
           WHERE o.channel_id = c.id AND o.user_id <> m.user_id) END AS dm
FROM channel_members m JOIN channels c ON c.id = m.channel_id
CROSS JOIN LATERAL chatd_unread_counts(c.id, m.user_id, m.read_seq) n
WHERE m.user_id = $1
"""


def _channel(r: Record) -> ChannelRow:
    dm = None
    name = r["name"]
    if r["dm"] is not None:
        dm = tuple(UserRef(*u) for u in json.loads(r["dm"]))
        name = ", ".join(u.display_name for u in dm) or "Notes to self"
    return ChannelRow(
        r["id"], name, r["description"], r["private"], r["role"], r["last_seq"], r["read_seq"], r["unread"],
        r["mentions"], r["notify"], r["muted"], dm,
    )


async def list_channels_for_user(db: Conn, *, user_id: int) -> list[ChannelRow]:
    """The user's channels, by name."""
    rows = await db.fetch("channels.list_for_user", _CHANNEL_FOR_USER + " ORDER BY c.name_key", user_id)
    return [_channel(r) for r in rows]


async def get_channel_for_member(db: Conn, *, user_id: int, channel_id: int) -> ChannelRow | None:
    """The channel as the user sees it, or None if the user is not a member."""
    row = await db.fetchrow("channels.get_for_member", _CHANNEL_FOR_USER + " AND c.id = $2", user_id, channel_id)
    return _channel(row) if row else None


async def get_access(db: Conn, *, user_id: int, channel_id: int) -> Access | None:
    """The channel and the user's role in it, or None if no such channel."""
    row = await db.fetchrow(
        "channels.get_access",
        """SELECT c.id, c.private, c.last_seq, m.role, c.kind = 'dm' AS dm
           FROM channels c LEFT JOIN channel_members m ON m.channel_id = c.id AND m.user_id = $1
           WHERE c.id = $2""",
        user_id,
        channel_id,
    )
    if row is None:
        return None
    return Access(row["id"], row["private"], row["role"], row["last_seq"], row["dm"])


async def member_channel_ids(db: Conn, *, user_id: int) -> set[int]:
    rows = await db.fetch("channels.member_ids", "SELECT channel_id FROM channel_members WHERE user_id = $1", user_id)
    return {r["channel_id"] for r in rows}


async def get_last_seq(db: Conn, *, channel_id: int) -> int | None:
    """The channel's last seq (0 before its first message), or None if no such channel."""
    last: int | None = await db.fetchval(
        "channels.last_seq", "SELECT last_seq FROM channels WHERE id = $1", channel_id
    )
    return last


async def create_channel(
    db: Database, *, name: str, name_key: str, description: str, private: bool, owner_id: int
) -> int:
    """Create a channel with ``owner_id`` as its owner; raises UniqueViolation on a taken name."""
    async with db.transaction("channels.create") as tx:
        channel_id: int = await tx.fetchval(
            "channels.insert",
            """INSERT INTO channels (name, name_key, description, private, created_by)
               VALUES ($1, $2, $3, $4, $5) RETURNING id""",
            name, name_key, description, private, owner_id,
        )
        await tx.execute(
            "channels.add_owner",
            "INSERT INTO channel_members (channel_id, user_id, role) VALUES ($1, $2, 'owner')",
            channel_id, owner_id,
        )
    return channel_id


async def ensure_default_channel(db: Conn) -> None:
    """Create the default public channel ``#general`` if it does not exist (idempotent)."""
    await db.execute(
        "channels.ensure_default",
        """INSERT INTO channels (name, name_key, description, private)
           VALUES ($1, $1, $2, false) ON CONFLICT (name_key) DO NOTHING""",
        DEFAULT_CHANNEL,
        DEFAULT_CHANNEL_DESCRIPTION,
    )


async def find_channel_by_key(db: Conn, name_key: str) -> ChannelRef | None:
    row = await db.fetchrow(
        "channels.find_by_key", "SELECT id, name, private FROM channels WHERE name_key = $1", name_key
    )
    return ChannelRef(row["id"], row["name"], row["private"]) if row else None


async def add_member(db: Conn, *, channel_id: int, user_id: int) -> bool:
    """Add a member (read marker at the current end); False if already a member."""
    status = await db.execute(
        "channels.add_member",
        """INSERT INTO channel_members (channel_id, user_id, role, read_seq)
           SELECT $1, $2, 'member', c.last_seq FROM channels c WHERE c.id = $1
           ON CONFLICT DO NOTHING""",
        channel_id, user_id,
    )
    return status.endswith(" 1")


async def remove_member(db: Database, *, channel_id: int, user_id: int) -> bool:
    """Remove a member; an owner who leaves hands ownership to the longest-standing member."""
    async with db.transaction("channels.remove_member") as tx:
        role = await tx.fetchval(
            "channels.delete_member",
            "DELETE FROM channel_members WHERE channel_id = $1 AND user_id = $2 RETURNING role",
            channel_id, user_id,
        )
        if role is None:
            return False
        if role == "owner":
            await tx.execute(
                "channels.promote_successor",
                """UPDATE channel_members SET role = 'owner'
                   WHERE (channel_id, user_id) = (
                       SELECT channel_id, user_id FROM channel_members
                       WHERE channel_id = $1 ORDER BY joined_at, user_id LIMIT 1)
                     AND NOT EXISTS (SELECT 1 FROM channel_members
                                     WHERE channel_id = $1 AND role = 'owner')""",
                channel_id,
            )
    return True


_MEMBER = """SELECT u.id, u.username, u.display_name, m.role
             FROM channel_members m JOIN users u ON u.id = m.user_id
             WHERE m.channel_id = $1"""


def _member(r: Record) -> MemberRow:
    return MemberRow(r["id"], r["username"], r["display_name"], r["role"])


async def list_members(db: Conn, *, channel_id: int) -> list[MemberRow]:
    """The channel's members, by username."""
    rows = await db.fetch("channels.list_members", _MEMBER + " ORDER BY u.username_key", channel_id)
    return [_member(r) for r in rows]


async def get_member(db: Conn, *, channel_id: int, user_id: int) -> MemberRow | None:
    row = await db.fetchrow("channels.get_member", _MEMBER + " AND m.user_id = $2", channel_id, user_id)
    return _member(row) if row else None


async def browse_public(
    db: Conn, *, user_id: int, q: str | None, after: str | None, limit: int
) -> tuple[list[PublicChannelRow], str | None]:
    """A page of public channels by name, optionally filtered by a substring; keyset on name_key."""
    rows = await db.fetch(
        "channels.browse_public",
        """SELECT c.id, c.name, c.description, c.name_key,
                  (SELECT count(*) FROM channel_members x WHERE x.channel_id = c.id) AS members,
                  EXISTS (SELECT 1 FROM channel_members x WHERE x.channel_id = c.id AND x.user_id = $1) AS joined
           FROM channels c
           WHERE NOT c.private
             AND ($2::text IS NULL OR c.name_key > $2)
             AND ($3::text IS NULL OR strpos(c.name_key, $3) > 0 OR strpos(lower(c.description), $3) > 0)
           ORDER BY c.name_key
           LIMIT $4""",
        user_id, after, q, limit + 1,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    page = [PublicChannelRow(r["id"], r["name"], r["description"], r["members"], r["joined"]) for r in rows]
    return page, (rows[-1]["name_key"] if more and rows else None)


async def set_read_marker(db: Conn, *, channel_id: int, user_id: int, seq: int) -> ReadState | None:
    """Move the read marker forward to ``seq`` (clamped to the channel's end); never backwards.

    Returns the marker (``moved`` if this call moved it) and the counts after it, as of the
    channel's end in the same snapshot; None if the user is not a member.
    """
    r = await db.fetchrow(
        "channels.set_read",
        """WITH moved AS (
               UPDATE channel_members m SET read_seq = least($3, c.last_seq)
               FROM channels c
               WHERE c.id = m.channel_id AND m.channel_id = $1 AND m.user_id = $2
                 AND m.read_seq < least($3, c.last_seq)
               RETURNING m.read_seq
           )
           SELECT moved.read_seq IS NOT NULL AS moved, coalesce(moved.read_seq, m.read_seq) AS read_seq,
                  n.unread, n.mentions, c.last_seq
           FROM channel_members m JOIN channels c ON c.id = m.channel_id
           LEFT JOIN moved ON true
           CROSS JOIN LATERAL chatd_unread_counts($1, $2, coalesce(moved.read_seq, m.read_seq)) n
           WHERE m.channel_id = $1 AND m.user_id = $2""",
        channel_id, user_id, seq,
    )
    if r is None:
        return None
    return ReadState(r["moved"], r["read_seq"], r["unread"], r["mentions"], r["last_seq"])


async def set_notify(db: Conn, *, channel_id: int, user_id: int, notify: str | None, muted: bool | None) -> bool:
    """Change the member's notification level and/or mute of the channel (None: keep it);
    False if the user is not a member."""
    status = await db.execute(
        "channels.set_notify",
        """UPDATE channel_members SET notify = coalesce($3, notify), muted = coalesce($4, muted)
           WHERE channel_id = $1 AND user_id = $2""",
        channel_id, user_id, notify, muted,
    )
    return status.endswith(" 1")


async def find_user_by_key(db: Conn, username_key: str) -> UserRef | None:
    """The active (not disabled) user with this normalised username, or None."""
    row = await db.fetchrow(
        "users.find_by_key",
        "SELECT id, username, display_name FROM users WHERE username_key = $1 AND disabled_at IS NULL",
        username_key,
    )
    return UserRef(row["id"], row["username"], row["display_name"]) if row else None
