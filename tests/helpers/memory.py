"""A chatd daemon without HTTP: its services and real sessions, driven over memory transports.

``run_memory_daemon`` builds the daemon's state and starts its services (hub, pushers, LISTEN,
session keeper) exactly as ``chatd serve`` does, minus Hypercorn. ``open_session`` then runs a
real ``chatd.gateway.session.Session`` over a pair of memory channels, whose client end mimics
trio-websocket's ``WebSocketConnection`` (``send_message`` / ``get_message`` / ``aclose``), so the
protocol tests of tests/helpers/client.py run unchanged — without TLS, sockets or Hypercorn.
The end-to-end tests keep the real stack; these test the session and everything below it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import trio
from trio_websocket import CloseReason, ConnectionClosed

from chatd.auth.accounts import register as register_account
from chatd.auth.passwords import Passwords
from chatd.auth.sessions import Principal, create_session
from chatd.clock import Clock
from chatd.config import Config
from chatd.gateway.session import Session
from chatd.gateway.transport import PeerGone
from chatd.services import start_services
from chatd.state import DaemonState, build_state
from chatd.store import Database

QUEUE = 100_000  # the client end reads everything the server sends; tests bound their own waits
DRAIN_GRACE_SECS = 2.0
PEER_GONE = 1006  # "closed without a close frame", as trio-websocket reports a dropped peer


class ServerEnd:
    """The session's ``Transport`` over memory channels."""

    def __init__(self, incoming: trio.MemoryReceiveChannel[bytes | str],
                 outgoing: trio.MemorySendChannel[tuple[Any, ...]]) -> None:
        self._in, self._out = incoming, outgoing
        self.closed_with: tuple[int, str] | None = None

    async def receive(self) -> bytes | str:
        try:
            return await self._in.receive()
        except (trio.EndOfChannel, trio.ClosedResourceError):
            raise PeerGone() from None

    async def send(self, data: bytes) -> None:
        try:
            await self._out.send(("message", data))
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            raise PeerGone() from None

    def send_nowait(self, data: bytes) -> bool:
        try:
            self._out.send_nowait(("message", data))
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            raise PeerGone() from None
        return True  # QUEUE is deep enough for any test: nothing ever waits

    async def flush(self) -> None:
        await trio.lowlevel.checkpoint()

    async def close(self, code: int, reason: str) -> None:
        self.closed_with = (code, reason)
        try:
            await self._out.send(("close", code, reason))
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        await self._out.aclose()


class ClientEnd:
    """The test client's end: the subset of trio-websocket's API that ``Client`` uses."""

    def __init__(self, incoming: trio.MemoryReceiveChannel[tuple[Any, ...]],
                 outgoing: trio.MemorySendChannel[bytes | str]) -> None:
        self._in, self._out = incoming, outgoing
        self.closed: CloseReason | None = None

    async def get_message(self) -> bytes | str:
        if self.closed is not None:
            raise ConnectionClosed(self.closed)
        try:
            item = await self._in.receive()
        except (trio.EndOfChannel, trio.ClosedResourceError):
            self.closed = CloseReason(PEER_GONE, None)
            raise ConnectionClosed(self.closed) from None
        if item[0] == "close":
            self.closed = CloseReason(item[1], item[2])
            raise ConnectionClosed(self.closed)
        data: bytes = item[1]
        return data

    async def send_message(self, data: bytes | str) -> None:
        if self.closed is not None:
            raise ConnectionClosed(self.closed)
        try:
            await self._out.send(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self.closed = CloseReason(PEER_GONE, None)
            raise ConnectionClosed(self.closed) from None

    async def aclose(self) -> None:
        await self._out.aclose()


def transport_pair() -> tuple[ServerEnd, ClientEnd]:
    to_server_send, to_server_recv = trio.open_memory_channel[bytes | str](QUEUE)
    to_client_send, to_client_recv = trio.open_memory_channel[tuple[Any, ...]](QUEUE)
    return ServerEnd(to_server_recv, to_client_send), ClientEnd(to_client_recv, to_server_send)


@dataclass
class MemoryDaemon:
    """A running daemon (services started) whose sessions are opened in memory."""

    state: DaemonState
    nursery: trio.Nursery
    passwords: Passwords

    @property
    def config(self) -> Config:
        return self.state.config

    @property
    def db(self) -> Database:
        return self.state.db

    async def register(self, username: str, display: str | None = None) -> tuple[int, str]:
        """Create an account (cheap password hashing) and a web session: (user id, token)."""
        now = self.state.clock.now()
        account = await register_account(
            self.db, self.passwords, username=username, display_name=display or username.title(),
            password="correct horse battery", mode="admin", now=now,
        )
        session = await create_session(
            self.db, user_id=account.id, now=now, lifetime_secs=self.config.session_max_secs,
            client_addr="memory", user_agent="tests",
        )
        return account.id, session.token

    async def principal(self, token: str) -> Principal | None:
        """What the ``/ws`` route does with a session cookie."""
        return await self.state.sessions.authenticate(token)

    async def open_session(self, principal: Principal | None) -> tuple[Session, ClientEnd]:
        """Start a real session over a memory transport in the daemon's nursery."""
        server, client = transport_pair()
        session = Session(self.state, server, principal)
        self.nursery.start_soon(session.serve)
        return session, client


@asynccontextmanager
async def run_memory_daemon(
    cfg: Config, db: Database, passwords: Passwords, clock: Clock | None = None
) -> AsyncIterator[MemoryDaemon]:
    """Start the daemon's services; on exit drain (sessions close 1001) and stop them."""
    state = build_state(cfg, db, clock)
    async with trio.open_nursery() as services:
        await start_services(services, state)
        async with trio.open_nursery() as sessions:
            try:
                yield MemoryDaemon(state, sessions, passwords)
            finally:
                state.draining.set()  # live sessions close with 1001, as on SIGTERM
                # Like Hypercorn's graceful timeout: what has not closed by then is cancelled.
                sessions.cancel_scope.deadline = trio.current_time() + DRAIN_GRACE_SECS
        services.cancel_scope.cancel()
