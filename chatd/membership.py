"""Membership changes, live: the user's own connections follow at once, the channel hears later.

When a user joins, creates, is invited to or leaves a channel (the change is committed by the
caller), ``added``/``removed`` update every live connection of that user in this process before
returning — subscribe and push ``channel.added``, or unsubscribe and push ``channel.removed`` — so
a reply sent after them is never ahead of the user's other connections. The ``member.joined`` /
``member.left`` pushes to the channel's other members go through a bounded queue to ``run``, the
member-event pusher (owned by the service nursery), like presence pushes: a request never waits
for them, and a failure there is logged and costs one push, never the daemon.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import trio

from chatd import render
from chatd.connections import ConnectionRegistry
from chatd.hub import Hub
from chatd.store import Database, StoreError
from chatd.store.channels import ChannelRow, get_member
from chatd.wire import ChannelAdded, ChannelRemoved, MemberJoined, MemberLeft, encode_server_frame

log = logging.getLogger("chatd.membership")

# Member events waiting for the pusher. A burst of joins beyond this (an admin script inviting
# hundreds at once) drops the excess pushes with a warning: they are a courtesy, clients see the
# change in the next ``members`` reply.
EVENT_QUEUE_LEN = 1024


@dataclass(frozen=True, slots=True)
class _MemberEvent:
    ch: int
    user_id: int
    joined: bool


class Membership:
    """Live fan-out of membership changes. ``added``/``removed`` never block."""

    def __init__(self, db: Database, hub: Hub, connections: ConnectionRegistry) -> None:
        self._db = db
        self._hub = hub
        self._connections = connections
        self._send, self._recv = trio.open_memory_channel[_MemberEvent](EVENT_QUEUE_LEN)

    def added(self, user_id: int, channel: ChannelRow, *, announce: bool = True) -> None:
        """``user_id`` is now a member of ``channel`` (committed): tell their connections, and
        (``announce``) the channel's members."""
        frame = encode_server_frame(ChannelAdded(render.channel(channel)))
        for conn in self._connections.of_user(user_id):
            conn.join_channel(
                channel.id, role=channel.role, private=channel.private, last_seq=channel.last_seq, added=frame
            )
        if announce:
            self._queue(_MemberEvent(channel.id, user_id, joined=True))

    def removed(self, user_id: int, ch: int) -> None:
        """``user_id`` left ``ch`` (committed): tell their connections and the remaining members."""
        frame = encode_server_frame(ChannelRemoved(ch))
        for conn in self._connections.of_user(user_id):
            conn.leave_channel(ch, frame)
        self._queue(_MemberEvent(ch, user_id, joined=False))

    def _queue(self, event: _MemberEvent) -> None:
        try:
            self._send.send_nowait(event)
        except trio.WouldBlock:
            log.warning("event=membership.push_dropped ch=%d user_id=%d", event.ch, event.user_id)

    async def run(self, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        """Push queued member events to the channels' live subscribers, until cancelled."""
        task_status.started()
        async for event in self._recv:
            try:
                await self._push(event)
            except StoreError as exc:
                log.warning("event=membership.push_failed ch=%d error=%s", event.ch, str(exc))
            except Exception:
                log.exception("event=membership.push_crashed ch=%d", event.ch)

    async def _push(self, event: _MemberEvent) -> None:
        if event.joined:
            member = await get_member(self._db, channel_id=event.ch, user_id=event.user_id)
            if member is None:  # left again meanwhile: its member.left follows
                return
            frame = encode_server_frame(MemberJoined(event.ch, render.member(member)))
        else:
            frame = encode_server_frame(MemberLeft(event.ch, event.user_id))
        self._hub.broadcast_ephemeral(event.ch, frame)
