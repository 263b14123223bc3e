"""Sessions: the cookie, the ``Principal`` a request or socket acts as, and its validity.

A session is created at login or registration with a fresh 256-bit token that only the client
holds (the database keeps its SHA-256). It is valid until the first of: its absolute lifetime
(``session_max_secs``), ``session_idle_secs`` without use (web sessions only), revocation
(logout, ``DELETE /api/sessions/<id>``, log out everywhere, a password change, an admin), or the
user being disabled. Using a session (any authenticated request, or a WebSocket's periodic
``revalidate``) refreshes its ``last_seen_at`` at most once a minute.

``Sessions.authenticate`` and ``Sessions.revalidate`` are what the HTTP guard and the WebSocket
gateway call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from chatd.auth import tokens
from chatd.clock import Clock
from chatd.store import Conn
from chatd.store import sessions as session_store
from chatd.store.sessions import SessionAuth

log = logging.getLogger("chatd.auth")

# ``__Host-``: the browser only accepts it Secure, from a secure origin, with Path=/ and no
# Domain, so no sibling subdomain and no plain-HTTP response can plant or overwrite it.
SESSION_COOKIE = "__Host-chatd_session"
# last_seen_at is written at most this often per session: one UPDATE a minute instead of one per
# request, at the cost of idle expiry being up to a minute late.
TOUCH_SECS = 60.0
# API tokens (``chatd user token``): for bots and scripts; no idle timeout, a long lifetime.
API_TOKEN_DEFAULT_DAYS = 365
API_TOKEN_MAX_DAYS = 3650
CLIENT_ADDR_MAX_CHARS = 64
USER_AGENT_MAX_CHARS = 256


@dataclass(frozen=True)
class Principal:
    """Who a request or WebSocket acts as, as of its last (re)validation."""

    session_id: int
    user_id: int
    username: str
    display_name: str
    is_admin: bool
    # Epoch seconds when the session expires if nothing refreshes it: the earlier of the
    # absolute expiry and last_seen + idle timeout (API tokens: the absolute expiry).
    expires_at: float


@dataclass(frozen=True)
class NewSession:
    """A session just created: ``token`` goes to the client once and is never stored."""

    session_id: int
    token: str
    expires_at: float


def _principal(auth: SessionAuth, idle_secs: float) -> Principal:
    expires = auth.expires_at if auth.kind == "api" else min(auth.expires_at, auth.last_seen_at + idle_secs)
    return Principal(auth.session_id, auth.user_id, auth.username, auth.display_name, auth.is_admin, expires)


class Sessions:
    """Checks session and API tokens against the database, as of ``clock`` (one per daemon).

    ``authenticate`` is what the HTTP guard and the WebSocket gateway call for a presented token;
    ``revalidate_many`` is how the session keeper re-checks every live socket at once.
    """

    def __init__(self, db: Conn, clock: Clock, idle_secs: float) -> None:
        self.db = db
        self.clock = clock
        self.idle_secs = idle_secs

    async def authenticate(self, token: str) -> Principal | None:
        """The principal of a session or API token, or None (unknown, revoked, expired, disabled).

        One database round trip; refreshes ``last_seen_at`` at most once a minute. Raises
        ``chatd.store.Unavailable`` when the database cannot be reached.
        """
        if not tokens.plausible_token(token):
            return None
        auth = await session_store.authenticate_token(
            self.db, tokens.digest(token), self.clock.now(), self.idle_secs, TOUCH_SECS
        )
        return None if auth is None else _principal(auth, self.idle_secs)

    async def revalidate(self, principal: Principal) -> Principal | None:
        """Re-check ``principal``'s session: the refreshed principal (new ``expires_at``), or None.

        The one-session case of ``revalidate_many``; an open WebSocket thus counts as use and
        keeps its session from idling out. Raises ``Unavailable`` like ``authenticate``.
        """
        fresh = (await self.revalidate_many([principal.session_id])).get(principal.session_id)
        if fresh is None or fresh.user_id != principal.user_id:
            return None
        return fresh

    async def revalidate_many(self, session_ids: list[int]) -> dict[int, Principal]:
        """The refreshed principals of the still-valid sessions among ``session_ids``.

        One round trip for any number of sessions. Raises ``Unavailable``.
        """
        found = await session_store.revalidate_sessions(
            self.db, session_ids, self.clock.now(), self.idle_secs, TOUCH_SECS
        )
        return {sid: _principal(auth, self.idle_secs) for sid, auth in found.items()}


async def create_session(
    db: Conn, *, user_id: int, now: float, lifetime_secs: float, client_addr: str, user_agent: str,
    kind: str = "web",
) -> NewSession:
    """Start a session (``kind`` ``web``, or ``api`` for an API token) with a fresh token."""
    token = tokens.new_token()
    expires_at = now + lifetime_secs
    session_id = await session_store.create_session(
        db, user_id=user_id, token_hash=tokens.digest(token), kind=kind, now=now, expires_at=expires_at,
        client_addr=client_addr[:CLIENT_ADDR_MAX_CHARS], user_agent=user_agent[:USER_AGENT_MAX_CHARS],
    )
    log.info("event=auth.session_created session_id=%d user_id=%d kind=%s", session_id, user_id, kind)
    return NewSession(session_id, token, expires_at)


async def rotate_token(db: Conn, session_id: int) -> str:
    """Give ``session_id`` a new token (the old one stops working); returns the new token."""
    token = tokens.new_token()
    await session_store.replace_session_token(db, session_id=session_id, token_hash=tokens.digest(token))
    return token
