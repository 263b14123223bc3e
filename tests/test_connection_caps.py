"""Connections per user and per client address are capped, with a clear refusal (issue 16)."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import trio
import trio.testing
from trio_websocket import WebSocketConnection, open_websocket_url

from chatd.auth.passwords import Passwords
from chatd.clock import FakeClock
from chatd.config import Config
from chatd.store import Database
from tests.helpers.client import connect, register
from tests.helpers.memory import run_memory_daemon
from tests.helpers.server import (
    Response,
    RunningServer,
    http_request,
    insecure_ssl_context,
    run_test_server,
)
from tests.test_auth_support import FAST_PARAMETERS


async def test_a_user_over_the_cap_is_told_and_closed_1013(
    server_config: Config, db: Database, clock: FakeClock
) -> None:
    cfg = replace(server_config, max_connections_per_user=2)
    async with run_memory_daemon(cfg, db, Passwords(FAST_PARAMETERS), clock) as daemon:
        alice = await register(daemon, "alice")
        bob = await register(daemon, "bob")
        async with connect(daemon, alice):
            async with connect(daemon, alice):
                async with connect(daemon, alice, hello=False) as third:
                    reply = await third.request("hello", v=1)
                    assert (reply["op"], reply["code"]) == ("error", "too_many_connections")
                    assert (await third.wait_closed()).code == 1013
                async with connect(daemon, bob) as b:  # another user is not affected
                    await b.ok("ping")
            await trio.testing.wait_all_tasks_blocked()  # the second one has ended
            async with connect(daemon, alice) as again:  # its place is free again
                await again.ok("ping")
                assert daemon.state.connections.count_of_user(alice.user_id) == 2


@asynccontextmanager
async def upgrade(server: RunningServer, forwarded_for: str | None) -> AsyncIterator[WebSocketConnection]:
    """An open WebSocket (from ``forwarded_for`` as a trusted proxy would say)."""
    headers = [("X-Forwarded-For", forwarded_for)] if forwarded_for else []
    async with open_websocket_url(server.ws_url, ssl_context=insecure_ssl_context(), extra_headers=headers) as ws:
        try:
            yield ws
        finally:  # trio-websocket 0.12 may leave its TCP stream open (see test_auth_ws)
            with trio.CancelScope(shield=True):
                await ws._stream.aclose()


async def refused_upgrade(server: RunningServer, forwarded_for: str) -> Response:
    """A WebSocket handshake over plain HTTP (trio-websocket leaks its socket when refused)."""
    return await http_request("GET", server.ws_url.replace("wss:", "https:"), headers={
        "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(), "X-Forwarded-For": forwarded_for,
    })


async def test_an_address_over_the_cap_gets_429(server_config: Config, db: Database, nursery: trio.Nursery) -> None:
    cfg = replace(server_config, max_connections_per_address=2, trusted_proxies=("127.0.0.1",))
    async with run_test_server(cfg, db, nursery) as server:
        async with upgrade(server, "192.0.2.7"), upgrade(server, "192.0.2.7"):
            refused = await refused_upgrade(server, "192.0.2.7")
            assert refused.status == 429
            assert refused.json["error"] == "too_many_connections"
            assert int(refused.headers["retry-after"]) > 0
            async with upgrade(server, "192.0.2.8"):  # another address
                pass
            async with upgrade(server, None), upgrade(server, None), upgrade(server, None):
                pass  # loopback itself (a local proxy, a tool) is not capped
        await trio.testing.wait_all_tasks_blocked()
        assert len(server.state.sockets) == 0  # closed sockets free their places
        async with upgrade(server, "192.0.2.7"):
            pass
