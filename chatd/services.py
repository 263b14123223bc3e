"""The daemon's long-lived services, started by ``chatd.server`` in its service nursery.

``start_services`` starts every background task of ``state`` in ``nursery`` (their one owner)
and returns once they are ready: the flusher (writes what fan-out queued), the drain (closes
every WebSocket with 1001 when the server drains), the hub (channel actors), the presence pusher,
the member-event pusher, the account-event handlers and the dead-session sweep, the session
keeper, the file store's housekeeping (its folders exist once it is started), the LISTEN loop
(last of those, so every handler is in place before the first notification arrives), the vitals
log, the heap trim and the search backfill (indexing messages stored before search existed; ends
when there are none).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import trio

from chatd.auth import events as auth_events
from chatd.auth.keeper import keep_sessions
from chatd.events import RESYNC
from chatd.files import housekeeping
from chatd.state import DaemonState
from chatd.store import Database, StoreError, Unavailable
from chatd.store import search as search_store
from chatd.vitals import log_vitals, return_free_memory
from chatd.wire.errors import CLOSE_GOING_AWAY

log = logging.getLogger("chatd.services")

BACKFILL_LOG_SECS = 5.0  # a progress line this often: a million messages take a few minutes
BACKFILL_RETRY_MAX_SECS = 60.0  # the database away: try again, waiting at most this long
# New messages' words join the search lexicon this long after a commit, gathered: a send pays
# only for queueing its id, and a busy channel is learned in one batch, not message by message.
# (A search learns whatever is queued first, so nothing waits for this to find substrings.)
LEARN_DELAY_SECS = 2.0


async def start_services(nursery: trio.Nursery, state: DaemonState) -> None:
    """Start the background services of ``state`` in ``nursery``; returns once they are ready."""
    hub = state.hub
    await nursery.start(state.flusher.run)
    nursery.start_soon(close_sockets_on_drain, state)
    await nursery.start(hub.run)
    await nursery.start(state.presence_push.run)
    await nursery.start(state.membership.run)

    committed = Signal()  # every commit of messages: the lexicon's learner waits for it

    async def on_msg(event: dict[str, Any]) -> None:
        committed.set()
        ch, seq = event.get("ch"), event.get("seq")
        if isinstance(ch, int) and isinstance(seq, int):
            hub.notify_committed(ch, seq)

    async def on_resync(_: dict[str, Any]) -> None:
        hub.resync_all()

    state.events.on("msg", on_msg)
    state.events.on(RESYNC, on_resync)
    cfg = state.config
    await nursery.start(
        auth_events.run, state.events, state.connections, state.db, state.clock, float(cfg.session_idle_secs)
    )
    await nursery.start(keep_sessions, state.sessions, state.connections, float(cfg.session_check_secs))
    await nursery.start(housekeeping.run, state.files, state.clock)
    await nursery.start(state.events.run, state.db)
    await nursery.start(log_vitals, state)
    await nursery.start(return_free_memory)
    nursery.start_soon(backfill_search, state.db)
    nursery.start_soon(learn_search_words, state.db, committed)


async def close_sockets_on_drain(state: DaemonState) -> None:
    """When the server starts draining, close every WebSocket with 1001 (one task for all)."""
    await state.draining.wait()
    closed = state.connections.end_all(CLOSE_GOING_AWAY, "server shutting down")
    log.info("event=server.sockets_closing count=%d", closed)


class Signal:
    """A flag that can be waited for: set any number of times, cleared by the waiter."""

    def __init__(self) -> None:
        self._event = trio.Event()

    def set(self) -> None:
        self._event.set()

    async def wait_and_clear(self) -> None:
        """Block until set (maybe already), then clear it."""
        await self._event.wait()
        self._event = trio.Event()


async def learn_search_words(db: Database, committed: Signal) -> None:
    """After messages are committed (and LEARN_DELAY_SECS more, to gather them), add their
    words to the search lexicon. Failures are logged; the words wait for the next round (or
    for the next search, which learns what is queued before it runs)."""
    while True:
        await committed.wait_and_clear()
        await trio.sleep(LEARN_DELAY_SECS)
        try:
            while await search_store.learn_queued(db) >= search_store.BATCH:
                pass  # a backlog: the next batch at once
        except StoreError as exc:
            log.warning("event=search.learn_failed error=%s", str(exc))


async def backfill_search(db: Database) -> None:
    """Index the messages that migration 0003 found, newest first, a batch per transaction,
    beside the daemon's work (new messages are indexed as they are sent). Returns when none is
    left — at once on every later start. The database away: retried with backoff; any other
    failure is logged and ends the task (``chatd search reindex`` finishes the job)."""
    delay = 1.0
    last = time.monotonic()

    def progress(done: int, left: int) -> None:
        nonlocal last
        if time.monotonic() - last >= BACKFILL_LOG_SECS:
            last = time.monotonic()
            log.info("event=search.backfill indexed=%d left=%d", done, left)

    while True:
        try:
            indexed = await search_store.backfill(db, progress=progress)
        except Unavailable as exc:
            log.warning("event=search.backfill_retry error=%s retry_in=%.0f", str(exc), delay)
            await trio.sleep(delay)
            delay = min(delay * 2, BACKFILL_RETRY_MAX_SECS)
            continue
        except StoreError:
            log.exception("event=search.backfill_failed")
            return
        if indexed:
            log.info("event=search.backfill_done indexed=%d", indexed)
        return
