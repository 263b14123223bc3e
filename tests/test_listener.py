"""chatd's listener: one port for both paths. A first request that upgrades at /ws takes chatd's
own WebSocket path; every other request reaches Hypercorn (keep-alive included), and an upgrade
on a connection Hypercorn already serves reaches Quart's /ws route — with the same checks."""

from __future__ import annotations

import base64
import os
import socket
import ssl
from typing import Any
from urllib.parse import urlsplit

import pytest
import trio

from chatd.gateway import route
from chatd.wire import decode_server_message, encode_client_frame
from tests.helpers.client import register
from tests.helpers.server import RunningServer, insecure_ssl_context


class Raw:
    """One TLS connection driven by hand (blocking; run in a thread)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.netloc = parts.netloc
        raw = socket.create_connection((parts.hostname, parts.port), timeout=20)
        self.sock = insecure_ssl_context().wrap_socket(raw, server_hostname=parts.hostname)
        self.buf = b""

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("closed")
        self.buf += data

    def head(self) -> tuple[int, dict[str, str]]:
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        return int(lines[0].split()[1]), headers

    def response(self) -> tuple[int, bytes]:
        status, headers = self.head()
        n = int(headers.get("content-length", "0"))
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, body

    def get(self, path: str) -> tuple[int, bytes]:
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {self.netloc}\r\n\r\n".encode())
        return self.response()

    def upgrade(self, origin: str | None, cookie: str | None) -> int:
        key = base64.b64encode(os.urandom(16)).decode()
        lines = ["GET /ws HTTP/1.1", f"Host: {self.netloc}", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        if origin is not None:
            lines.append(f"Origin: {origin}")
        if cookie is not None:
            lines.append(f"Cookie: __Host-chatd_session={cookie}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        status, headers = self.head()
        if status != 101:
            n = int(headers.get("content-length", "0"))
            while len(self.buf) < n:
                self._fill()
            self.buf = self.buf[n:]
        return status

    def hello(self, token: str) -> dict[str, Any]:
        """Say hello over the open WebSocket; the first frame of the first binary message."""
        payload = encode_client_frame({"op": "hello", "rid": 1, "v": 1, "token": token})
        mask = os.urandom(4)
        self.sock.sendall(bytes([0x82, 0x80 | len(payload)]) + mask
                          + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
        while True:
            while len(self.buf) < 4:
                self._fill()
            opcode, n, at = self.buf[0] & 0x0F, self.buf[1] & 0x7F, 2
            if n == 126:
                n, at = int.from_bytes(self.buf[2:4], "big"), 4
            elif n == 127:
                while len(self.buf) < 10:
                    self._fill()
                n, at = int.from_bytes(self.buf[2:10], "big"), 10
            while len(self.buf) < at + n:
                self._fill()
            data, self.buf = self.buf[at : at + n], self.buf[at + n :]
            if opcode == 0x2:
                return decode_server_message(data)[0]

    def close(self) -> None:
        self.sock.close()


async def in_thread(fn: Any, *args: Any) -> Any:
    with trio.fail_after(30):
        return await trio.to_thread.run_sync(fn, *args)


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
