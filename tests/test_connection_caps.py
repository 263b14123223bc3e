"""Connections per user and per client address are capped, with a clear refusal (issue 16)."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from dataclasses import replace
from typing import Any

import pytest
import trio
import trio.testing
from trio_websocket import WebSocketConnection, open_websocket_url

from chatd.auth.passwords import Passwords
from chatd.clock import FakeClock
from chatd.config import Config
from chatd.store import Database
from tests.helpers.client import connect, register
from tests.helpers.memory import run_memory_daemon
from tests.helpers.raw import Raw, in_thread
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


# --- both upgrade paths: chatd's own (a first request) and Quart's (after a kept-alive request) ---

PATHS = pytest.mark.parametrize("after_a_request", [False, True], ids=["own-path", "fallback"])
FROM_192_0_2_7 = (("X-Forwarded-For", "192.0.2.7"),)


def open_socket(server: RunningServer, after_a_request: bool, headers: tuple[tuple[str, str], ...] = ()) -> Raw:
    return Raw.upgraded(server.url, after_a_request=after_a_request, headers=headers)


def refused_status(server: RunningServer, after_a_request: bool) -> tuple[int, dict[str, str], Any]:
    """An upgrade from 192.0.2.7 that is refused: its status, headers and JSON body."""
    c = Raw(server.url)
    try:
        if after_a_request:
            assert c.get("/healthz")[0] == 200
        status = c.upgrade(None, None, FROM_192_0_2_7)
        return status, c.headers, json.loads(c.body)
    finally:
        c.close()


async def test_the_address_cap_counts_both_upgrade_paths_together(
    server_config: Config, db: Database, nursery: trio.Nursery
) -> None:
    cfg = replace(server_config, max_connections_per_address=2, trusted_proxies=("127.0.0.1",))
    async with run_test_server(cfg, db, nursery) as server:
        with ExitStack() as sockets:
            own = await in_thread(open_socket, server, False, FROM_192_0_2_7)
            sockets.callback(own.close)
            sockets.callback((await in_thread(open_socket, server, True, FROM_192_0_2_7)).close)
            assert server.state.sockets.total() == 2
            for after_a_request in (False, True):  # the third is refused on either path
                status, headers, body = await in_thread(refused_status, server, after_a_request)
                assert (status, body["error"]) == (429, "too_many_connections")
                assert int(headers["retry-after"]) > 0
            own.close()  # the own path's session ends: its place is free for either path
            await trio.testing.wait_all_tasks_blocked()
            assert server.state.sockets.total() == 1
            sockets.callback((await in_thread(open_socket, server, True, FROM_192_0_2_7)).close)
        await trio.testing.wait_all_tasks_blocked()
        assert len(server.state.sockets) == 0


@PATHS
async def test_forwarded_for_counts_only_from_a_trusted_proxy(
    server_config: Config, db: Database, nursery: trio.Nursery, after_a_request: bool
) -> None:
    """Without ``trusted_proxies`` the header is the client's word: the peer (loopback) counts."""
    cfg = replace(server_config, max_connections_per_address=1)
    async with run_test_server(cfg, db, nursery) as server:
        with ExitStack() as sockets:
            for _ in range(3):
                sockets.callback((await in_thread(open_socket, server, after_a_request, FROM_192_0_2_7)).close)


@pytest.mark.parametrize("first_after_a_request", [False, True], ids=["own-then-fallback", "fallback-then-own"])
async def test_the_user_cap_counts_both_upgrade_paths_together(
    server_config: Config, db: Database, nursery: trio.Nursery, first_after_a_request: bool
) -> None:
    cfg = replace(server_config, max_connections_per_user=1)
    async with run_test_server(cfg, db, nursery) as server:
        alice = await register(server, "alice")

        def second_hello() -> tuple[dict[str, Any], int]:
            first = open_socket(server, first_after_a_request)
            second = open_socket(server, not first_after_a_request)
            try:
                assert first.hello(alice.token)["op"] == "ok"
                refused = second.hello(alice.token)
                return refused, second.close_code()
            finally:
                first.close()
                second.close()

        refused, code = await in_thread(second_hello)
        assert (refused["op"], refused["code"]) == ("error", "too_many_connections")
        assert code == 1013
