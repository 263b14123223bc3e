"""Liveness of every WebSocket from ONE timer task (PROTOCOL.md §11).

Each tick the heartbeat walks the open sockets: one silent for ``timeout_secs`` (nothing
received — no frame, no pong) is dropped without a close frame (a peer that silent would not
read one); one not pinged for ``ping_secs`` gets the pre-framed ping, written without blocking.
A task per socket sleeping between pings cost more than the pings themselves at 10,000 sockets.
"""

from __future__ import annotations

from typing import Any, Protocol

import trio

TICK_SECS = 1.0  # at most this late: pings every 10–11 s, a silent peer dropped within 25–26 s


class Beating(Protocol):
    """What the heartbeat needs of a socket (``chatd.gateway.websocket.WebSocket``)."""

    last_heard: float
    last_ping: float

    def ping_nowait(self, now: float) -> None: ...

    def abort(self) -> None: ...


class Heartbeat:
    """The open sockets and the timer that pings them and drops the silent ones."""

    def __init__(self, ping_secs: float, timeout_secs: float) -> None:
        self.ping_secs, self.timeout_secs = ping_secs, timeout_secs
        self.tick_secs = min(TICK_SECS, ping_secs / 4)
        self._sockets: set[Beating] = set()

    def add(self, sock: Beating) -> None:
        self._sockets.add(sock)

    def discard(self, sock: Beating) -> None:
        self._sockets.discard(sock)

    def __len__(self) -> int:
        return len(self._sockets)

    def beat(self, now: float) -> tuple[int, int]:
        """One tick at ``now``: (pinged, dropped)."""
        pinged = dropped = 0
        ping_before, silent_before = now - self.ping_secs, now - self.timeout_secs
        for sock in list(self._sockets):
            if sock.last_heard <= silent_before:
                self._sockets.discard(sock)
                sock.abort()
                dropped += 1
            elif sock.last_ping <= ping_before:
                sock.ping_nowait(now)
                pinged += 1
        return pinged, dropped

    async def run(self, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        while True:
            await trio.sleep(self.tick_secs)
            self.beat(trio.current_time())
