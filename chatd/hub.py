"""The hub: one sequencer task per active channel, which commits, acks and fans out messages.

The hot path (DESIGN.md §3): a gateway hands a ``SendRequest`` to the channel's actor with
``submit`` (non-blocking, bounded queue); the actor drains what is queued (group commit, at most
``BATCH_MAX``), posts the batch in ONE statement, and only after the commit wakes each request's
waiter (the ack) and broadcasts each new message: encoded ONCE, handed to every subscriber with
``deliver`` (non-blocking; a subscriber whose queue is full drops itself, and resumes from the
database). The actor is the only task that broadcasts for its channel, so subscribers see seqs in
order; a gap (a message another process or the CLI committed) is filled from the database first.

Ownership: ``Hub.run`` owns a nursery holding every ``ChannelActor.run``. An actor with no
subscribers and nothing queued for ``IDLE_SECS`` removes itself.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import trio

from chatd.store import Database, StoreError, Unavailable, UniqueViolation
from chatd.store.messages import Posted, message_info, messages_after, post_messages
from chatd.wire import Msg, encode_server_frame

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
    """One message to post. ``done`` is set once ``result`` holds a ``Posted`` or an error.

    ``on_done``, if given, is called with the request by the channel's actor as soon as the
    result is known (after the commit and the broadcast). It must not block or raise: the
    gateway queues its ack frame there instead of keeping a task per send waiting on ``done``.
    """

    user_id: int
    username: str
    display: str
    cid: bytes
    body: str
    on_done: Callable[[SendRequest], None] | None = None
    done: trio.Event = field(default_factory=trio.Event)
    result: Posted | StoreError | None = None

    def finish(self, result: Posted | StoreError) -> None:
        """Record the outcome and tell whoever waits (``on_done``, then ``done``)."""
        self.result = result
        if self.on_done is not None:
            self.on_done(self)
        self.done.set()


@dataclass(slots=True, eq=False)
class _CatchUp:
    """Queued by the NOTIFY listener: read and broadcast what is committed up to ``seq``."""

    seq: int | None


class Busy(Exception):
    """The channel's queue is full; the client should retry shortly."""


class ChannelActor:
    """The sequencer of one channel. Created by ``Hub.actor``; ``run`` is owned by the hub."""

    def __init__(self, hub: Hub, ch: int) -> None:
        self.hub = hub
        self.ch = ch
        self.subscribers: set[Subscriber] = set()
        self._send, self._recv = trio.open_memory_channel[SendRequest | _CatchUp](SEND_QUEUE_LEN)
        # True iff every message with seq <= fanned_seq has been handed to the subscribers.
        self.fanned_seq: int | None = None
        self.closed = False

    def submit(self, item: SendRequest | _CatchUp) -> None:
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
        db = self.hub.db
        try:
            while True:
                idle = not self.subscribers
                with trio.move_on_after(IDLE_SECS if idle else math.inf):
                    first = await self._recv.receive()
                    batch = [first]
                    while len(batch) < BATCH_MAX:
                        try:
                            batch.append(self._recv.receive_nowait())
                        except trio.WouldBlock:
                            break
                    await self._process(db, batch)
                    continue
                if not self.subscribers and self._recv.statistics().current_buffer_used == 0:
                    self.hub._forget(self)
                    return
        except Exception:
            # A bug here must not take the server down: this channel's actor restarts on next use.
            log.exception("event=hub.actor_crashed ch=%d", self.ch)
        finally:
            self.closed = True
            self.hub._forget(self)
            # Anyone still waiting gets an answer rather than hanging.
            while True:
                try:
                    item = self._recv.receive_nowait()
                except (trio.WouldBlock, trio.EndOfChannel):
                    break
                if isinstance(item, SendRequest):
                    item.finish(Unavailable("channel sequencer stopped"))

    async def _process(self, db: Database, batch: list[SendRequest | _CatchUp]) -> None:
        sends = [b for b in batch if isinstance(b, SendRequest)]
        catch_up = any(isinstance(b, _CatchUp) for b in batch)
        if sends:
            await self._post(db, sends)
        if catch_up or self.fanned_seq is None:
            try:
                await self._fill_gap(db, None)
            except StoreError as exc:
                log.warning("event=hub.catch_up_failed ch=%d error=%r", self.ch, str(exc))

    async def _post(self, db: Database, sends: list[SendRequest]) -> None:
        results: list[Posted] | None = None
        error: StoreError | None = None
        for _attempt in range(POST_RETRIES):
            try:
                results = await post_messages(
                    db, self.ch, [s.user_id for s in sends], [s.cid for s in sends], [s.body for s in sends]
                )
                break
            except UniqueViolation as exc:
                error = exc  # a concurrent writer stored one of these cids first: try again
            except StoreError as exc:
                error = exc
                break
        if results is None:
            log.warning("event=hub.post_failed ch=%d n=%d error=%r", self.ch, len(sends), str(error))
            assert error is not None
            for s in sends:
                s.finish(error)
            return
        # Committed. Broadcast the new messages in seq order (after any gap), then ack.
        fresh = sorted(
            ((r, s) for r, s in zip(results, sends, strict=True) if not r.existed and r.seq is not None and r.ch == self.ch),
            key=lambda pair: pair[0].seq or 0,
        )
        if fresh:
            first_seq = fresh[0][0].seq or 0
            if self.fanned_seq is None or first_seq > self.fanned_seq + 1:
                try:
                    await self._fill_gap(db, first_seq - 1)
                except StoreError as exc:
                    log.warning("event=hub.gap_fill_failed ch=%d error=%r", self.ch, str(exc))
            for r, s in fresh:
                assert r.seq is not None and r.id is not None
                frame = encode_server_frame(
                    Msg(self.ch, r.seq, r.id, r.ts_ms, s.user_id, s.username, s.display, s.body, s.cid)
                )
                self._fan_out(r.seq, frame)
        for r, s in zip(results, sends, strict=True):
            s.finish(r)

    async def _fill_gap(self, db: Database, upto: int | None) -> None:
        """Broadcast committed messages after ``fanned_seq`` (up to ``upto``) from the database."""
        if self.fanned_seq is None:
            # First use: start from the channel's current end; earlier messages are history.
            last: int | None = await db.fetchval(
                "hub.channel_last_seq", "SELECT last_seq FROM channels WHERE id = $1", self.ch
            )
            if last is None:
                return
            self.fanned_seq = last if upto is None else min(last, upto)
            return
        while True:
            rows = await messages_after(db, self.ch, self.fanned_seq, CATCH_UP_PAGE, upto)
            for row in rows:
                frame = encode_server_frame(Msg(**message_info(row)))
                self._fan_out(row["seq"], frame)
            if len(rows) < CATCH_UP_PAGE:
                return

    def _fan_out(self, seq: int, frame: bytes) -> None:
        if self.fanned_seq is not None and seq <= self.fanned_seq:
            return
        self.fanned_seq = seq
        for sub in list(self.subscribers):
            sub.deliver(self.ch, seq, frame)


