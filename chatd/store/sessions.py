"""Named queries on ``sessions``: create, authenticate, list, revoke.

A session row is valid at time ``now`` iff it is not revoked, its user is not disabled, ``now`` is
before its absolute ``expires_at``, and (web sessions only) it was seen within the idle timeout:
``last_seen_at > now - idle``. API tokens (kind ``api``) have no idle timeout. Every query that
answers "is this session valid" applies exactly that condition (``_VALID``).

Times are epoch seconds passed in by the caller (the app's clock).
"""

from __future__ import annotations

from dataclasses import dataclass

from chatd.store.db import Conn

# $2 = now, $3 = now - idle (the oldest last_seen_at still valid).
_VALID = """s.revoked_at IS NULL AND u.disabled_at IS NULL AND s.expires_at > to_timestamp($2)
    AND (s.kind = 'api' OR s.last_seen_at > to_timestamp($3))"""


@dataclass(frozen=True)
class SessionAuth:
    """A valid session and its user, as of one authentication."""

    session_id: int
    user_id: int
    kind: str
    expires_at: float  # absolute
    last_seen_at: float  # after any refresh made by this query
    username: str
    display_name: str
    is_admin: bool


@dataclass(frozen=True)
class SessionInfo:
    """A session as listed to its owner or an admin (no secret in it)."""

    id: int
    user_id: int
    username: str
    kind: str
    created_at: float
    last_seen_at: float
    expires_at: float
    client_addr: str
    user_agent: str


def _auth_query(key: str) -> str:
    # One round trip: find the valid session and, if it was last seen over ``touch`` seconds ago
    # ($4 = now - touch), refresh last_seen_at. The refresh also keeps an idle session alive.
    return f"""
    WITH found AS (
        SELECT s.id, s.user_id, s.kind, s.expires_at, s.last_seen_at, u.username, u.display_name, u.is_admin
        FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE {key} AND {_VALID}
    ), touched AS (
        UPDATE sessions t SET last_seen_at = to_timestamp($2)
        FROM found WHERE t.id = found.id AND found.last_seen_at < to_timestamp($4)
        RETURNING t.id
    )
    SELECT found.id AS session_id, found.user_id, found.kind,
           extract(epoch FROM found.expires_at)::float8 AS expires_at,
           CASE WHEN found.id IN (SELECT id FROM touched) THEN $2::float8
                ELSE extract(epoch FROM found.last_seen_at)::float8 END AS last_seen_at,
           found.username, found.display_name, found.is_admin
    FROM found"""


_AUTH_BY_TOKEN = _auth_query("s.token_hash = $1")
_AUTH_BY_IDS = _auth_query("s.id = ANY($1::bigint[])")


async def authenticate_token(db: Conn, token_hash: bytes, now: float, idle_secs: float, touch_secs: float) -> SessionAuth | None:
    """The valid session whose token hashes to ``token_hash``; refreshes ``last_seen_at``."""
    row = await db.fetchrow("sessions.authenticate", _AUTH_BY_TOKEN, token_hash, now, now - idle_secs, now - touch_secs)
    return None if row is None else SessionAuth(**dict(row))


async def revalidate_sessions(
    db: Conn, session_ids: list[int], now: float, idle_secs: float, touch_secs: float
) -> dict[int, SessionAuth]:
    """The still-valid ones of ``session_ids`` (one round trip), refreshing ``last_seen_at``."""
    rows = await db.fetch(
        "sessions.revalidate_many", _AUTH_BY_IDS, session_ids, now, now - idle_secs, now - touch_secs
    )
    return {r["session_id"]: SessionAuth(**dict(r)) for r in rows}


async def create_session(
    db: Conn, *, user_id: int, token_hash: bytes, kind: str, now: float, expires_at: float,
    client_addr: str, user_agent: str,
) -> int:
    """Store a new session (only the token's hash); returns its id."""
    session_id: int = await db.fetchval(
        "sessions.create",
        """INSERT INTO sessions (user_id, token_hash, kind, created_at, last_seen_at, expires_at, client_addr, user_agent)
           VALUES ($1, $2, $3, to_timestamp($4), to_timestamp($4), to_timestamp($5), $6, $7) RETURNING id""",
        user_id, token_hash, kind, now, expires_at, client_addr, user_agent,
    )
    return session_id


