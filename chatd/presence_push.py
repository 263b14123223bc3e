"""Presence pushes, gathered: changes are pushed at most every ``PUSH_INTERVAL_SECS``.

A user's presence change goes to every live subscriber of the channels they share. One push per
change made storms quadratic: when the 100 members of a channel reconnect together (a network
blip, a restart), each arrival was one WebSocket message to each member already back — ~5,000
messages per channel, each paying the full per-message cost of the ASGI, WebSocket and TLS
layers. Gathered, the first change after a quiet spell still goes out at once, and what follows
within the interval goes out together: each connection's writer then sends the queued frames as
one message (a CBOR sequence). A user whose state is back to what was last pushed (offline and
online again within the interval) is not pushed at all.

Ownership: ``PresencePusher.run`` is started in the service nursery (``chatd.services``).
"""

from __future__ import annotations

import math
from typing import Any

import trio

from chatd.hub import Hub
from chatd.presence import OFFLINE, PresenceTracker, State
from chatd.wire import PresencePush, encode_server_frame

# Long enough to gather a reconnect storm into a few pushes per connection, short enough that a
# person does not notice (chat clients commonly show presence seconds late).
PUSH_INTERVAL_SECS = 0.5
# Presence pushes go through channels of at most this many live subscribers: in a channel of N
# people every arrival and departure would otherwise cost N pushes — N² as everyone connects.
# Members of bigger channels see presence in the members list (as large Slack workspaces do).
PRESENCE_CHANNEL_MAX = 500
FLUSH_SLICE_USERS = 200  # users pushed between two checkpoints, so a storm's flush never stalls the loop


class PresencePusher:
    """Gathers presence changes (``changed``, non-blocking) and pushes them from ``run``."""

    def __init__(self, hub: Hub, tracker: PresenceTracker) -> None:
        self._hub = hub
        self._tracker = tracker
        self._pending: dict[int, set[int]] = {}  # user -> channels whose members are to be told
        self._told: dict[int, State] = {}  # user -> state last pushed; absent means offline
        self._wake = trio.Event()

    def changed(self, user_id: int, channels: list[int]) -> None:
        """``user_id``'s presence changed; tell the members of ``channels`` (soon, not now)."""
        self._pending.setdefault(user_id, set()).update(channels)
        self._wake.set()

    async def run(self, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        last_flush = -math.inf
        while True:
            await self._wake.wait()
            await trio.sleep_until(last_flush + PUSH_INTERVAL_SECS)  # at once after a quiet spell
            self._wake = trio.Event()
            last_flush = trio.current_time()
            await self.flush()

    async def flush(self) -> None:
        """Push every gathered change (the user's current state) to whom it concerns."""
        pending, self._pending = self._pending, {}
        for i, (uid, channels) in enumerate(pending.items()):
            if i and i % FLUSH_SLICE_USERS == 0:
                await trio.lowlevel.checkpoint()
            state = self._tracker.state(uid)
            if state == self._told.get(uid, OFFLINE):
                continue
            if state == OFFLINE:
                del self._told[uid]
            else:
                self._told[uid] = state
            frame = encode_server_frame(PresencePush(uid, state))
            for sub, ch in self._hub.subscribers_by_channel(sorted(channels), PRESENCE_CHANNEL_MAX).items():
                if sub.user_id != uid:
                    sub.deliver_ephemeral(ch, frame)
