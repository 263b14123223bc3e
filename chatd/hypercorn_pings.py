"""Hypercorn's WebSocket pings, stopped as soon as the connection closes.

Hypercorn 0.18's ``WSStream._send_pings`` sleeps a whole ``websocket_ping_interval`` between
pings and only then looks at ``closed``. The ping task belongs to the connection's task group,
so every closed WebSocket kept its connection task (and its buffers) alive for up to one
interval, and a graceful shutdown waited for the slowest of them: with the default 10 s ping,
SIGTERM → exit took ~8–11 s with clients connected, ~0.2 s without (measured).

``install()`` makes Hypercorn build ``PromptPingWSStream`` instead: the same pings, but the wait
between them ends when the stream closes. Hypercorn is pinned (``~= 0.18.0``); the test
``test_shutdown_does_not_wait_for_a_ping_interval`` fails if an upgrade changes this.
"""

from __future__ import annotations

import trio
from hypercorn.protocol import h2, h11, ws_stream
from wsproto.events import Ping


class PromptPingWSStream(ws_stream.WSStream):
    """A ``WSStream`` whose ping loop wakes up when the stream closes."""

    _closed_event: trio.Event

    @property
    def closed(self) -> bool:
        return self._closed_flag

    @closed.setter
    def closed(self, value: bool) -> None:
        # WSStream.__init__ assigns closed = False before anything of ours exists.
        self._closed_flag = value
        if "_closed_event" not in self.__dict__:
            self._closed_event = trio.Event()
        if value:
            self._closed_event.set()

    async def _send_pings(self) -> None:
        while not self.closed:
            await self._send_wsproto_event(Ping())
            with trio.move_on_after(self.config.websocket_ping_interval or 0):
                await self._closed_event.wait()


def install() -> None:
    """Make Hypercorn's HTTP/1.1 and HTTP/2 protocols use ``PromptPingWSStream`` (idempotent)."""
    h11.WSStream = PromptPingWSStream  # type: ignore[attr-defined]
    h2.WSStream = PromptPingWSStream  # type: ignore[attr-defined]