async def replace_session_token(db: Conn, *, session_id: int, token_hash: bytes) -> None:
    """Give a session a new token (the old one stops working at once); the id stays."""
    await db.execute(
        "sessions.replace_token", "UPDATE sessions SET token_hash = $2 WHERE id = $1", session_id, token_hash
    )


_INFO_COLUMNS = """s.id, s.user_id, u.username, s.kind,
    extract(epoch FROM s.created_at)::float8 AS created_at,
    extract(epoch FROM s.last_seen_at)::float8 AS last_seen_at,
    extract(epoch FROM s.expires_at)::float8 AS expires_at,
    s.client_addr, s.user_agent"""


async def list_valid_sessions(db: Conn, *, now: float, idle_secs: float, user_id: int | None = None) -> list[SessionInfo]:
    """Valid sessions, most recently seen first; of one user when ``user_id`` is given."""
    rows = await db.fetch(
        "sessions.list_valid",
        f"""SELECT {_INFO_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id
            WHERE ($1::bigint IS NULL OR s.user_id = $1) AND {_VALID}
            ORDER BY s.last_seen_at DESC, s.id DESC""",
        user_id, now, now - idle_secs,
    )
    return [SessionInfo(**dict(r)) for r in rows]


async def get_session(db: Conn, *, session_id: int) -> SessionInfo | None:
    """A session by id, valid or not."""
    row = await db.fetchrow(
        "sessions.get", f"SELECT {_INFO_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1",
        session_id,
    )
    return None if row is None else SessionInfo(**dict(row))


async def revoke_session(db: Conn, *, session_id: int, now: float, user_id: int | None = None) -> bool:
    """Revoke one session (of ``user_id`` only, when given). True iff it was not revoked before."""
    status = await db.execute(
        "sessions.revoke",
        """UPDATE sessions SET revoked_at = to_timestamp($2)
           WHERE id = $1 AND revoked_at IS NULL AND ($3::bigint IS NULL OR user_id = $3)""",
        session_id, now, user_id,
    )
    return status.endswith(" 1")


async def revoke_user_sessions(db: Conn, *, user_id: int, now: float, keep_session: int | None = None) -> list[int]:
    """Revoke every session of ``user_id`` except ``keep_session``; returns the ids revoked now."""
    rows = await db.fetch(
        "sessions.revoke_user",
        """UPDATE sessions SET revoked_at = to_timestamp($2)
           WHERE user_id = $1 AND revoked_at IS NULL AND ($3::bigint IS NULL OR id <> $3)
           RETURNING id""",
        user_id, now, keep_session,
    )
    return sorted(int(r["id"]) for r in rows)


async def delete_dead_sessions(db: Conn, now: float, idle_secs: float, keep_secs: float) -> int:
    """Delete sessions revoked or expired more than ``keep_secs`` ago; returns how many."""
    cutoff = now - keep_secs
    status = await db.execute(
        "sessions.delete_dead",
        """DELETE FROM sessions
           WHERE revoked_at < to_timestamp($1) OR expires_at < to_timestamp($1)
              OR (kind = 'web' AND last_seen_at < to_timestamp($2))""",
        cutoff, cutoff - idle_secs,
    )
    return int(status.rsplit(" ", 1)[-1])


async def revoke_session_by_token(db: Conn, token_hash: bytes, now: float) -> int | None:
    """Revoke the session with this token (a browser replacing its cookie); its id, or None."""
    session_id: int | None = await db.fetchval(
        "sessions.revoke_by_token",
        "UPDATE sessions SET revoked_at = to_timestamp($2) WHERE token_hash = $1 AND revoked_at IS NULL RETURNING id",
        token_hash, now,
    )
    return session_id
