"""The WebSocket rows of the authorization matrix, end to end over real wss:// connections.

The entry point is enumerated from the app's URL map like the HTTP routes: any WebSocket route
other than ``/ws`` fails ``test_ws_entry_points_are_known`` until it is added here.

Expected (issue 3, DESIGN §5): a foreign ``Origin`` is refused at the handshake with HTTP 403;
without credentials, ``hello`` gets an error frame ``not_authenticated`` and the socket closes
with 4001; a valid cookie (or a session/API token in ``hello``) gets ``{"op": "ok"}``; when the
session ends while connected (logout, revocation, a disabled user, expiry) the server pushes
``session.expired`` and closes with 4001.
"""

from __future__ import annotations

import base64
import http.client
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import cbor2
import pytest
import trio
from trio_websocket import ConnectionClosed, WebSocketConnection, open_websocket_url

from chatd.auth.events import USER_DISABLED
from chatd.auth.sessions import SESSION_COOKIE
from chatd.clock import FakeClock
from chatd.config import Config
from chatd.events import notify
from chatd.store import Database
from chatd.store import sessions as session_store
from chatd.web.app import create_app
from chatd.wire import decode_server_message
from tests.helpers.server import RunningServer, insecure_ssl_context
from tests.test_auth_support import Client, fast_passwords, make_session, make_user

__all__ = ["fast_passwords"]
pytestmark = pytest.mark.usefixtures("fast_passwords")

ENDED_WITHIN_SECS = 5  # the issue: logout closes that session's sockets within 5 s
# Expiry is noticed when the gateway revalidates (about every 30 s, or sooner on its heartbeat
# when expires_at has passed); this module runs the server with a 1 s heartbeat.
EXPIRY_NOTICED_WITHIN_SECS = 35
EVIL_ORIGIN = "https://evil.example"


@pytest.fixture
def server_config(server_config: Config) -> Config:
    """The default test configuration with a fast heartbeat, so expiry is noticed quickly."""
    return replace(server_config, ws_ping_secs=1.0, ws_timeout_secs=5.0, session_check_secs=0.5)


@asynccontextmanager
async def ws_connect(
    server: RunningServer, *, origin: str | None = "", token: str | None = None
) -> AsyncIterator[WebSocketConnection]:
    """A wss:// connection to ``/ws``; ``origin=""`` sends the server's own origin."""
    headers: list[tuple[bytes, bytes]] = []
    if origin is not None:
        headers.append((b"Origin", (origin or server.origin).encode()))
    if token is not None:
        headers.append((b"Cookie", f"{SESSION_COOKIE}={token}".encode()))
    # Probe first: a refused handshake must fail here, cleanly, not inside trio-websocket
    # (which leaks its socket on ConnectionRejected, see handshake_status).
    status = await handshake_status(server, origin=origin, token=token)
    assert status == 101, f"WebSocket handshake refused with HTTP {status}"
    opened: WebSocketConnection | None = None
    try:
        async with open_websocket_url(
            server.ws_url, ssl_context=insecure_ssl_context(), extra_headers=headers
        ) as ws:
            opened = ws
            yield ws
    finally:
        # trio-websocket 0.12 leaves the TCP stream open when the server closes first (its
        # aclose() returns early once a close reason is set), which warnings-as-errors turns
        # into a failure at some later garbage collection. Close it; a no-op if already closed.
        if opened is not None:
            with trio.CancelScope(shield=True):
                await opened._stream.aclose()


def _handshake_status_sync(url: str, headers: dict[str, str]) -> int:
    parts = urlsplit(url)
    conn = http.client.HTTPSConnection(parts.hostname, parts.port, context=insecure_ssl_context(), timeout=10)
    try:
        conn.request("GET", parts.path, headers={
            "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(), **headers,
        })
        return conn.getresponse().status
    finally:
        conn.close()


