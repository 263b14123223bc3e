"""The small interface a WebSocket session runs over: whole messages in, whole messages out, close.

Production runs sessions over chatd's own WebSocket (``chatd.gateway.websocket``) and, for an
upgrade on a connection Hypercorn already serves, over Quart's (``chatd.gateway.route``); tests
drive a session over memory channels with the same interface (``tests/helpers/memory.py``).
"""

from __future__ import annotations

from typing import Protocol


class PeerGone(Exception):
    """The peer closed the connection or it dropped (nothing more can be sent or received)."""


class Transport(Protocol):
    async def receive(self) -> bytes | str:
        """The next whole message from the peer: bytes (binary) or str (text).

        Raises ``PeerGone`` when the peer went away (a transport may instead cancel the
        session's task: Quart does)."""
        ...

    def send_nowait(self, data: bytes) -> bool:
        """Start sending one binary message without blocking, after everything sent before.

        True iff it is all on its way; False if part of it waits for ``flush``, which must then
        run before the next ``send_nowait``. Raises ``PeerGone`` if the connection is gone."""
        ...

    async def flush(self) -> None:
        """Wait until what ``send_nowait`` left waiting is sent (blocks while the peer is slow)."""
        ...

    async def send(self, data: bytes) -> None:
        """Send one binary message (it may block while the peer is slow to read)."""
        ...

    async def close(self, code: int, reason: str) -> None:
        """Close the WebSocket with ``code`` (the reason is at most 123 bytes of UTF-8)."""
        ...
