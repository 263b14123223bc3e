"""The hub: every channel actor of this process, and who is subscribed to which channel.

Ownership: ``Hub.run`` (started in the service nursery) owns a nursery holding every
``ChannelActor.run``. An actor with no subscribers and nothing queued for ``IDLE_SECS`` ends.
"""

from __future__ import annotations

import contextvars
from typing import Any

import trio

from chatd.hub.actor import Busy, CatchUp, ChannelActor, Subscriber
from chatd.store import Database, Unavailable


class Hub:
    """All channel actors of this process. ``run`` must be started in the service nursery."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._actors: dict[int, ChannelActor] = {}
        self._nursery: trio.Nursery | None = None
        self._context = contextvars.copy_context()

    async def run(self, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        # Actors start in the hub's context, not their first user's: a task inherits the
        # contextvars of the task that spawned it, and a request's hold its whole connection
        # (Quart's WebSocket, Hypercorn's streams), which an actor would keep alive for as long
        # as it runs.
        self._context = contextvars.copy_context()
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
            actor = ChannelActor(ch, self.db, self._forget)
            try:
                self._context.copy().run(self._nursery.start_soon, actor.run)
            except RuntimeError:  # the hub's nursery is closing: the server is shutting down
                raise Unavailable("the server is shutting down") from None
            self._actors[ch] = actor
        return actor

    def _forget(self, actor: ChannelActor) -> None:
        """An actor ended: the next use of its channel starts a new one."""
        if self._actors.get(actor.ch) is actor:
            del self._actors[actor.ch]

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

    def notify_committed(self, ch: int, seq: int) -> None:
        """A commit seen through NOTIFY: broadcast it if this process has not (nor will)."""
        actor = self._actors.get(ch)
        if actor is None or actor.closed:
            return  # nobody here listens to that channel; history has it
        if actor.fanned_seq is not None and seq <= actor.fanned_seq:
            return
        try:
            actor.submit(CatchUp(seq))
        except Busy:
            pass  # the actor is busy posting; its next gap check reads the database anyway

    def resync_all(self) -> None:
        """After a LISTEN reconnect: every active actor re-reads its channel's end."""
        for actor in list(self._actors.values()):
            try:
                actor.submit(CatchUp(None))
            except Busy:
                pass

    def statistics(self) -> dict[str, int]:
        return {
            "actors": len(self._actors),
            "subscriptions": sum(len(a.subscribers) for a in self._actors.values()),
        }
