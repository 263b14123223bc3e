"""chatd's WebSocket: the session's ``Transport`` over a ``NetStream`` (RFC 6455 via ``wsframe``).

Reading runs in the session's reader task: frames are parsed and reassembled, pings answered,
pongs and every other byte count as signs of life (``last_heard``, read by the heartbeat).
Writing never blocks: ``send_nowait`` frames a message and writes it at once; what the kernel
did not take waits for ``flush``. A protocol violation (1002), a message over the limit (1009,
refused from its header) and the peer's close are handled here; the session then sees
``PeerGone``. Pings and the silent-peer timeout belong to ``chatd.gateway.heartbeat``.
"""

from __future__ import annotations

import logging

import trio

from chatd.gateway import wsframe
from chatd.gateway.netstream import NetStream
from chatd.gateway.transport import PeerGone

log = logging.getLogger("chatd.gateway")

CLOSE_WAIT_SECS = 2.0  # after our close frame (or a violation), how long the peer may take to close
PONG_BACKLOG_BYTES = 64 * 1024  # a peer that pings but does not read gets no more pongs (RFC 6455 §5.5.3)
_STREAM_ERRORS = (trio.BrokenResourceError, trio.ClosedResourceError)


class WebSocket:
    """An open WebSocket (after the 101). ``last_heard`` and ``last_ping`` are ``trio.current_time``
    values; the heartbeat reads them and calls ``ping_nowait``/``abort``."""

    __slots__ = ("_closing", "_reader", "_stream", "last_heard", "last_ping")

    def __init__(self, stream: NetStream, max_message_bytes: int, buffered: bytes = b"") -> None:
        self._stream = stream
        self._reader = wsframe.FrameReader(max_message_bytes)
        if buffered:  # frames the client sent right behind its handshake
            self._reader.feed(buffered)
        self.last_heard = self.last_ping = trio.current_time()
        self._closing = False  # our close frame was sent

    # --- Transport ---

    async def receive(self) -> bytes | str:
        """The next data message; ``PeerGone`` once the connection ended (for any reason)."""
        while True:
            try:
                event = self._reader.next_event()
            except wsframe.WSError as exc:
                log.info("event=ws.protocol_violation code=%d reason=%s", exc.code, exc.reason)
                await self._close_after_violation(exc.code, exc.reason)
                raise PeerGone() from None
            if event is None:
                await self._read_more()
            elif isinstance(event, wsframe.Message):
                return event.data.decode(errors="replace") if event.text else event.data
            elif isinstance(event, wsframe.Ping):
                self._pong(event.payload)
            elif isinstance(event, wsframe.Close):
                self._answer_close(event)
                raise PeerGone()
            # a Pong is a sign of life, already counted in last_heard

    async def send(self, data: bytes) -> None:
        if not self.send_nowait(data):
            await self.flush()

    def send_nowait(self, data: bytes) -> bool:
        """Write one binary message now; True iff nothing waits for ``flush``. ``PeerGone`` if
        the connection failed or is closing."""
        if self._closing:
            raise PeerGone()
        try:
            return self._stream.write_nowait(wsframe.binary_frame(data))
        except _STREAM_ERRORS:
            raise PeerGone() from None

    async def flush(self) -> None:
        try:
            await self._stream.flush()
        except _STREAM_ERRORS:
            raise PeerGone() from None

    async def close(self, code: int, reason: str) -> None:
        """The close handshake: our close frame, the peer's answer (bounded wait), then TCP."""
        try:
            if not self._closing:
                self._closing = True
                if not self._stream.write_nowait(wsframe.close_frame(code, reason)):
                    await self._stream.flush()
            with trio.move_on_after(CLOSE_WAIT_SECS):
                while not isinstance(await self._next_event_raw(), wsframe.Close):
                    pass
        except (*_STREAM_ERRORS, wsframe.WSError, PeerGone):
            pass
        finally:
            self._stream.close()

    # --- heartbeat ---

    def ping_nowait(self, now: float) -> None:
        """Send the pre-framed ping unless writes are backed up (a peer that does not read)."""
        self.last_ping = now
        if self._stream.pending_bytes == 0 and not self._closing:
            try:
                self._stream.write_nowait(wsframe.PING_FRAME)
            except _STREAM_ERRORS:
                pass  # the reader finds out

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (a silent peer would not read one)."""
        self._closing = True
        self._stream.close()

    # --- internals ---

    async def _read_more(self) -> None:
        try:
            data = await self._stream.receive_some()
        except _STREAM_ERRORS:
            raise PeerGone() from None
        if not data:
            raise PeerGone()
        self.last_heard = trio.current_time()
        self._reader.feed(data)

    async def _next_event_raw(self) -> wsframe.Event:
        while True:
            event = self._reader.next_event()
            if event is not None:
                return event
            await self._read_more()

    def _pong(self, payload: bytes) -> None:
        if self._stream.pending_bytes > PONG_BACKLOG_BYTES or self._closing:
            return
        try:
            self._stream.write_nowait(wsframe.pong_frame(payload))
        except _STREAM_ERRORS:
            pass  # the next read finds out

    def _answer_close(self, event: wsframe.Close) -> None:
        """The peer closed first: echo its code (RFC 6455 §5.5.1), then close TCP (server first)."""
        if not self._closing:
            self._closing = True
            code = wsframe.CLOSE_NORMAL if event.code == wsframe.CLOSE_NO_STATUS else event.code
            try:
                self._stream.write_nowait(wsframe.close_frame(code))
            except _STREAM_ERRORS:
                pass
        self._stream.close()

    async def _close_after_violation(self, code: int, reason: str) -> None:
        """Send the close frame, then read and discard (never parse) until the peer closes or
        ``CLOSE_WAIT_SECS`` pass — closing at once would reset the connection while the peer
        still sends, and it would lose our close frame."""
        self._closing = True
        try:
            if not self._stream.write_nowait(wsframe.close_frame(code, reason)):
                await self._stream.flush()
            with trio.move_on_after(CLOSE_WAIT_SECS):
                while await self._stream.receive_some():
                    pass
        except _STREAM_ERRORS:
            pass
        finally:
            self._stream.close()
