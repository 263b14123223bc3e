"""Cross-process events over PostgreSQL LISTEN/NOTIFY on channel ``chatd_events``.

Every payload is a JSON object with a ``t`` (kind): ``msg`` (written by the messages trigger at
commit), ``session_revoked``, ``user_disabled``. The CLI and other chatd
processes notify; each daemon runs one ``EventBus.run`` task that dispatches to the handlers
registered with ``on``. After a (re)connect, and when the buffer overflowed, the ``resync``
handlers run so that listeners catch up from the database: a missed notification is never a
lost message, only a later one.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

import trio

from chatd.store import Conn, StoreError, Unavailable
from chatd.store.db import Database, Listener

log = logging.getLogger("chatd.events")

EVENTS_CHANNEL = "chatd_events"
RESYNC = "resync"
LISTEN_PROBE_SECS = 2.0  # how soon a dead LISTEN connection is noticed (one cheap query)
RECONNECT_MAX_SECS = 5.0  # PostgreSQL restarts take seconds; retrying faster only spams the log

Handler = Callable[[dict[str, Any]], Awaitable[None]]


async def notify(db: Conn, kind: str, **fields: Any) -> None:
    """Send event ``kind`` to every chatd process (delivered when the transaction commits)."""
    await db.execute("events.notify", "SELECT pg_notify($1, $2)", EVENTS_CHANNEL, json.dumps({"t": kind, **fields}))


class EventBus:
    """Dispatches ``chatd_events`` notifications to handlers; ``run`` owns the LISTEN connection."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        self.connected = trio.Event()

    def on(self, kind: str, handler: Handler) -> None:
        """Call ``handler(payload)`` for every event of ``kind`` (``resync``: after reconnects)."""
        self._handlers[kind].append(handler)

    async def dispatch(self, payload: dict[str, Any]) -> None:
        """Run the handlers of ``payload``'s kind. A handler's failure is logged (a bug with its
        traceback) and never ends the listener: the next event is handled as usual."""
        for handler in self._handlers.get(str(payload.get("t")), ()):
            try:
                await handler(payload)
            except StoreError as exc:
                log.warning("event=events.handler_failed kind=%s error=%s", payload.get("t"), str(exc))
            except Exception:
                log.exception("event=events.handler_crashed kind=%s", payload.get("t"))

    async def run(self, db: Database, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        """LISTEN forever, reconnecting with backoff; ``started`` once the first LISTEN is active."""
        delay = 0.1
        first = True
        while True:
            try:
                async with db.listen(EVENTS_CHANNEL) as listener:
                    delay = 0.1
                    if first:
                        task_status.started()
                        first = False
                    else:
                        log.info("event=events.reconnected")
                    self.connected.set()
                    await self.dispatch({"t": RESYNC})
                    async with trio.open_nursery() as nursery:
                        nursery.start_soon(self._probe, listener)
                        await self._consume(listener)
                        nursery.cancel_scope.cancel()
                raise Unavailable("LISTEN connection ended")
            except* Unavailable as group:
                self.connected = trio.Event()
                log.warning("event=events.disconnected error=%s retry_in=%.1f", str(group.exceptions[0]), delay)
                if first:
                    task_status.started()
                    first = False
                await trio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_SECS)

    @staticmethod
    async def _probe(listener: Listener) -> None:
        # Notifications arrive passively: without a probe a dead server is never noticed.
        while True:
            await trio.sleep(LISTEN_PROBE_SECS)
            await listener.probe()

    async def _consume(self, listener: Listener) -> None:
        async for raw in listener:
            if raw == "!overflow":
                await self.dispatch({"t": RESYNC})
                continue
            try:
                payload = json.loads(raw)
            except ValueError:
                log.warning("event=events.bad_payload payload=%s", raw[:200])
                continue
            if isinstance(payload, dict):
                await self.dispatch(payload)
