"""Named queries on ``users`` (and the default-channel membership made at registration).

Times are epoch seconds (float) passed in by the caller, from the app's clock: the store never
reads the wall clock itself, so tests can move time.
"""

from __future__ import annotations

from dataclasses import dataclass

from chatd.store.db import Conn, Record

DEFAULT_CHANNEL_KEY = "general"

_USER_COLUMNS = """id, username, username_key, display_name, password_hash, is_admin,
    disabled_at IS NOT NULL AS disabled, extract(epoch FROM created_at)::float8 AS created_at"""


@dataclass(frozen=True)
class UserRow:
    """One account as stored. ``password_hash`` never leaves the auth package."""

    id: int
    username: str
    username_key: str
    display_name: str
    password_hash: str
    is_admin: bool
    disabled: bool
    created_at: float


def _row(r: Record | None) -> UserRow | None:
    return None if r is None else UserRow(**dict(r))


async def get_user_by_key(db: Conn, username_key: str) -> UserRow | None:
    """The user whose normalised username is ``username_key``, or None."""
    return _row(await db.fetchrow(
        "users.get_by_key", f"SELECT {_USER_COLUMNS} FROM users WHERE username_key = $1", username_key
    ))


async def get_user_by_id(db: Conn, *, user_id: int) -> UserRow | None:
    """The user ``user_id``, or None."""
    return _row(await db.fetchrow("users.get_by_id", f"SELECT {_USER_COLUMNS} FROM users WHERE id = $1", user_id))


async def username_key_exists(db: Conn, username_key: str) -> bool:
    """True iff a user with this normalised username exists (a hint; the unique index decides)."""
    return bool(await db.fetchval(
        "users.key_exists", "SELECT EXISTS (SELECT 1 FROM users WHERE username_key = $1)", username_key
    ))


async def insert_user(
    db: Conn, *, username: str, username_key: str, display_name: str, password_hash: str,
    is_admin: bool, now: float,
) -> int:
    """Create a user; returns its id. Raises ``UniqueViolation`` (``users_username_key_uq``)."""
    user_id: int = await db.fetchval(
        "users.insert",
        """INSERT INTO users (username, username_key, display_name, password_hash, is_admin, created_at)
           VALUES ($1, $2, $3, $4, $5, to_timestamp($6)) RETURNING id""",
        username, username_key, display_name, password_hash, is_admin, now,
    )
    return user_id


async def add_user_to_default_channel(db: Conn, *, user_id: int) -> None:
    """Make ``user_id`` a member of ``#general`` (no-op if already, or if it does not exist)."""
    await db.execute(
        "users.join_default_channel",
        f"""INSERT INTO channel_members (channel_id, user_id)
            SELECT id, $1 FROM channels WHERE name_key = '{DEFAULT_CHANNEL_KEY}' ON CONFLICT DO NOTHING""",
        user_id,
    )


async def set_password_hash(db: Conn, *, user_id: int, password_hash: str, expected_old: str | None = None) -> bool:
    """Store a new password hash; with ``expected_old``, only if the hash is still that one.

    The conditional form is the login-time rehash: it must not overwrite a password that an
    admin or the user changed meanwhile. Returns True iff a row changed.
    """
    if expected_old is None:
        status = await db.execute(
            "users.set_password_hash", "UPDATE users SET password_hash = $2 WHERE id = $1", user_id, password_hash
        )
    else:
        status = await db.execute(
            "users.rehash_password",
            "UPDATE users SET password_hash = $2 WHERE id = $1 AND password_hash = $3",
            user_id, password_hash, expected_old,
        )
    return status.endswith(" 1")


async def set_user_disabled(db: Conn, *, user_id: int, disabled: bool, now: float) -> None:
    """Disable (at ``now``) or re-enable an account."""
    await db.execute(
        "users.set_disabled",
        "UPDATE users SET disabled_at = CASE WHEN $2 THEN coalesce(disabled_at, to_timestamp($3)) END WHERE id = $1",
        user_id, disabled, now,
    )


async def set_user_admin(db: Conn, *, user_id: int, is_admin: bool) -> None:
    """Grant or remove administrator rights."""
    await db.execute("users.set_admin", "UPDATE users SET is_admin = $2 WHERE id = $1", user_id, is_admin)


async def list_users(db: Conn) -> list[UserRow]:
    """Every account, oldest first."""
    rows = await db.fetch("users.list", f"SELECT {_USER_COLUMNS} FROM users ORDER BY id")
    return [UserRow(**dict(r)) for r in rows]


async def set_display_name(db: Conn, *, user_id: int, display_name: str) -> bool:
    """Store a new display name (already checked); True iff the user exists."""
    status = await db.execute(
        "users.set_display_name", "UPDATE users SET display_name = $2 WHERE id = $1", user_id, display_name
    )
    return status.endswith(" 1")
