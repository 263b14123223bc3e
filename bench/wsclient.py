"""A minimal RFC 6455 WebSocket client over a Trio stream (TLS or plain), for the load generator.

Why not trio-websocket: it runs a background reader task and a wsproto state machine per
connection, which costs the load generator more CPU per frame than the server it measures.
This client parses server frames straight out of a byte buffer (server frames are unmasked),
handles ping/pong and close, and masks its own (small) frames with one integer XOR.

Not a general-purpose client: no extensions (no permessage-deflate), binary messages only on send,
one task reads (``receive``) while any task may ``send`` (serialised by a lock).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import socket
import ssl
import struct

import trio

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_HEADER_BYTES = 16384  # an upgrade response larger than this is not a chatd answer
READ_BYTES = 65536


class WsClosed(Exception):
    """The connection ended: ``code`` is the peer's close code, 1006 for a dropped connection."""

    def __init__(self, code: int, reason: str = "") -> None:
        super().__init__(f"closed {code} {reason}".strip())
        self.code = code
        self.reason = reason

    def again(self) -> WsClosed:
        """A fresh copy to raise (re-raising one instance would grow its traceback each time)."""
        return WsClosed(self.code, self.reason)


class HandshakeError(Exception):
    """The upgrade was refused (``status``) or the answer was not a WebSocket upgrade."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def insecure_ssl_context() -> ssl.SSLContext:
    """Accept chatd's self-signed certificate (loopback benchmark only)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _mask(payload: bytes, key: bytes) -> bytes:
    n = len(payload)
    if n == 0:
        return b""
    stream = (key * ((n + 3) // 4))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")


def encode_frame(opcode: int, payload: bytes) -> bytes:
    """One final, masked client frame (pure)."""
    n = len(payload)
    key = os.urandom(4)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    return head + key + _mask(payload, key)


class WsConnection:
    """One open WebSocket. ``receive`` is called by one task; ``send`` by any."""

    def __init__(self, stream: trio.abc.Stream, leftover: bytes = b"") -> None:
        self._stream = stream
        self._buf = bytearray(leftover)
        self._lock = trio.StrictFIFOLock()
        self._frag: list[bytes] | None = None
        self.closed: WsClosed | None = None
        self._ended = trio.Event()  # set once ``closed`` is

    @classmethod
    async def connect(
        cls,
        host: str,
        port: int,
        ssl_context: ssl.SSLContext | None,
        path: str = "/ws",
        headers: tuple[tuple[str, str], ...] = (),
    ) -> WsConnection:
        """Open TCP (+TLS), send the upgrade request, check the 101 answer."""
        tcp = await trio.open_tcp_stream(host, port)
        stream: trio.abc.Stream = tcp
        try:
            if ssl_context is not None:
                tls = trio.SSLStream(tcp, ssl_context, server_hostname=None)
                await tls.do_handshake()
                stream = tls
            key = base64.b64encode(os.urandom(16)).decode()
            lines = [
                f"GET {path} HTTP/1.1",
                f"Host: {host}:{port}",
                "Upgrade: websocket",
                "Connection: Upgrade",
                f"Sec-WebSocket-Key: {key}",
                "Sec-WebSocket-Version: 13",
                *(f"{k}: {v}" for k, v in headers),
            ]
            await stream.send_all(("\r\n".join(lines) + "\r\n\r\n").encode())
            buf = bytearray()
            while b"\r\n\r\n" not in buf:
                chunk = await stream.receive_some(READ_BYTES)
                if not chunk:
                    raise HandshakeError(0, "connection closed during the upgrade")
                buf += chunk
                if len(buf) > MAX_HEADER_BYTES:
                    raise HandshakeError(0, "upgrade answer too large")
            head, _, rest = bytes(buf).partition(b"\r\n\r\n")
            status_line, *header_lines = head.decode("latin-1").split("\r\n")
            parts = status_line.split(" ", 2)
            status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
            if status != 101:
                raise HandshakeError(status, f"upgrade refused: {status_line}")
            fields = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
            expected = base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()
            if fields.get("sec-websocket-accept") != expected:
                raise HandshakeError(status, "bad Sec-WebSocket-Accept")
        except BaseException:
            await trio.aclose_forcefully(stream)
            raise
        return cls(stream, rest)

    async def send(self, payload: bytes) -> None:
        """Send one binary message. Raises WsClosed if the connection is gone."""
        await self._send_raw(encode_frame(0x2, payload))

    async def _send_raw(self, data: bytes) -> None:
        if self.closed is not None:
            raise self.closed.again()
        async with self._lock:
            try:
                await self._stream.send_all(data)
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError, ssl.SSLError) as exc:
                raise self._fail(1006, f"send failed: {exc!r}").again() from None

    def _fail(self, code: int, reason: str) -> WsClosed:
        if self.closed is None:
            self.closed = WsClosed(code, reason)
        self._ended.set()
        return self.closed

    async def receive(self) -> list[bytes | str]:
        """Wait for data; return the complete messages it held (at least one).

        Answers pings; on a close frame answers it and raises WsClosed(code); on EOF or a
        transport error raises WsClosed(1006).
        """
        while True:
            if self.closed is not None:
                raise self.closed.again()
            try:
                chunk = await self._stream.receive_some(READ_BYTES)
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError, ssl.SSLError) as exc:
                raise self._fail(1006, f"receive failed: {exc!r}").again() from None
            if not chunk:
                raise self._fail(1006, "EOF").again()
            self._buf += chunk
            out, pings, close = self._parse()
            for payload in pings:
                await self._send_raw(encode_frame(0xA, payload))
            if close is not None:
                code, reason = close
                with contextlib.suppress(WsClosed):
                    await self._send_raw(encode_frame(0x8, code.to_bytes(2, "big") if code != 1005 else b""))
                self.closed = WsClosed(code, reason)  # the peer's code, not a failed reply's 1006
                self._ended.set()
                await trio.aclose_forcefully(self._stream)
                if out:  # hand over what came before the close; the next call raises
                    return out
                raise self.closed.again()
            if out:
                return out

    def _parse(self) -> tuple[list[bytes | str], list[bytes], tuple[int, str] | None]:
        buf = self._buf
        pos = 0
        size = len(buf)
        out: list[bytes | str] = []
        pings: list[bytes] = []
        close: tuple[int, str] | None = None
        while size - pos >= 2:
            b0 = buf[pos]
            b1 = buf[pos + 1]
            n = b1 & 0x7F
            hdr = 2
            if n == 126:
                if size - pos < 4:
                    break
                n = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                hdr = 4
            elif n == 127:
                if size - pos < 10:
                    break
                n = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                hdr = 10
            if b1 & 0x80:
                hdr += 4  # a masked server frame is a protocol violation; unmask anyway
            if size - pos < hdr + n:
                break
            payload = bytes(buf[pos + hdr : pos + hdr + n])
            if b1 & 0x80:
                payload = _mask(payload, bytes(buf[pos + hdr - 4 : pos + hdr]))
            pos += hdr + n
            opcode = b0 & 0x0F
            fin = b0 & 0x80
            if opcode in (0x1, 0x2):
                if fin:
                    out.append(payload.decode("utf-8", "replace") if opcode == 0x1 else payload)
                else:
                    self._frag = [payload]
            elif opcode == 0x0:
                if self._frag is not None:
                    self._frag.append(payload)
                    if fin:
                        out.append(b"".join(self._frag))
                        self._frag = None
            elif opcode == 0x9:
                pings.append(payload)
            elif opcode == 0x8:
                code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                close = (code, payload[2:].decode("utf-8", "replace"))
                break
        del buf[:pos]
        return out, pings, close

    async def aclose(self, code: int = 1000) -> None:
        """Send a close frame, give the reading task 1 s to see the answer, close the transport."""
        if self.closed is None:
            with contextlib.suppress(WsClosed):
                await self._send_raw(encode_frame(0x8, code.to_bytes(2, "big")))
                with trio.move_on_after(1.0):
                    await self._ended.wait()
        self._fail(code, "closed by client")
        await trio.aclose_forcefully(self._stream)

    async def close_and_wait(self, code: int = 1000) -> int:
        """Close from this side and read until the server's close answer (for a caller with no
        reading task of its own); returns the server's code, 1006 if it dropped the connection."""
        with contextlib.suppress(WsClosed):
            await self._send_raw(encode_frame(0x8, code.to_bytes(2, "big")))
            while True:
                await self.receive()
        assert self.closed is not None
        await trio.aclose_forcefully(self._stream)
        return self.closed.code

    async def abort(self) -> None:
        """Drop the connection at once: TCP reset, no close handshake (a network loss)."""
        self._fail(1006, "aborted by client")
        sock = _socket_of(self._stream)
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        await trio.aclose_forcefully(self._stream)


def _socket_of(stream: trio.abc.Stream) -> trio.socket.SocketType | None:
    inner = stream.transport_stream if isinstance(stream, trio.SSLStream) else stream
    return inner.socket if isinstance(inner, trio.SocketStream) else None
