"""Direct message conversations (feature "dms"): private channels of a fixed set of people, found
by that set (``channels.dm_key``: the sorted member ids), and the directory of people to write to.

A conversation's ``name_key`` is U+0001 'dm:' + its key: no channel name can contain U+0001
(names refuse control characters), so conversations never meet channel names, and search's
``dm:`` names them by that key (``dm_name_keys``).
"""

from __future__ import annotations

from collections.abc import Sequence

from chatd.store.channels import UserRef
from chatd.store.db import Conn, Database

DM_KEY_PREFIX = "\x01dm:"


def dm_key(user_ids: Sequence[int]) -> str:
    """The key of the conversation of exactly these people (any order, repeats ignored)."""
    return ",".join(str(u) for u in sorted(set(user_ids)))


async def find_users_by_keys(db: Conn, username_keys: Sequence[str]) -> list[UserRef]:
    """The active users with these normalised usernames (unknown or disabled ones are missing)."""
    rows = await db.fetch(
        "dms.find_users",
        "SELECT id, username, display_name FROM users WHERE username_key = ANY($1::text[]) AND disabled_at IS NULL",
        list(username_keys),
    )
    return [UserRef(r["id"], r["username"], r["display_name"]) for r in rows]


async def open_dm(db: Database, *, user_ids: Sequence[int], creator: int) -> tuple[int, bool]:
    """The conversation of ``user_ids`` (made now if new: then every one is a member at once);
    returns (channel id, created). Two racing opens of the same people make one conversation:
    the unique key decides, the loser reads the winner's."""
    key = dm_key(user_ids)
    async with db.transaction("dms.open") as tx:
        created = await tx.fetchval(
            "dms.insert",
            """INSERT INTO channels (name, name_key, description, private, created_by, kind, dm_key)
               VALUES ('', $1 || $2, '', true, $3, 'dm', $2)
               ON CONFLICT (dm_key) DO NOTHING RETURNING id""",
            DM_KEY_PREFIX, key, creator,
        )
        if created is not None:
            await tx.execute(
                "dms.add_members",
                "INSERT INTO channel_members (channel_id, user_id, role) SELECT $1, u, 'member' FROM unnest($2::bigint[]) u",
                created, sorted(set(user_ids)),
            )
            return created, True
    found: int = await db.fetchval("dms.find", "SELECT id FROM channels WHERE dm_key = $1", key)
    return found, False


async def dm_name_keys(db: Conn, *, user_id: int, username_keys: Sequence[str]) -> list[str]:
    """The name keys of ``user_id``'s conversations that also have any of these people (for
    search's ``dm:``); none when there are none."""
    rows = await db.fetch(
        "dms.name_keys",
        """SELECT DISTINCT c.name_key FROM channels c
           JOIN channel_members me ON me.channel_id = c.id AND me.user_id = $1
           JOIN channel_members o ON o.channel_id = c.id
           JOIN users u ON u.id = o.user_id
           WHERE c.kind = 'dm' AND u.username_key = ANY($2::text[])""",
        user_id, list(username_keys),
    )
    return [r["name_key"] for r in rows]


async def find_people(db: Conn, *, q: str | None, limit: int) -> list[UserRef]:
    """Active users whose username or display name contains ``q`` (case and accents ignored),
    by username."""
    rows = await db.fetch(
        "dms.find_people",
        """SELECT id, username, display_name FROM users
           WHERE disabled_at IS NULL
             AND ($1::text IS NULL OR strpos(chatd_search_lower(unaccent(username || ' ' || display_name)),
                                             chatd_search_lower(unaccent($1))) > 0)
           ORDER BY username_key LIMIT $2""",
        q, limit,
    )
    return [UserRef(r["id"], r["username"], r["display_name"]) for r in rows]
