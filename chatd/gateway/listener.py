"""chatd's accept loop: every connection on its listeners, WebSocket upgrades to chatd's own
path, everything else to the HTTP server (Hypercorn), on the same port.

Per connection: the TLS handshake (chatd's ``SSLContext``, the very object a certificate reload
updates) under ``HANDSHAKE_TIMEOUT_SECS``, then the request head (at most ``HEAD_MAX_BYTES``,
under ``HEAD_TIMEOUT_SECS``). ``GET /ws`` asking for an upgrade goes to ``on_upgrade``; any other
request — or a head too large to read here — goes to ``on_http`` with the bytes read so far, to
be replayed. Keep-alive requests after the first are the HTTP server's (an upgrade among them
reaches Quart's ``/ws`` route, the fallback).
"""

from __future__ import annotations

import errno
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable

import trio

from chatd.gateway import wsframe
from chatd.gateway.netstream import NetStream

log = logging.getLogger("chatd.gateway")

HANDSHAKE_TIMEOUT_SECS = 20.0  # a TLS handshake in a reconnect storm queues behind a thousand others
HEAD_TIMEOUT_SECS = 10.0  # a request head is one packet; a connection that sends none is closed
HEAD_MAX_BYTES = 16 * 1024  # Hypercorn's own limit (h11_max_incomplete_size); bigger: Hypercorn answers
ACCEPT_BATCH = 64  # connections accepted per wake-up before others run
ACCEPT_RETRY_SECS = 0.1  # out of file descriptors: wait before accepting again (as trio does)
WS_PATH = "/ws"
_FD_ERRORS = {errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS}

# Answers an upgrade; returns the session to run (or None: refused), which the listener runs at
# once (it holds a place under the address's cap from the check on), keeping nothing of the request.
UpgradeHandler = Callable[[NetStream, wsframe.RequestHead, bytes], Awaitable[Callable[[], Awaitable[None]] | None]]
HTTPHandler = Callable[[NetStream, bytes], Awaitable[None]]


class Listener:
    """Accepts on bound, listening sockets; serves each connection in ``connections``."""

    def __init__(
        self, ssl_context: ssl.SSLContext | None, on_upgrade: UpgradeHandler, on_http: HTTPHandler
    ) -> None:
        self._ctx, self._on_upgrade, self._on_http = ssl_context, on_upgrade, on_http

    async def serve(self, socks: list[socket.socket], connections: trio.Nursery) -> None:
        """Accept until cancelled; connections run in ``connections`` (the owner that bounds
        their graceful end)."""
        async with trio.open_nursery() as nursery:
            for sock in socks:
                sock.setblocking(False)
                nursery.start_soon(self._accept_loop, sock, connections)

    async def _accept_loop(self, listening: socket.socket, connections: trio.Nursery) -> None:
        while True:
            await trio.lowlevel.wait_readable(listening)
            for _ in range(ACCEPT_BATCH):
                try:
                    sock, _addr = listening.accept()
                except BlockingIOError:
                    break
                except OSError as exc:
                    if exc.errno in _FD_ERRORS:
                        log.error("event=listener.accept_failed error=%s retry_in=%g", str(exc), ACCEPT_RETRY_SECS)
                        await trio.sleep(ACCEPT_RETRY_SECS)
                        break
                    if exc.errno == errno.ECONNABORTED:
                        continue
                    raise
                connections.start_soon(self._connection, sock)
            await trio.lowlevel.checkpoint()

    async def _connection(self, sock: socket.socket) -> None:
        stream = NetStream.accepted(sock, self._ctx)
        try:
            with trio.move_on_after(HANDSHAKE_TIMEOUT_SECS) as handshake:
                await stream.handshake()
            if handshake.cancelled_caught:
                return
            head, rest = await self._read_head(stream)
            if head is None:
                return  # too slow, or closed before a whole head
            request = wsframe.parse_request_head(head[:-4]) if head else None
            if request is None or request.path != WS_PATH or not wsframe.is_upgrade(request):
                await self._on_http(stream, head + rest)
                return
            session = await self._on_upgrade(stream, request, rest)
            # No checkpoint before the session runs. A socket may live for days: keep nothing of
            # its request.
            del request, head, rest
            if session is not None:
                await session()
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            stream.close()

    @staticmethod
    async def _read_head(stream: NetStream) -> tuple[bytes | None, bytes]:
        """(head with its blank line, bytes after it); (b"", everything) when the head is too
        big to read here; (None, b"") if the peer closed or the time ran out."""
        buf = bytearray()
        with trio.move_on_after(HEAD_TIMEOUT_SECS):
            while True:
                data = await stream.receive_some()
                if not data:
                    return None, b""
                start = max(0, len(buf) - 3)
                buf += data
                end = buf.find(b"\r\n\r\n", start)
                if end >= 0:
                    return bytes(buf[: end + 4]), bytes(buf[end + 4 :])
                if len(buf) > HEAD_MAX_BYTES:
                    return b"", bytes(buf)
        return None, b""
