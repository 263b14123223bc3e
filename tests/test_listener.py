"""chatd's listener: one port for both paths. A first request that upgrades at /ws takes chatd's
own WebSocket path; every other request reaches Hypercorn (keep-alive included), and an upgrade
on a connection Hypercorn already serves reaches Quart's /ws route — with the same checks."""

from __future__ import annotations

import ssl
from typing import Any

import pytest

from chatd.gateway import route
from tests.helpers.client import register
from tests.helpers.raw import Raw, in_thread
from tests.helpers.server import RunningServer


@pytest.fixture
def quart_sessions(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every session served by Quart's fallback route (chatd's own path leaves this empty)."""
    made: list[object] = []

    class Counted(route.QuartTransport):
        def __init__(self) -> None:
            super().__init__()
            made.append(self)

    monkeypatch.setattr(route, "QuartTransport", Counted)
    return made


async def test_plain_requests_reach_hypercorn_with_keep_alive(server: RunningServer) -> None:
    def run() -> list[tuple[int, bytes]]:
        c = Raw(server.url)
        try:
            return [c.get("/healthz"), c.get("/nowhere"), c.get("/healthz")]  # one connection
        finally:
            c.close()

    (s1, b1), (s2, _), (s3, _) = await in_thread(run)
    assert (s1, s2, s3) == (200, 404, 200)
    assert b'"status"' in b1


@pytest.mark.parametrize(("after_a_request", "via_quart"), [(False, 0), (True, 1)], ids=["own-path", "fallback"])
async def test_an_upgrade_takes_chatds_path_first_and_quarts_on_a_kept_alive_connection(
    server: RunningServer, quart_sessions: list[object], after_a_request: bool, via_quart: int
) -> None:
    alice = await register(server, "alice")

    def run() -> dict[str, Any]:
        c = Raw(server.url)
        try:
            if after_a_request:  # Hypercorn serves this connection from now on
                assert c.get("/healthz")[0] == 200
            assert c.upgrade(None, None) == 101
            return c.hello(alice.token)
        finally:
            c.close()

    ok = await in_thread(run)
    assert ok["op"] == "ok" and ok["user"]["name"] == "alice"
    assert len(quart_sessions) == via_quart


@pytest.mark.parametrize("after_a_request", [False, True], ids=["own-path", "fallback"])
async def test_both_paths_apply_the_same_upgrade_checks(server: RunningServer, after_a_request: bool) -> None:
    alice = await register(server, "alice")

    def status(origin: str | None, cookie: str | None) -> int:
        c = Raw(server.url)
        try:
            if after_a_request:  # answered on this connection, which stays open (503 while draining)
                assert c.get("/healthz")[0] in (200, 503)
            return c.upgrade(origin, cookie)
        finally:
            c.close()

    assert await in_thread(status, "https://evil.example", None) == 403  # foreign Origin
    assert await in_thread(status, None, alice.token) == 403  # a cookie without an Origin
    assert await in_thread(status, server.origin, alice.token) == 101
    assert await in_thread(status, None, None) == 101  # non-browser: hello carries the token
    server.state.draining.set()
    assert await in_thread(status, None, None) == 503


async def test_a_head_too_big_for_the_listener_is_hypercorns_to_refuse(server: RunningServer) -> None:
    def run() -> int:
        c = Raw(server.url)
        try:
            c.sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: {c.netloc}\r\nX-Big: {'a' * 40000}\r\n\r\n".encode())
            return c.response()[0]
        except (ConnectionError, ssl.SSLError):
            return 0  # closed without an answer: also a refusal
        finally:
            c.close()

    assert await in_thread(run) in (0, 400, 431)
    assert (await server.get("/healthz")).status == 200
