"""A protocol v1 client for tests: real WebSocket over TLS, every received frame checked
against protocol/chatd.cddl."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import trio
from trio_websocket import CloseReason, ConnectionClosed, WebSocketConnection, open_websocket_url

from chatd.wire import decode_server_message, encode_client_frame, encode_map
from tests.helpers.cddl import assert_valid_server_frame
from tests.helpers.memory import MemoryDaemon
from tests.helpers.server import Endpoint, insecure_ssl_context

REPLY_TIMEOUT_SECS = 30  # a ceiling against hangs; tests wrap tighter fail_after where speed matters


@dataclass
class Account:
    """A registered user with a live session (the cookie value is the session token)."""

    user_id: int
    username: str
    token: str
    cookie: str = ""


async def register(
    server: Endpoint | MemoryDaemon, username: str, display: str | None = None, password: str = "correct horse battery"
) -> Account:
    """Register through the real API (a memory daemon: through the accounts service); returns the
    account with its session token."""
    if isinstance(server, MemoryDaemon):
        user_id, token = await server.register(username, display)
        return Account(user_id, username, token)
    resp = await server.post(
        "/api/register",
        json_body={"username": username, "display_name": display or username.title(), "password": password},
    )
    assert resp.status in (200, 201), (resp.status, resp.body)
    cookie = next(c for c in resp.cookies if c.startswith("__Host-chatd_session="))
    token = cookie.split(";", 1)[0].split("=", 1)[1]
    me = await server.get("/api/me", headers={"Cookie": f"__Host-chatd_session={token}"})
    assert me.status == 200, me.body
    return Account(me.json["user"]["id"] if "user" in me.json else me.json["id"], username, token, cookie)


@dataclass
class Client:
    ws: WebSocketConnection  # or a memory transport's client end (tests/helpers/memory.py)
    pushes: list[dict[str, Any]] = field(default_factory=list)
    replies: dict[int, dict[str, Any]] = field(default_factory=dict)
    received: list[dict[str, Any]] = field(default_factory=list)
    closed: ConnectionClosed | None = None
    messages: int = 0  # WebSocket messages received (each holds one or more frames)
    _rids: Any = field(default_factory=lambda: itertools.count(1))
    _changed: trio.Event = field(default_factory=trio.Event)

    async def _reader(self) -> None:
        try:
            while True:
                data = await self.ws.get_message()
                assert isinstance(data, bytes), "the server sent a text frame"
                frames = decode_server_message(data)  # one message carries 1+ frames
                self.messages += 1
                for frame in frames:
                    assert_valid_server_frame(encode_map(frame))
                    self.received.append(frame)
                    if "rid" in frame and frame["op"] in ("ok", "error", "ack"):
                        self.replies[frame["rid"]] = frame  # type: ignore[index]
                    else:
                        self.pushes.append(frame)
                self._wake()
        except ConnectionClosed as exc:
            self.closed = exc
            self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    async def send_raw(self, data: bytes | str) -> None:
        await self.ws.send_message(data)

    async def send(self, op: str, **fields: Any) -> int:
        rid = next(self._rids)
        await self.ws.send_message(encode_client_frame({"op": op, "rid": rid, **fields}))
        return rid

    async def reply(self, rid: int) -> dict[str, Any]:
        with trio.fail_after(REPLY_TIMEOUT_SECS):
            while rid not in self.replies:
                if self.closed is not None:
                    raise AssertionError(f"connection closed before reply to {rid}: {self.closed.reason}")
                await self._changed.wait()
        return self.replies.pop(rid)

    async def request(self, op: str, **fields: Any) -> dict[str, Any]:
        """Send a request and return its reply (ok, error or ack)."""
        return await self.reply(await self.send(op, **fields))

    async def ok(self, op: str, **fields: Any) -> dict[str, Any]:
        reply = await self.request(op, **fields)
        assert reply["op"] in ("ok", "ack"), reply
        return reply

    async def wait_push(self, op: str, **match: Any) -> dict[str, Any]:
        """The first unconsumed push with ``op`` (and matching fields); removes it."""
        with trio.fail_after(REPLY_TIMEOUT_SECS):
            while True:
                for i, p in enumerate(self.pushes):
                    if p["op"] == op and all(p.get(k) == v for k, v in match.items()):
                        return self.pushes.pop(i)
                if self.closed is not None:
                    raise AssertionError(f"closed while waiting for {op}: {self.closed.reason}")
                await self._changed.wait()

    async def wait_closed(self) -> CloseReason:
        """The close code and reason the server sent (code 1006: dropped without a close)."""
        with trio.fail_after(REPLY_TIMEOUT_SECS):
            while self.closed is None:
                await self._changed.wait()
        reason: CloseReason = self.closed.reason
        return reason

    def msgs(self, ch: int) -> list[dict[str, Any]]:
        return [p for p in self.pushes if p["op"] == "msg" and p["ch"] == ch]

    async def wait_msgs(self, ch: int, count: int) -> list[dict[str, Any]]:
        with trio.fail_after(REPLY_TIMEOUT_SECS):
            while len(self.msgs(ch)) < count:
                if self.closed is not None:
                    raise AssertionError(f"closed while waiting for messages: {self.closed.reason}")
                await self._changed.wait()
        return self.msgs(ch)

    async def send_message(self, ch: int, body: str, cid: bytes | None = None) -> dict[str, Any]:
        return await self.request("send", ch=ch, cid=cid or os.urandom(16), body=body)


@asynccontextmanager
async def connect(
    server: Endpoint | MemoryDaemon,
    account: Account | None = None,
    *,
    hello: bool = True,
    use_cookie: bool = True,
    token: str | None = None,
    origin: str | None = "",
    resume: list[list[int]] | None = None,
) -> AsyncIterator[Client]:
    """Open a socket (cookie auth by default) and, unless ``hello=False``, say hello.

    With a ``MemoryDaemon`` the session runs over a memory transport (no TLS, no Hypercorn); the
    cookie is checked as the ``/ws`` route does, and ``origin`` does not apply.
    """
    if isinstance(server, MemoryDaemon):
        principal = await server.principal(account.token) if account is not None and use_cookie else None
        _session, end = await server.open_session(principal)
        try:
            async with _client(end, hello, token, resume) as client:
                yield client
        finally:
            with trio.CancelScope(shield=True):
                await end.aclose()
        return
    headers: list[tuple[str, str]] = []
    if origin is not None:
        headers.append(("Origin", origin or server.origin))
    if account is not None and use_cookie:
        headers.append(("Cookie", f"__Host-chatd_session={account.token}"))
    async with open_websocket_url(
        server.ws_url, ssl_context=insecure_ssl_context(), extra_headers=headers, message_queue_size=100000
    ) as ws:
        try:
            async with _client(ws, hello, token, resume) as client:
                yield client
        finally:
            # trio-websocket 0.12 leaves its TCP stream open when the server closed first.
            with trio.CancelScope(shield=True):
                await ws._stream.aclose()


@asynccontextmanager
async def _client(ws: Any, hello: bool, token: str | None, resume: list[list[int]] | None) -> AsyncIterator[Client]:
    async with trio.open_nursery() as nursery:
        client = Client(ws)
        nursery.start_soon(client._reader)
        if hello:
            fields: dict[str, Any] = {"v": 1}
            if token:
                fields["token"] = token
            if resume is not None:
                fields["resume"] = resume
            client.hello = await client.ok("hello", **fields)  # type: ignore[attr-defined]
        yield client
        nursery.cancel_scope.cancel()


def general_id(client: Client) -> int:
    hello: dict[str, Any] = client.hello  # type: ignore[attr-defined]
    return next(c["id"] for c in hello["channels"] if c["name"] == "general")
