"""Presence: online / away / offline per user, from the user's live connections in this process.

online  — at least one live connection that is not away;
away    — every live connection reported ``away``;
offline — no live connection (closed, or dropped by the liveness timeout).

Time-based expiry comes from the transport: a connection that stops answering pings is dropped
within ``ws_timeout_secs`` and so stops counting, whatever the client last said.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Final, Literal

State = Literal["online", "away", "offline"]
ONLINE: Final = "online"
AWAY: Final = "away"
OFFLINE: Final = "offline"


class PresenceTracker:
    """Which connection of which user is live and away. Pure bookkeeping, no I/O."""

    def __init__(self) -> None:
        self._away: dict[int, dict[int, bool]] = defaultdict(dict)  # user -> conn key -> away

    def state(self, user_id: int) -> State:
        conns = self._away.get(user_id)
        if not conns:
            return OFFLINE
        return AWAY if all(conns.values()) else ONLINE

    def _change(self, user_id: int, update: dict[int, bool] | None, key: int) -> State | None:
        before = self.state(user_id)
        conns = self._away[user_id]
        if update is None:
            conns.pop(key, None)
            if not conns:
                del self._away[user_id]
        else:
            conns.update(update)
        after = self.state(user_id)
        return after if after != before else None

    def connected(self, user_id: int, key: int) -> State | None:
        """A live connection appeared; returns the user's new state if it changed."""
        return self._change(user_id, {key: False}, key)

    def disconnected(self, user_id: int, key: int) -> State | None:
        """A connection ended; returns the user's new state if it changed."""
        if key not in self._away.get(user_id, {}):
            return None
        return self._change(user_id, None, key)

    def set_away(self, user_id: int, key: int, away: bool) -> State | None:
        """The connection reported active/away; returns the user's new state if it changed."""
        if key not in self._away.get(user_id, {}):
            return None
        return self._change(user_id, {key: away}, key)
