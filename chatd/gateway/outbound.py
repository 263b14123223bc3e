"""One connection's outbound queue: bounded, never waited on by the fan-out, written in batches.

Frames are shared bytes (a message is encoded once for all its receivers), so a deep queue costs
references, not copies. ``queue`` never blocks and never writes: when the queue is full the
connection is too slow for its channels and ``on_overflow`` closes it (4008; it resumes from the
database). Otherwise the connection is marked for the process's ``Flusher``, which calls
``flush_now`` once the queuing task yields: everything queued meanwhile leaves as ONE WebSocket
message (one TLS record run, one system call), written without blocking. Only when the socket
does not take it all does this connection get a writer task (in its session's nursery), which
waits for the socket and keeps writing until the queue is empty; frames queued meanwhile wait in
the queue (bounded as ever) and go out in order after what is already on its way.
"""

from __future__ import annotations

from collections.abc import Callable

import trio

from chatd.flusher import Flusher
from chatd.gateway.transport import PeerGone, Transport

# One server message carries queued frames up to about this size (a frame alone may be larger):
# big enough to amortise the per-message cost, small enough not to delay the first frame much.
WRITE_BATCH_BYTES = 64 * 1024


class Outbound:
    """A bounded queue of encoded frames and its way onto the transport.

    ``queue``/``flush_now`` never block. ``start`` attaches the transport and the nursery a
    writer task may need; until then frames only queue."""

    __slots__ = (
        "_closed", "_flusher", "_frames", "_idle", "_marked", "_nursery", "_on_gone", "_on_overflow",
        "_room", "_transport", "_writing", "size",
    )

    def __init__(
        self, size: int, on_overflow: Callable[[], None], on_gone: Callable[[], None], flusher: Flusher
    ) -> None:
        self.size = size
        self._on_overflow, self._on_gone, self._flusher = on_overflow, on_gone, flusher
        # A list, not a deque: an empty deque holds a 64-slot block (~0.7 KiB per idle socket);
        # frames leave in batches (one slice each), so the list's front deletions stay cheap.
        self._frames: list[bytes] = []
        self._transport: Transport | None = None
        self._nursery: trio.Nursery | None = None
        self._marked = False  # True iff the flusher will call flush_now this round
        self._writing = False  # True iff a writer task owns the transport's write side
        self._closed = False  # no more frames accepted
        self._room: trio.Event | None = None  # set when frames leave (queue_waiting waits on it)
        self._idle: trio.Event | None = None  # set when the writer task ends (drain waits on it)

    def start(self, transport: Transport, nursery: trio.Nursery) -> None:
        self._transport, self._nursery = transport, nursery
        self._mark()

    def queue(self, frame: bytes) -> None:
        """Queue ``frame`` (never blocks); a full queue calls ``on_overflow`` instead."""
        if self._closed:
            return
        if len(self._frames) >= self.size:
            self._on_overflow()
            return
        self._frames.append(frame)
        self._mark()

    async def queue_waiting(self, frame: bytes) -> None:
        """Queue ``frame``, waiting for room (a replay goes at the pace of the socket)."""
        while len(self._frames) >= self.size and not self._closed:
            self._room = self._room or trio.Event()
            await self._room.wait()
        self.queue(frame)

    def close(self) -> None:
        """No more frames are accepted; ``drain`` sends what is queued."""
        self._closed = True

    def leftover(self) -> bytes:
        """Whatever is still queued, as one message (b"" if nothing); empties the queue."""
        frames, self._frames = self._frames, []
        return b"".join(frames)

    def _mark(self) -> None:
        if not self._marked and not self._writing and self._transport is not None:
            self._marked = True
            self._flusher.mark(self)

    def _take(self) -> bytes:
        """The next message: queued frames up to ``WRITE_BATCH_BYTES`` (a CBOR sequence)."""
        frames = self._frames
        count, size = 1, len(frames[0])
        while count < len(frames) and size < WRITE_BATCH_BYTES:
            size += len(frames[count])
            count += 1
        message = frames[0] if count == 1 else b"".join(frames[:count])
        del frames[:count]
        if self._room is not None:
            self._room.set()
            self._room = None
        return message

    def flush_now(self) -> None:
        """Write what is queued without blocking (the flusher's call); if the socket is full,
        start the writer task for the rest."""
        self._marked = False
        transport = self._transport
        if self._writing or transport is None:
            return
        try:
            while self._frames:
                if not transport.send_nowait(self._take()):
                    self._start_writer()
                    return
        except PeerGone:
            self._frames.clear()
            self._on_gone()

    def _start_writer(self) -> None:
        assert self._nursery is not None
        self._writing = True
        try:
            self._nursery.start_soon(self._write_backlog)
        except RuntimeError:  # the session's nursery is closing: the connection is ending
            self._writing = False

    async def _write_backlog(self) -> None:
        """Wait for the socket, then write queued messages until the queue is empty."""
        transport = self._transport
        assert transport is not None
        try:
            await transport.flush()
            while self._frames:
                if not transport.send_nowait(self._take()):
                    await transport.flush()
        except PeerGone:
            self._frames.clear()
            self._on_gone()
        finally:
            self._writing = False
            if self._idle is not None:
                self._idle.set()
                self._idle = None
        if self._frames:
            self._mark()

    async def drain(self) -> None:
        """Send everything queued (waits for the socket). The caller bounds the wait."""
        transport = self._transport
        if transport is None:
            return
        while self._writing:
            self._idle = self._idle or trio.Event()
            await self._idle.wait()
        self._writing = True  # the flusher stays away: this task writes
        try:
            await transport.flush()
            while self._frames:
                await transport.send(self._take())
        except PeerGone:
            self._frames.clear()
        finally:
            self._writing = False