class Hub:
    """All channel actors of this process. ``run`` must be started in the service nursery."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._actors: dict[int, ChannelActor] = {}
        self._nursery: trio.Nursery | None = None

    async def run(self, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            task_status.started()
            await trio.sleep_forever()

    def actor(self, ch: int) -> ChannelActor:
        """The live actor of ``ch``, started if needed (synchronous: no await may intervene
        between getting an actor and subscribing to it or submitting to it)."""
        actor = self._actors.get(ch)
        if actor is None or actor.closed:
            if self._nursery is None:
                raise RuntimeError("Hub.run is not running")
            actor = ChannelActor(self, ch)
            try:
                self._nursery.start_soon(actor.run)
            except RuntimeError:  # the hub's nursery is closing: the server is shutting down
                raise Unavailable("the server is shutting down") from None
            self._actors[ch] = actor
        return actor

    def _forget(self, actor: ChannelActor) -> None:
        if self._actors.get(actor.ch) is actor:
            del self._actors[actor.ch]
            actor.closed = True

    def broadcast_ephemeral(self, ch: int, frame: bytes, exclude_user: int | None = None) -> None:
        """Hand a non-message frame (typing, member events) to the channel's live subscribers."""
        actor = self._actors.get(ch)
        if actor is not None:  # no actor: nobody here is subscribed to the channel
            actor.broadcast_ephemeral(frame, exclude_user)

    def subscribers_by_channel(self, channels: list[int], max_per_channel: int) -> dict[Subscriber, int]:
        """Each live subscriber of any of ``channels``, once, with one channel it is in.

        Channels with more than ``max_per_channel`` subscribers are left out.
        """
        found: dict[Subscriber, int] = {}
        for ch in channels:
            actor = self._actors.get(ch)
            if actor is not None and len(actor.subscribers) <= max_per_channel:
                for sub in actor.subscribers:
                    found.setdefault(sub, ch)
        return found

    def subscribe(self, ch: int, sub: Subscriber) -> None:
        self.actor(ch).subscribers.add(sub)

    def unsubscribe(self, ch: int, sub: Subscriber) -> None:
        actor = self._actors.get(ch)
        if actor is not None:
            actor.subscribers.discard(sub)

    async def send(self, ch: int, req: SendRequest) -> Posted:
        """Submit and wait for the commit. Raises Busy, or the StoreError of the batch."""
        self.actor(ch).submit(req)
        await req.done.wait()
        if isinstance(req.result, StoreError):
            raise req.result
        assert req.result is not None
        return req.result

    def notify_committed(self, ch: int, seq: int) -> None:
        """A commit seen through NOTIFY: broadcast it if this process has not (nor will)."""
        actor = self._actors.get(ch)
        if actor is None or actor.closed:
            return  # nobody here listens to that channel; history has it
        if actor.fanned_seq is not None and seq <= actor.fanned_seq:
            return
        try:
            actor.submit(_CatchUp(seq))
        except Busy:
            pass  # the actor is busy posting; its next gap check reads the database anyway

    def resync_all(self) -> None:
        """After a LISTEN reconnect: every active actor re-reads its channel's end."""
        for actor in list(self._actors.values()):
            try:
                actor.submit(_CatchUp(None))
            except Busy:
                pass

    def statistics(self) -> dict[str, int]:
        return {
            "actors": len(self._actors),
            "subscriptions": sum(len(a.subscribers) for a in self._actors.values()),
        }
