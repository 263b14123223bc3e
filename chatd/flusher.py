"""One task that writes what was queued for many connections, once per round.

Fan-out only queues (``Outbound.queue`` never blocks or writes); queuing marks the connection,
and ``Flusher.run`` — one task for the whole process, started in the service nursery — wakes
after the queuing task yields and writes each marked connection's frames as one message
(``Flushable.flush_now``, synchronous). So a batch of messages costs each receiver one write, and
no task per receiver is woken; a connection whose socket is full starts its own writer task.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import trio

log = logging.getLogger("chatd.gateway")


class Flushable(Protocol):
    def flush_now(self) -> None:
        """Write what is queued without blocking (never raises: failures end that connection)."""
        ...


class Flusher:
    """Connections with frames to write, and the one task that writes them."""

    def __init__(self) -> None:
        self._marked: list[Flushable] = []
        self._wake = trio.Event()

    def mark(self, conn: Flushable) -> None:
        """``conn`` has frames queued: write them this round (the caller marks it once)."""
        self._marked.append(conn)
        self._wake.set()

    def flush_marked(self) -> int:
        """Write every marked connection now; returns how many."""
        marked, self._marked = self._marked, []
        for conn in marked:
            try:
                conn.flush_now()
            except Exception:  # a bug in one connection's write must not stop the others
                log.exception("event=ws.flush_crashed")
        return len(marked)

    async def run(self, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        while True:
            await self._wake.wait()
            self._wake = trio.Event()
            self.flush_marked()
