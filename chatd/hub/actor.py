"""One channel's sequencer: group commit, acks, ordered fan-out, gap fill (DESIGN.md §3).

A session hands a ``SendRequest`` to the channel's actor with ``submit`` (non-blocking, bounded
queue); the actor drains what is queued (group commit, at most ``BATCH_MAX``), posts the batch in
ONE statement, and only after the commit broadcasts each new message — encoded ONCE, handed to
every subscriber with ``deliver`` (non-blocking; a subscriber whose queue is full drops itself and
resumes from the database) — and then tells each request its result (``on_done``: the ack). The
actor is the only task that broadcasts for its channel, so subscribers see seqs in order; a gap
(a message another process or the CLI committed) is filled from the database first.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import trio

from chatd import metrics, render
from chatd.store import Database, StoreError, Unavailable, UniqueViolation
from chatd.store.channels import get_last_seq
from chatd.store.files import FileRow, attach_files
from chatd.store.messages import MessageRow, Posted, messages_after, post_messages
from chatd.wire import encode_server_frame

log = logging.getLogger("chatd.hub")

SEND_QUEUE_LEN = 4096  # per channel: ~2 s of the benchmark's heaviest burst; beyond it, "busy"
BATCH_MAX = 256  # one statement carries at most this many messages (keeps a commit under ~10 ms)
IDLE_SECS = 120.0  # an unused channel's actor lingers this long: channels are bursty
CATCH_UP_PAGE = 500  # rows per read when filling a gap from the database
POST_RETRIES = 3  # a unique-violation race with another writer resolves on the next try


class Subscriber(Protocol):
    """A live connection's view of a channel. ``deliver`` must never block."""

    @property
    def user_id(self) -> int: ...

    def deliver(self, ch: int, seq: int, frame: bytes) -> None: ...

    def deliver_ephemeral(self, ch: int, frame: bytes) -> None: ...


@dataclass(slots=True, eq=False)
class SendRequest:
    """One message to post, and who to tell the outcome.

    ``on_done(request)`` is called by the channel's actor once ``result`` holds a ``Posted``
    (after the commit and the broadcast) or the ``StoreError`` that stopped it. It runs in the
    actor's task: it must not block or raise (a session queues its ack frame there).
    """

    user_id: int
    username: str
    display: str
    cid: bytes
    body: str
    on_done: Callable[[SendRequest], None]
    result: Posted | StoreError | None = None
    # The finished uploads the message carries (checked by the handler); attached in the
    # batch's transaction. After the commit: those another message did not take meanwhile.
    files: tuple[FileRow, ...] = ()

    def finish(self, result: Posted | StoreError) -> None:
        """Record the outcome and tell the requester."""
        self.result = result
        self.on_done(self)


@dataclass(slots=True, eq=False)
class CatchUp:
    """Queued by the NOTIFY listener: read and broadcast what is committed up to ``seq``."""

    seq: int | None


class Busy(Exception):
    """The channel's queue is full; the client should retry shortly."""


