"""The registry of live WebSocket connections, by session and by user.

The gateway registers each authenticated connection; logout, session revocation, disabling a
user and session expiry use the registry to end the affected connections at once, and membership
changes reach every connection of the user through it (``chatd.membership``). Connections
implement ``LiveConnection``, whose methods never block.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Protocol

from chatd.auth.sessions import Principal
from chatd.wire.errors import CLOSE_UNAUTHENTICATED


class LiveConnection(Protocol):
    """What the daemon may do with a live, authenticated connection. Nothing here blocks."""

    @property
    def session_id(self) -> int: ...

    @property
    def user_id(self) -> int: ...

    @property
    def is_admin(self) -> bool: ...

    def end(self, code: int, reason: str, push_session_expired: bool) -> None:
        """Schedule: optionally push ``session.expired``, then close with ``code``."""
        ...

    def push_bytes(self, frame: bytes) -> None:
        """Queue an encoded server frame (a slow consumer is closed, never waited for)."""
        ...

    def join_channel(self, ch: int, *, role: str, private: bool, dm: bool, last_seq: int, added: bytes) -> None:
        """The user is now a member of ``ch``: subscribe live from ``last_seq`` on, queue ``added``."""
        ...

    def leave_channel(self, ch: int, removed: bytes) -> None:
        """The user left ``ch``: unsubscribe, queue ``removed``."""
        ...

    def refresh(self, principal: Principal) -> None:
        """The session was re-checked: act as ``principal`` (a new expiry, a new display name)."""
        ...

    def rename(self, display_name: str) -> None:
        """The user changed their display name: use it from now on."""
        ...


class ConnectionRegistry:
    """Which live connections belong to which session and user, and every open socket (also
    before its hello), so a drain reaches them all. Not thread-safe (one Trio loop)."""

    def __init__(self) -> None:
        self._by_session: dict[int, set[LiveConnection]] = defaultdict(set)
        self._by_user: dict[int, set[LiveConnection]] = defaultdict(set)
        self._open: set[LiveConnection] = set()

    def opened(self, conn: LiveConnection) -> None:
        """A socket was accepted (authenticated or not): ``end_all`` will reach it."""
        self._open.add(conn)

    def closed(self, conn: LiveConnection) -> None:
        self._open.discard(conn)

    def end_all(self, code: int, reason: str) -> int:
        """Close every open socket with ``code`` (a drain: one call instead of a task per socket)."""
        conns = list(self._open)
        for conn in conns:
            conn.end(code, reason, False)
        return len(conns)

    def add(self, conn: LiveConnection) -> None:
        self._by_session[conn.session_id].add(conn)
        self._by_user[conn.user_id].add(conn)

    def discard(self, conn: LiveConnection) -> None:
        for index, key in ((self._by_session, conn.session_id), (self._by_user, conn.user_id)):
            bucket = index.get(key)
            if bucket is not None:
                bucket.discard(conn)
                if not bucket:
                    del index[key]

    def of_user(self, user_id: int) -> list[LiveConnection]:
        return list(self._by_user.get(user_id, ()))

    def count_of_user(self, user_id: int) -> int:
        return len(self._by_user.get(user_id, ()))

    def push_to_user(self, user_id: int, frame: bytes, *, skip: object = None) -> None:
        """Queue ``frame`` on every connection of ``user_id`` but ``skip``."""
        for conn in self._by_user.get(user_id, ()):
            if conn is not skip:
                conn.push_bytes(frame)

    def push_to_admins(self, frame: bytes) -> None:
        """Queue ``frame`` on every connection of an admin account."""
        for conn in [c for bucket in self._by_user.values() for c in bucket if c.is_admin]:
            conn.push_bytes(frame)

    def session_ids(self) -> list[int]:
        """Every session with at least one live connection."""
        return list(self._by_session)

    def of_session(self, session_id: int) -> list[LiveConnection]:
        return list(self._by_session.get(session_id, ()))

    def end_session(self, session_id: int, reason: str = "session ended") -> int:
        """Push ``session.expired`` and close 4001 on every connection of the session."""
        conns = self.of_session(session_id)
        for conn in conns:
            conn.end(CLOSE_UNAUTHENTICATED, reason, True)
        return len(conns)

    def end_user(self, user_id: int, reason: str = "account disabled") -> int:
        """Push ``session.expired`` and close 4001 on every connection of the user."""
        conns = self.of_user(user_id)
        for conn in conns:
            conn.end(CLOSE_UNAUTHENTICATED, reason, True)
        return len(conns)

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_session.values())


class SocketsByAddress:
    """How many WebSockets are open per client address key (``max_connections_per_address``).

    Counts sockets from the upgrade on, authenticated or not. Not thread-safe (one Trio loop).
    """

    def __init__(self) -> None:
        self._open: dict[str, int] = {}

    def try_open(self, key: str, limit: int) -> bool:
        """Count a socket of ``key`` unless ``limit`` (0: none) are open already; True if counted."""
        n = self._open.get(key, 0)
        if limit and n >= limit:
            return False
        self._open[key] = n + 1
        return True

    def close(self, key: str) -> None:
        """A socket counted by ``try_open`` ended."""
        n = self._open.get(key, 0) - 1
        if n > 0:
            self._open[key] = n
        else:
            self._open.pop(key, None)

    def __len__(self) -> int:
        """Addresses with at least one open socket."""
        return len(self._open)

    def total(self) -> int:
        """Open sockets, all addresses together."""
        return sum(self._open.values())
