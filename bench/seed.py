"""Populate and check the database directly (asyncpg on the embedded cluster's unix socket).

Bench users are created in SQL, not through /api/register: registration costs an argon2 hash
(~250 ms here), which would make 10,000 users take 40 minutes. Each user gets an API session
(kind ``api``: no idle timeout) whose token only the bench knows; the database keeps its SHA-256,
exactly as ``chatd.auth.tokens.digest`` computes it. Large message sets are written with one
``INSERT … SELECT generate_series`` and ``channels.last_seq`` is set to match, never through
the WebSocket.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg

T = TypeVar("T")


@dataclass(frozen=True)
class BenchUser:
    id: int
    name: str
    token: str


def token_digest(token: str) -> bytes:
    """What chatd stores for a session token (chatd.auth.tokens.digest)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def run_db(dsn: str, fn: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """Open one connection, run ``fn`` with it, close it (synchronous, for the runner)."""

    async def main() -> T:
        conn = await asyncpg.connect(dsn, timeout=60)
        try:
            return await fn(conn)
        finally:
            await conn.close()

    return asyncio.run(main())


async def create_users(conn: asyncpg.Connection, prefix: str, n: int) -> list[BenchUser]:
    """``n`` users named ``{prefix}u{i}`` with one API session each."""
    names = [f"{prefix}u{i}" for i in range(n)]
    rows = await conn.fetch(
        """INSERT INTO users (username, username_key, display_name, password_hash)
           SELECT n, n, 'Bench ' || n, '!bench-no-password' FROM unnest($1::text[]) AS n
           RETURNING id, username""",
        names,
    )
    ids = {r["username"]: r["id"] for r in rows}
    tokens = [secrets.token_urlsafe(32) for _ in names]
    await conn.execute(
        """INSERT INTO sessions (user_id, token_hash, kind, expires_at, user_agent)
           SELECT u, h, 'api', now() + interval '2 days', 'chatd-bench'
           FROM unnest($1::bigint[], $2::bytea[]) AS t(u, h)""",
        [ids[n] for n in names],
        [token_digest(t) for t in tokens],
    )
    return [BenchUser(ids[n], n, t) for n, t in zip(names, tokens, strict=True)]


async def create_channels(conn: asyncpg.Connection, prefix: str, n: int) -> list[int]:
    """``n`` public channels named ``{prefix}c{i}``; returns their ids in order."""
    names = [f"{prefix}c{i}" for i in range(n)]
    rows = await conn.fetch(
        """INSERT INTO channels (name, name_key, description)
           SELECT n, n, 'chatd bench' FROM unnest($1::text[]) AS n RETURNING id, name""",
        names,
    )
    ids = {r["name"]: r["id"] for r in rows}
    return [ids[n] for n in names]


async def add_members(conn: asyncpg.Connection, pairs: list[tuple[int, int]]) -> None:
    """Insert (channel, user) memberships."""
    await conn.execute(
        """INSERT INTO channel_members (channel_id, user_id)
           SELECT c, u FROM unnest($1::bigint[], $2::bigint[]) AS t(c, u) ON CONFLICT DO NOTHING""",
        [c for c, _ in pairs],
        [u for _, u in pairs],
    )


async def seed_messages(conn: asyncpg.Connection, ch: int, user_ids: list[int], count: int) -> None:
    """``count`` messages in ``ch`` (seq 1..count, authors round-robin), then last_seq = count.

    They are not added to the search index (S6 reads history only; S9 indexes its own corpus):
    indexing a million messages in one statement would take minutes of S6's setup.
    """
    async with conn.transaction():
        await conn.execute("ALTER TABLE messages DISABLE TRIGGER messages_search_insert")
        await conn.execute(
            """INSERT INTO messages (channel_id, seq, user_id, cid, body, created_at)
               SELECT $1, g, ($2::bigint[])[1 + g % cardinality($2::bigint[])],
                      decode(md5('seed:' || ($1::bigint)::text || ':' || g::text), 'hex'),
                      'seeded message number ' || g::text || ' — ' || md5(g::text),
                      now() - make_interval(secs => ($3 - g)::double precision)
               FROM generate_series(1, $3::bigint) AS g""",
            ch, user_ids, count,
        )
        await conn.execute("ALTER TABLE messages ENABLE TRIGGER messages_search_insert")
        await conn.execute("UPDATE channels SET last_seq = $2 WHERE id = $1", ch, count)
    await conn.execute("ANALYZE messages")


async def channel_last_seqs(conn: asyncpg.Connection, channels: list[int]) -> dict[int, int]:
    rows = await conn.fetch("SELECT id, last_seq FROM channels WHERE id = ANY($1::bigint[])", channels)
    return {r["id"]: r["last_seq"] for r in rows}


async def verify_store(
    conn: asyncpg.Connection, channels: list[int], acked: list[tuple[int, int, bytes]]
) -> dict[str, Any]:
    """What the database holds for the scenario's channels, checked against the acks.

    - ``gaps``: seqs missing below each channel's last_seq (seqs must be dense);
    - ``duplicated_rows``: stored bodies that occur more than once (a retried send stored twice;
      every bench body is unique per logical message);
    - ``acked_missing``: acks whose (channel, seq, cid) is not stored.
    """
    rows = await conn.fetch(
        """SELECT c.id, c.last_seq, count(m.seq) AS n, coalesce(max(m.seq), 0) AS top,
                  count(DISTINCT m.body) AS bodies
           FROM channels c LEFT JOIN messages m ON m.channel_id = c.id
           WHERE c.id = ANY($1::bigint[]) GROUP BY c.id""",
        channels,
    )
    gaps = sum(r["last_seq"] - r["n"] for r in rows)
    dup_rows = sum(r["n"] - r["bodies"] for r in rows)
    missing = 0
    if acked:
        missing = await conn.fetchval(
            """SELECT count(*) FROM unnest($1::bigint[], $2::bigint[], $3::bytea[]) AS a(ch, seq, cid)
               LEFT JOIN messages m ON m.channel_id = a.ch AND m.seq = a.seq AND m.cid = a.cid
               WHERE m.seq IS NULL""",
            [a[0] for a in acked], [a[1] for a in acked], [a[2] for a in acked],
        )
    acked_seqs = [(a[0], a[1]) for a in acked]
    return {
        "stored": sum(r["n"] for r in rows),
        "gaps": gaps,
        "duplicated_rows": dup_rows,
        "acked_missing": missing,
        "acked_twice": len(acked_seqs) - len(set(acked_seqs)),
        "last_seq": {r["id"]: r["last_seq"] for r in rows},
    }
