"""One connection's outbound queue and its writer: bounded, never waited on by the fan-out.

Frames are shared bytes (a message is encoded once for all its receivers), so a deep queue costs
references, not copies. ``queue`` never blocks: when the queue is full the connection is too slow
for its channels and ``on_overflow`` closes it (4008); it resumes from the database.
"""

from __future__ import annotations

from collections.abc import Callable

import trio

from chatd.gateway.transport import Transport

# One server message carries queued frames up to about this size (a frame alone may be larger):
# big enough to amortise the per-message cost, small enough not to delay the first frame much.
WRITE_BATCH_BYTES = 64 * 1024


class Outbound:
    """A bounded queue of encoded frames, drained onto a transport by ``write_all``."""

    def __init__(self, size: int, on_overflow: Callable[[], None]) -> None:
        self.size = size
        self._on_overflow = on_overflow
        self._send, self._recv = trio.open_memory_channel[bytes](size)

    def queue(self, frame: bytes) -> None:
        """Queue ``frame`` (never blocks); a full queue calls ``on_overflow`` instead."""
        try:
            self._send.send_nowait(frame)
        except trio.WouldBlock:
            self._on_overflow()
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            pass

    async def queue_waiting(self, frame: bytes) -> None:
        """Queue ``frame``, waiting for room (a replay goes at the pace of the socket)."""
        await self._send.send(frame)

    def close(self) -> None:
        """No more frames: ``write_all`` returns once the queue is empty."""
        self._send.close()

    def leftover(self) -> bytes:
        """Whatever is still queued, as one message (b"" if nothing)."""
        frames: list[bytes] = []
        while True:
            try:
                frames.append(self._recv.receive_nowait())
            except (trio.WouldBlock, trio.EndOfChannel):
                return b"".join(frames)

    async def write_all(self, transport: Transport) -> None:
        """Send queued frames until ``close``; what queued up meanwhile goes out as ONE message.

        A server message is a CBOR sequence of frames (PROTOCOL.md §1): under load, one TLS
        record and one system call carry many frames, instead of one each. When idle, a message
        holds one frame and nothing waits.
        """
        while True:
            try:
                first = await self._recv.receive()
            except trio.EndOfChannel:
                return
            batch = [first]
            size = len(first)
            while size < WRITE_BATCH_BYTES:
                try:
                    frame = self._recv.receive_nowait()
                except (trio.WouldBlock, trio.EndOfChannel):
                    break
                batch.append(frame)
                size += len(frame)
            await transport.send(first if len(batch) == 1 else b"".join(batch))