async def handshake_status(server: RunningServer, *, origin: str | None = "", token: str | None = None) -> int:
    """The HTTP status the server answers a WebSocket handshake with (101: accepted).

    A plain HTTP request rather than trio-websocket: on a refused handshake that library raises
    ``ConnectionRejected`` without closing its TCP stream (0.12), leaking a socket.
    """
    headers: dict[str, str] = {}
    if origin is not None:
        headers["Origin"] = origin or server.origin
    if token is not None:
        headers["Cookie"] = f"{SESSION_COOKIE}={token}"
    return await trio.to_thread.run_sync(_handshake_status_sync, server.ws_url.replace("wss:", "https:"), headers)


async def send(ws: WebSocketConnection, frame: dict[str, Any]) -> None:
    await ws.send_message(cbor2.dumps(frame))


async def reply_to(ws: WebSocketConnection, rid: int) -> dict[str, Any]:
    """The server's reply to request ``rid`` (pushes in between are skipped)."""
    while True:
        for frame in decode_server_message(await ws.get_message()):  # one message, 1+ frames
            if frame.get("rid") == rid:
                return dict(frame)


async def frames_until_close(ws: WebSocketConnection) -> tuple[list[dict[str, Any]], int | None]:
    """Every frame received until the server closes; and the close code."""
    frames: list[dict[str, Any]] = []
    try:
        while True:
            frames.extend(decode_server_message(await ws.get_message()))
    except ConnectionClosed as exc:
        return frames, exc.reason.code if exc.reason else None


async def hello_ok(ws: WebSocketConnection, **fields: Any) -> dict[str, Any]:
    await send(ws, {"op": "hello", "rid": 1, "v": 1, **fields})
    reply = await reply_to(ws, 1)
    assert reply["op"] == "ok", reply
    return reply


async def assert_not_authenticated(ws: WebSocketConnection, **hello_fields: Any) -> None:
    await send(ws, {"op": "hello", "rid": 1, "v": 1, **hello_fields})
    frames, code = await frames_until_close(ws)
    errors = [f for f in frames if f.get("op") == "error"]
    assert errors and errors[0]["code"] == "not_authenticated", frames
    assert code == 4001


async def assert_refused_at_handshake_or_hello(server: RunningServer, token: str) -> None:
    """A dead session's cookie: refused at the handshake (401/403), or at ``hello``."""
    with trio.fail_after(10):
        status = await handshake_status(server, token=token)
        if status != 101:
            assert status in (401, 403)
            return
        async with ws_connect(server, token=token) as ws:
            await assert_not_authenticated(ws)


async def assert_session_expired_then_4001(ws: WebSocketConnection) -> None:
    frames, code = await frames_until_close(ws)
    assert any(f.get("op") == "session.expired" for f in frames), frames
    assert code == 4001


def test_ws_entry_points_are_known() -> None:
    from chatd.config import load_config
    from chatd.state import build_state

    app = create_app(build_state(load_config(env={}), None))  # type: ignore[arg-type]
    ws_rules = {r.rule for r in app.url_map.iter_rules() if getattr(r, "websocket", False)}
    assert ws_rules == {"/ws"}


# --- the rows ---


async def test_wrong_origin_is_refused_at_the_handshake(server: RunningServer, db: Database) -> None:
    user = await make_user(db, "alice")
    session = await make_session(db, server.config, user.id, server.state.clock.now())
    assert await handshake_status(server, token=session.token) == 101  # the probe itself works
    for origin in (EVIL_ORIGIN, "null", server.origin.replace("https:", "http:")):
        assert await handshake_status(server, origin=origin, token=session.token) == 403, origin


async def test_anonymous_hello_is_refused(server: RunningServer) -> None:
    with trio.fail_after(10):
        async with ws_connect(server) as ws:
            await assert_not_authenticated(ws)


