"""Profile changes, live (feature "profile"): a new display name reaches the user's own
connections (their next messages carry it) and, as a ``user.updated`` push, every live connection
of a channel the user is in — the people who see that name next to messages, members and
conversations.
"""

from __future__ import annotations

from chatd import render
from chatd.connections import ConnectionRegistry
from chatd.hub import Hub, Subscriber
from chatd.store import Conn
from chatd.store.channels import member_channel_ids
from chatd.wire import UserUpdated, encode_server_frame

# A rename is rare: every channel of the user is told, however many people are live in it.
EVERY_SUBSCRIBER = 1 << 30


async def announce_display_name(
    db: Conn, hub: Hub, connections: ConnectionRegistry, *, user_id: int, username: str, display_name: str
) -> None:
    """``user_id`` is now called ``display_name`` (committed): tell who sees it."""
    for conn in connections.of_user(user_id):
        conn.rename(display_name)
    frame = encode_server_frame(UserUpdated(render.user(user_id, username, display_name)))
    channels = sorted(await member_channel_ids(db, user_id=user_id))
    told: set[Subscriber] = set()
    for sub, ch in hub.subscribers_by_channel(channels, EVERY_SUBSCRIBER).items():
        if sub not in told:
            told.add(sub)
            sub.deliver_ephemeral(ch, frame)
