"""One connection's channel subscriptions: live frames held during a replay, then in order.

Per channel the connection is subscribed to (a ``Sub``): its role, and whether its resume replay
still runs. Live events (``msg``, ``msg.changed``) arriving during the replay are held (bounded);
``go_live`` releases them, dropping every position the replay already delivered — so each
position reaches the socket once, in order (PROTOCOL.md §10). Notes for this user that follow an
event (``counts``) are held with it and released after it, unless the hello's counts already
include it. Nothing here blocks: frames go to the connection's bounded queue through ``queue``;
overflow calls ``overflow`` (the session closes with 4008).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from chatd.hub import Hub, Subscriber


@dataclass(slots=True)
class Sub:
    """This connection's subscription to one channel (also the ``Grant`` the dispatcher uses)."""

    role: str | None
    private: bool
    dm: bool = False
    replaying: bool = True
    last_sent: int = 0  # True iff every event at a position <= last_sent was sent (or skipped)
    # Held while replaying: (position, is a note, frame), in arrival order.
    pending: list[tuple[int, bool, bytes]] = field(default_factory=list)


class Subscriptions:
    """The channels one connection is subscribed to, and the ordering of their live frames."""

    def __init__(
        self, hub: Hub, owner: Subscriber, queue: Callable[[bytes], None], overflow: Callable[[], None],
        hold_max: int,
    ) -> None:
        self._hub = hub
        self._owner = owner
        self._queue = queue
        self._overflow = overflow
        self._hold_max = hold_max
        self._subs: dict[int, Sub] = {}

    def __contains__(self, ch: int) -> bool:
        return ch in self._subs

    def ids(self) -> list[int]:
        return list(self._subs)

    def grant(self, ch: int) -> Sub | None:
        return self._subs.get(ch)

    def subscribe(self, ch: int, *, role: str, private: bool, dm: bool = False) -> Sub:
        """Subscribe (replaying: live frames are held until ``go_live``)."""
        sub = Sub(role=role, private=private, dm=dm)
        self._subs[ch] = sub
        self._hub.subscribe(ch, self._owner)
        return sub

    def unsubscribe(self, ch: int) -> None:
        self._subs.pop(ch, None)
        self._hub.unsubscribe(ch, self._owner)

    def clear(self) -> list[int]:
        """Unsubscribe from every channel; returns the channels it was subscribed to."""
        channels = list(self._subs)
        for ch in channels:
            self.unsubscribe(ch)
        return channels

    def go_live(self, ch: int, upto: int) -> None:
        """Everything up to ``upto`` is accounted for: flush held live frames after it, in order
        (a note after its event; the notes of events up to ``upto`` are in the hello's counts)."""
        sub = self._subs.get(ch)
        if sub is None:
            return
        sub.last_sent = max(sub.last_sent, upto)
        sub.replaying = False
        pending, sub.pending = sub.pending, []
        for seq, note, frame in sorted(pending, key=lambda p: p[0]):  # stable: a note stays after its event
            if note:
                if seq > upto:
                    self._queue(frame)
            elif seq > sub.last_sent:
                sub.last_sent = seq
                self._queue(frame)

    def last_sent(self, ch: int) -> int | None:
        sub = self._subs.get(ch)
        return None if sub is None else sub.last_sent

    def deliver(self, ch: int, seq: int, frame: bytes) -> None:
        """A committed event of ``ch`` (from the hub): hold it, drop it (already sent) or queue it."""
        sub = self._subs.get(ch)
        if sub is None:
            return
        if sub.replaying:
            self._hold(sub, seq, False, frame)
            return
        if seq <= sub.last_sent:
            return
        sub.last_sent = seq
        self._queue(frame)

    def deliver_note(self, ch: int, seq: int, frame: bytes) -> None:
        """A frame for this user that follows the event at ``seq`` (hub): held with the events
        while the channel's replay runs, else queued."""
        sub = self._subs.get(ch)
        if sub is None:
            return
        if sub.replaying:
            self._hold(sub, seq, True, frame)
        else:
            self._queue(frame)

    def _hold(self, sub: Sub, seq: int, note: bool, frame: bytes) -> None:
        sub.pending.append((seq, note, frame))
        if len(sub.pending) > self._hold_max:  # held while the channel's replay runs
            self._overflow()

    def deliver_ephemeral(self, ch: int, frame: bytes) -> None:
        """A frame that is not a message (typing, presence, member events): only once live."""
        sub = self._subs.get(ch)
        if sub is not None and not sub.replaying:
            self._queue(frame)