async def test_expired_cookie_is_refused(server: RunningServer, db: Database, clock: FakeClock) -> None:
    user = await make_user(db, "alice")
    session = await make_session(db, server.config, user.id, clock.now())
    clock.advance(server.config.session_idle_secs + 1)
    await assert_refused_at_handshake_or_hello(server, session.token)


async def test_revoked_cookie_is_refused(server: RunningServer, db: Database, clock: FakeClock) -> None:
    user = await make_user(db, "alice")
    session = await make_session(db, server.config, user.id, clock.now())
    assert await session_store.revoke_session(db, session_id=session.session_id, now=clock.now())
    await assert_refused_at_handshake_or_hello(server, session.token)


async def test_bad_token_in_hello_is_refused(server: RunningServer) -> None:
    with trio.fail_after(10):
        async with ws_connect(server, origin=None) as ws:
            await assert_not_authenticated(ws, token="not-a-real-token")


async def test_valid_cookie_hello_ok(server: RunningServer) -> None:
    c = Client(server)
    await c.register("alice")
    with trio.fail_after(10):
        async with ws_connect(server, token=c.token) as ws:
            await hello_ok(ws)


async def test_session_token_in_hello_for_non_browser_clients(server: RunningServer) -> None:
    c = Client(server)
    await c.register("alice")
    with trio.fail_after(10):
        async with ws_connect(server, origin=None) as ws:
            await hello_ok(ws, token=c.token)


async def test_api_token_in_hello(server: RunningServer, db: Database, clock: FakeClock) -> None:
    user = await make_user(db, "bot")
    api = await make_session(db, server.config, user.id, clock.now(), kind="api")
    with trio.fail_after(10):
        async with ws_connect(server, origin=None) as ws:
            await hello_ok(ws, token=api.token)


# --- a session that ends while the socket is open ---


async def test_logout_closes_the_socket(server: RunningServer) -> None:
    c = Client(server)
    await c.register("alice")
    with trio.fail_after(10):
        async with ws_connect(server, token=c.token) as ws:
            await hello_ok(ws)
            assert (await c.post("/api/logout", {})).status == 200
            with trio.fail_after(ENDED_WITHIN_SECS):
                await assert_session_expired_then_4001(ws)


async def test_revoking_the_session_elsewhere_closes_the_socket(server: RunningServer) -> None:
    phone = Client(server)
    await phone.register("alice")
    laptop = Client(server)
    await laptop.login("alice")
    phone_session = (await phone.get("/api/me")).json["session"]["id"]
    with trio.fail_after(10):
        async with ws_connect(server, token=phone.token) as ws:
            await hello_ok(ws)
            assert (await laptop.delete(f"/api/sessions/{phone_session}")).status == 200
            with trio.fail_after(ENDED_WITHIN_SECS):
                await assert_session_expired_then_4001(ws)


async def test_cli_disabling_the_user_closes_the_socket(server: RunningServer, db: Database) -> None:
    c = Client(server)
    user_id = (await c.register("alice")).json["user"]["id"]
    with trio.fail_after(10):
        async with ws_connect(server, token=c.token) as ws:
            await hello_ok(ws)
            # What `chatd user disable` does from another process.
            async with db.transaction("t.disable") as tx:
                await tx.execute("t.disable", "UPDATE users SET disabled_at = now() WHERE id = $1", user_id)
                await notify(tx, USER_DISABLED, user=user_id)
            with trio.fail_after(ENDED_WITHIN_SECS):
                await assert_session_expired_then_4001(ws)


async def test_session_expiry_closes_the_socket(server: RunningServer, clock: FakeClock) -> None:
    c = Client(server)
    await c.register("alice")
    with trio.fail_after(EXPIRY_NOTICED_WITHIN_SECS + 10):
        async with ws_connect(server, token=c.token) as ws:
            await hello_ok(ws)
            clock.advance(server.config.session_idle_secs + 1)
            with trio.fail_after(EXPIRY_NOTICED_WITHIN_SECS):
                await assert_session_expired_then_4001(ws)
