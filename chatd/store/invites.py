"""Named queries on ``invites``: one-time registration codes, stored as SHA-256 digests."""

from __future__ import annotations

from dataclasses import dataclass

from chatd.store.db import Conn


@dataclass(frozen=True)
class InviteRow:
    """An invite as listed to admins (the code itself is never stored)."""

    id: int
    note: str
    created_at: float
    expires_at: float
    used_at: float | None
    used_by: str | None  # the username that used it
    revoked_at: float | None

    def usable(self, now: float) -> bool:
        """True iff the invite can still be used at ``now``."""
        return self.used_at is None and self.revoked_at is None and self.expires_at > now


_USABLE = "used_at IS NULL AND revoked_at IS NULL AND expires_at > to_timestamp($2)"


async def create_invite(db: Conn, code_hash: bytes, note: str, now: float, expires_at: float) -> int:
    """Store a new invite; returns its id."""
    invite_id: int = await db.fetchval(
        "invites.create",
        """INSERT INTO invites (code_hash, note, created_at, expires_at)
           VALUES ($1, $3, to_timestamp($2), to_timestamp($4)) RETURNING id""",
        code_hash, now, note, expires_at,
    )
    return invite_id


async def invite_usable(db: Conn, code_hash: bytes, now: float) -> bool:
    """True iff the code names an invite usable at ``now`` (a pre-check; ``consume`` decides)."""
    return bool(await db.fetchval(
        "invites.usable", f"SELECT EXISTS (SELECT 1 FROM invites WHERE code_hash = $1 AND {_USABLE})", code_hash, now
    ))


async def consume_invite(db: Conn, code_hash: bytes, now: float) -> int | None:
    """Mark the invite used (inside the registering transaction); its id, or None if unusable.

    The row lock taken by the UPDATE makes two registrations racing for one code serialise:
    the second finds ``used_at`` set and gets None.
    """
    invite_id: int | None = await db.fetchval(
        "invites.consume",
        f"UPDATE invites SET used_at = to_timestamp($2) WHERE code_hash = $1 AND {_USABLE} RETURNING id",
        code_hash, now,
    )
    return invite_id


async def set_invite_user(db: Conn, *, invite_id: int, user_id: int) -> None:
    """Record which user an invite created."""
    await db.execute("invites.set_user", "UPDATE invites SET used_by = $2 WHERE id = $1", invite_id, user_id)


async def list_invites(db: Conn, now: float, include_unusable: bool) -> list[InviteRow]:
    """Invites, newest first: only usable ones unless ``include_unusable``."""
    rows = await db.fetch(
        "invites.list",
        """SELECT i.id, i.note,
                  extract(epoch FROM i.created_at)::float8 AS created_at,
                  extract(epoch FROM i.expires_at)::float8 AS expires_at,
                  extract(epoch FROM i.used_at)::float8 AS used_at,
                  u.username AS used_by,
                  extract(epoch FROM i.revoked_at)::float8 AS revoked_at
           FROM invites i LEFT JOIN users u ON u.id = i.used_by
           WHERE $1 OR (i.used_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > to_timestamp($2))
           ORDER BY i.id DESC""",
        include_unusable, now,
    )
    return [InviteRow(**dict(r)) for r in rows]


async def revoke_invite(db: Conn, *, invite_id: int, now: float) -> bool:
    """Revoke an unused invite. True iff it existed, was unused and not yet revoked."""
    status = await db.execute(
        "invites.revoke",
        "UPDATE invites SET revoked_at = to_timestamp($2) WHERE id = $1 AND used_at IS NULL AND revoked_at IS NULL",
        invite_id, now,
    )
    return status.endswith(" 1")