class ChannelActor:
    """The sequencer of one channel. Created by ``Hub.actor``; ``run`` is owned by the hub, and
    calls ``on_end(actor)`` as it ends (the hub then starts a new actor on next use)."""

    def __init__(self, ch: int, db: Database, on_end: Callable[[ChannelActor], None]) -> None:
        self.ch = ch
        self._db = db
        self._on_end = on_end
        self.subscribers: set[Subscriber] = set()
        self._send, self._recv = trio.open_memory_channel[SendRequest | CatchUp](SEND_QUEUE_LEN)
        # True iff every message with seq <= fanned_seq has been handed to the subscribers.
        self.fanned_seq: int | None = None
        self.closed = False

    def submit(self, item: SendRequest | CatchUp) -> None:
        """Queue work for the actor (non-blocking); raises Busy when the queue is full."""
        try:
            self._send.send_nowait(item)
        except trio.WouldBlock:
            raise Busy(f"channel {self.ch} is busy") from None

    def broadcast_ephemeral(self, frame: bytes, exclude_user: int | None = None) -> None:
        """Hand a frame that is not a message (typing) to every subscriber not of ``exclude_user``."""
        for sub in list(self.subscribers):
            if sub.user_id != exclude_user:
                sub.deliver_ephemeral(self.ch, frame)

    async def run(self) -> None:
        """Process queued work until idle for ``IDLE_SECS`` with no subscribers.

        Crash policy (docs/architecture.md): a bug here is logged with its traceback and ends
        this actor only — every request still queued is answered ``Unavailable`` (the client
        retries with the same cid, so nothing is lost or doubled), and the next use of the
        channel starts a fresh actor that re-reads the channel's end from the database.
        """
        db = self._db
        batch: list[SendRequest | CatchUp] = []
        try:
            while True:
                idle = not self.subscribers
                with trio.move_on_after(IDLE_SECS if idle else math.inf):
                    batch = [await self._recv.receive()]
                    while len(batch) < BATCH_MAX:
                        try:
                            batch.append(self._recv.receive_nowait())
                        except trio.WouldBlock:
                            break
                    await self._process(db, batch)
                    batch = []
                    continue
                if not self.subscribers and self._recv.statistics().current_buffer_used == 0:
                    return
        except Exception:
            log.exception("event=hub.actor_crashed ch=%d", self.ch)
        finally:
            self.closed = True
            self._on_end(self)
            while True:  # what is still queued is answered too: its senders retry
                try:
                    batch.append(self._recv.receive_nowait())
                except (trio.WouldBlock, trio.EndOfChannel):
                    break
            for item in batch:  # anyone still waiting gets an answer rather than hanging
                if isinstance(item, SendRequest) and item.result is None:
                    item.finish(Unavailable("channel sequencer stopped"))

    async def _process(self, db: Database, batch: list[SendRequest | CatchUp]) -> None:
        sends = [b for b in batch if isinstance(b, SendRequest)]
        catch_up = any(isinstance(b, CatchUp) for b in batch)
        if sends:
            await self._post(db, sends)
        if catch_up or self.fanned_seq is None:
            try:
                await self._fill_gap(db, None)
            except StoreError as exc:
                log.warning("event=hub.catch_up_failed ch=%d error=%s", self.ch, str(exc))

    async def _post(self, db: Database, sends: list[SendRequest]) -> None:
        results: list[Posted] | None = None
        error: StoreError | None = None
        for _attempt in range(POST_RETRIES):
            try:
                if any(s.files for s in sends):
                    results = await self._post_with_files(db, sends)
                else:  # the hot path: one statement
                    results = await post_messages(
                        db, channel_id=self.ch, users=[s.user_id for s in sends], cids=[s.cid for s in sends],
                        bodies=[s.body for s in sends],
                    )
                break
            except UniqueViolation as exc:
                error = exc  # a concurrent writer stored one of these cids first: try again
            except StoreError as exc:
                error = exc
                break
        if results is None:
            log.warning("event=hub.post_failed ch=%d n=%d error=%s", self.ch, len(sends), str(error))
            assert error is not None
            for s in sends:
                s.finish(error)
            return
        # Committed. Broadcast the new messages in seq order (after any gap), then ack.
        fresh = sorted(
            ((r, s) for r, s in zip(results, sends, strict=True)
             if not r.existed and r.seq is not None and r.channel_id == self.ch),
            key=lambda pair: pair[0].seq or 0,
        )
        metrics.MESSAGES_SENT.inc(len(fresh))
        if fresh:
            first_seq = fresh[0][0].seq or 0
            if self.fanned_seq is None or first_seq > self.fanned_seq + 1:
                try:
                    await self._fill_gap(db, first_seq - 1)
                except StoreError as exc:
                    log.warning("event=hub.gap_fill_failed ch=%d error=%s", self.ch, str(exc))
            for r, s in fresh:
                assert r.seq is not None and r.id is not None
                row = MessageRow(
                    self.ch, r.seq, r.id, r.ts_ms, s.user_id, s.username, s.display, s.body, s.cid, s.files
                )
                self._fan_out(r.seq, encode_server_frame(render.msg(row)))
        for r, s in zip(results, sends, strict=True):
            s.finish(r)

    async def _post_with_files(self, db: Database, sends: list[SendRequest]) -> list[Posted]:
        """Post the batch and attach the new messages' files, in one transaction."""
        async with db.transaction("messages.post_with_files") as tx:
            results = await post_messages(
                tx, channel_id=self.ch, users=[s.user_id for s in sends], cids=[s.cid for s in sends],
                bodies=[s.body for s in sends],
            )
            links = [(r.id, s.user_id, f.key, i) for r, s in zip(results, sends, strict=True)
                     if not r.existed and r.id is not None for i, f in enumerate(s.files)]
            attached = await attach_files(
                tx, message_ids=[x[0] for x in links], user_ids=[x[1] for x in links], keys=[x[2] for x in links],
                positions=[x[3] for x in links],
            ) if links else set()
        for r, s in zip(results, sends, strict=True):
            if not r.existed:
                s.files = tuple(f for f in s.files if f.key in attached)
        return results

    async def _fill_gap(self, db: Database, upto: int | None) -> None:
        """Broadcast committed messages after ``fanned_seq`` (up to ``upto``) from the database."""
        if self.fanned_seq is None:
            # First use: start from the channel's current end; earlier messages are history.
            last = await get_last_seq(db, channel_id=self.ch)
            if last is None:
                return
            self.fanned_seq = last if upto is None else min(last, upto)
            return
        while True:
            rows = await messages_after(
                db, channel_id=self.ch, after_seq=self.fanned_seq, limit=CATCH_UP_PAGE, upto=upto
            )
            for row in rows:
                self._fan_out(row.seq, encode_server_frame(render.msg(row)))
            if len(rows) < CATCH_UP_PAGE:
                return

    def _fan_out(self, seq: int, frame: bytes) -> None:
        if self.fanned_seq is not None and seq <= self.fanned_seq:
            return
        self.fanned_seq = seq
        metrics.DELIVERIES.inc(len(self.subscribers))
        for sub in list(self.subscribers):
            sub.deliver(self.ch, seq, frame)
