"""Presence and typing, and the application-level ping (PROTOCOL.md §5.13–5.15).

``typing`` needs membership of its channel (checked by the dispatcher); the others need nothing.
"""

from __future__ import annotations

import math

import trio

from chatd.handlers.base import Grant, Peer
from chatd.wire import Ok, Ping, PresenceSet, Typing, TypingPush, encode_server_frame

TYPING_MIN_INTERVAL_SECS = 3.0  # clients send typing at most every 3 s; relays beyond are dropped


async def typing(peer: Peer, frame: Typing, _: Grant | None) -> None:
    now = trio.current_time()
    if now - peer.typing_at.get(frame.ch, -math.inf) >= TYPING_MIN_INTERVAL_SECS:
        peer.typing_at[frame.ch] = now
        p = peer.principal
        peer.state.hub.broadcast_ephemeral(  # to the other members, not to my other tabs
            frame.ch, encode_server_frame(TypingPush(frame.ch, p.user_id, p.display_name)), exclude_user=p.user_id
        )
    peer.push(Ok(frame.rid, {}))


async def presence_set(peer: Peer, frame: PresenceSet, _: Grant | None) -> None:
    peer.push(Ok(frame.rid, {}))
    state = peer.state
    if state.presence.set_away(peer.user_id, id(peer), frame.state == "away"):
        state.presence_push.changed(peer.user_id, peer.channel_ids())


async def ping(peer: Peer, frame: Ping, _: Grant | None) -> None:
    peer.push(Ok(frame.rid, {}))
