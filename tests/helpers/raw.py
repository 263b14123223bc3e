"""One TLS connection to the test server driven by hand, byte by byte (blocking: run it in a
thread with ``in_thread``). It can send a request first and then upgrade on the same connection,
which trio-websocket cannot: that is how a test reaches Quart's fallback ``/ws`` route rather
than chatd's own WebSocket path (a first request that upgrades)."""

from __future__ import annotations

import base64
import os
import socket
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import trio

from chatd.wire import decode_server_message, encode_client_frame
from tests.helpers.server import insecure_ssl_context

T = TypeVar("T")
IN_THREAD_TIMEOUT_SECS = 30
OP_BINARY, OP_CLOSE = 0x2, 0x8


async def in_thread(fn: Callable[..., T], *args: Any) -> T:
    """Run the blocking ``fn(*args)`` in a worker thread, under a ceiling."""
    with trio.fail_after(IN_THREAD_TIMEOUT_SECS):
        return await trio.to_thread.run_sync(fn, *args)


class Raw:
    """One TLS connection (blocking, a 20 s timeout on every read)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.netloc = parts.netloc
        raw = socket.create_connection((parts.hostname, parts.port), timeout=20)
        self.sock = insecure_ssl_context().wrap_socket(raw, server_hostname=parts.hostname)
        self.buf = b""
        self.headers: dict[str, str] = {}  # of the last response
        self.body = b""  # of the last response that was not a 101

    @classmethod
    def upgraded(cls, url: str, *, after_a_request: bool, headers: tuple[tuple[str, str], ...] = ()) -> Raw:
        """A connection upgraded to a WebSocket (asserts the 101): on chatd's own path, or, with
        ``after_a_request``, on Quart's (a request answered on the connection first)."""
        c = cls(url)
        try:
            if after_a_request:
                assert c.get("/healthz")[0] == 200
            status = c.upgrade(None, None, headers)
            assert status == 101, (status, c.body)
        except BaseException:
            c.close()
            raise
        return c

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
        self.headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        return int(lines[0].split()[1]), self.headers

    def response(self) -> tuple[int, bytes]:
        status, headers = self.head()
        n = int(headers.get("content-length", "0"))
        while len(self.buf) < n:
            self._fill()
        self.body, self.buf = self.buf[:n], self.buf[n:]
        return status, self.body

    def get(self, path: str) -> tuple[int, bytes]:
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {self.netloc}\r\n\r\n".encode())
        return self.response()

    def upgrade(self, origin: str | None, cookie: str | None, headers: tuple[tuple[str, str], ...] = ()) -> int:
        """Ask for a WebSocket at /ws; the status (the refusal's headers and body are kept)."""
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            "GET /ws HTTP/1.1", f"Host: {self.netloc}", "Upgrade: websocket", "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13",
        ]
        if origin is not None:
            lines.append(f"Origin: {origin}")
        if cookie is not None:
            lines.append(f"Cookie: __Host-chatd_session={cookie}")
        lines += [f"{name}: {value}" for name, value in headers]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        status, _ = self.head()
        if status == 101:
            return status
        n = int(self.headers.get("content-length", "0"))
        while len(self.buf) < n:
            self._fill()
        self.body, self.buf = self.buf[:n], self.buf[n:]
        return status

    # --- the WebSocket, once upgraded ---

    def send_frame(self, frame: dict[str, Any]) -> None:
        """One protocol frame as one masked binary message."""
        payload = encode_client_frame(frame)
        assert len(payload) < 126
        mask = os.urandom(4)
        self.sock.sendall(
            bytes([0x80 | OP_BINARY, 0x80 | len(payload)]) + mask
            + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        )

    def message(self) -> tuple[int, bytes]:
        """The next WebSocket frame from the server: (opcode, payload)."""
        while len(self.buf) < 2:
            self._fill()
        opcode, n, at = self.buf[0] & 0x0F, self.buf[1] & 0x7F, 2
        if n == 126:
            while len(self.buf) < 4:
                self._fill()
            n, at = int.from_bytes(self.buf[2:4], "big"), 4
        elif n == 127:
            while len(self.buf) < 10:
                self._fill()
            n, at = int.from_bytes(self.buf[2:10], "big"), 10
        while len(self.buf) < at + n:
            self._fill()
        data, self.buf = self.buf[at : at + n], self.buf[at + n :]
        return opcode, data

    def frames(self) -> list[dict[str, Any]]:
        """The frames of the next binary message (pings and pongs skipped); a close raises."""
        while True:
            opcode, data = self.message()
            if opcode == OP_BINARY:
                return decode_server_message(data)
            if opcode == OP_CLOSE:
                raise ConnectionError(f"closed {int.from_bytes(data[:2], 'big')}")

    def reply(self, rid: int) -> dict[str, Any]:
        """The reply to request ``rid`` (pushes before it are skipped)."""
        while True:
            for frame in self.frames():
                if frame.get("rid") == rid and frame["op"] in ("ok", "error", "ack"):
                    return frame

    def hello(self, token: str) -> dict[str, Any]:
        """Say hello with ``token``; its reply."""
        self.send_frame({"op": "hello", "rid": 1, "v": 1, "token": token})
        return self.reply(1)

    def close_code(self) -> int:
        """Read until the server's close frame; its code."""
        while True:
            opcode, data = self.message()
            if opcode == OP_CLOSE:
                return int.from_bytes(data[:2], "big")

    def close(self) -> None:
        self.sock.close()
