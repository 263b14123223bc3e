"""Channels: list mine, browse public ones, create, join, leave, invite, members, my notification
settings (PROTOCOL.md §5.2–5.8, §5.22).

Access rules (checked by the dispatcher before these run): ``create``, ``channels`` and
``browse`` need none; ``join`` needs a visible channel; ``leave``, ``members`` and ``notify``
membership; ``invite`` membership, and ownership when the channel is private. The people of a
direct message conversation are fixed: it cannot be left (nor joined or invited to).
"""

from __future__ import annotations

from typing import Any

from chatd import render
from chatd.handlers.base import Grant, Peer, Refuse
from chatd.store import UniqueViolation
from chatd.store import channels as channel_store
from chatd.text import bad_character, identity_key, nfc
from chatd.wire import (
    Browse,
    ChannelCreate,
    ChannelInvite,
    ChannelJoin,
    ChannelLeave,
    ChannelNotify,
    Channels,
    ChannelUpdated,
    Members,
    Ok,
    encode_server_frame,
)
from chatd.wire.errors import (
    ALREADY_MEMBER,
    FORBIDDEN,
    INVALID_NAME,
    NAME_TAKEN,
    NOT_FOUND,
    USER_NOT_FOUND,
)

MAX_CHANNEL_NAME = 80  # characters after NFC (PROTOCOL.md §5.4)


async def list_mine(peer: Peer, frame: Channels, _: Grant | None) -> None:
    rows = await channel_store.list_channels_for_user(peer.state.db, user_id=peer.user_id)
    peer.push(Ok(frame.rid, {"channels": [render.channel(r) for r in rows]}))


async def browse(peer: Peer, frame: Browse, _: Grant | None) -> None:
    q = identity_key(frame.q) if frame.q else None
    page, nxt = await channel_store.browse_public(
        peer.state.db, user_id=peer.user_id, q=q, after=frame.after, limit=frame.limit
    )
    fields: dict[str, Any] = {"channels": [render.public_channel(r) for r in page]}
    if nxt is not None:
        fields["next"] = nxt
    peer.push(Ok(frame.rid, fields))


def channel_name(raw: str) -> str:
    """The name a ``channel.create`` asks for, normalised; raises Refuse(invalid_name)."""
    name = nfc(raw.strip())
    if not 1 <= len(name) <= MAX_CHANNEL_NAME:
        raise Refuse(INVALID_NAME, f"a channel name has 1 to {MAX_CHANNEL_NAME} characters")
    problem = bad_character(name)
    if problem:
        raise Refuse(INVALID_NAME, f"a channel name cannot contain {problem}")
    return name


async def create(peer: Peer, frame: ChannelCreate, _: Grant | None) -> None:
    name = channel_name(frame.name)
    description = nfc(frame.description.strip())  # its size limit is the codec's
    key = identity_key(name)
    db = peer.state.db
    try:
        ch = await channel_store.create_channel(
            db, name=name, name_key=key, description=description, private=frame.private, owner_id=peer.user_id
        )
    except UniqueViolation:
        existing = await channel_store.find_channel_by_key(db, key)
        extra: dict[str, Any] = {}
        if existing is not None and not existing.private:
            extra["existing"] = existing.id
        raise Refuse(NAME_TAKEN, f"a channel named {name!r} already exists", **extra) from None
    row = await channel_store.get_channel_for_member(db, user_id=peer.user_id, channel_id=ch)
    assert row is not None
    peer.push(Ok(frame.rid, {"channel": render.channel(row)}))
    peer.state.membership.added(peer.user_id, row, announce=False)  # nobody else is in it yet


async def join(peer: Peer, frame: ChannelJoin, grant: Grant | None) -> None:
    db = peer.state.db
    # Joining a channel I am already in succeeds and changes nothing (PROTOCOL.md §5.5).
    added = grant is not None and grant.role is None and await channel_store.add_member(
        db, channel_id=frame.ch, user_id=peer.user_id
    )
    row = await channel_store.get_channel_for_member(db, user_id=peer.user_id, channel_id=frame.ch)
    if row is None:  # deleted meanwhile, or left again from another connection
        raise Refuse(NOT_FOUND, "no such channel")
    peer.push(Ok(frame.rid, {"channel": render.channel(row)}))
    if added:
        peer.state.membership.added(peer.user_id, row)


async def leave(peer: Peer, frame: ChannelLeave, grant: Grant | None) -> None:
    if grant is not None and grant.dm:
        raise Refuse(FORBIDDEN, "the people of a conversation are fixed: it cannot be left")
    await channel_store.remove_member(peer.state.db, channel_id=frame.ch, user_id=peer.user_id)
    peer.push(Ok(frame.rid, {}))
    peer.state.membership.removed(peer.user_id, frame.ch)


async def invite(peer: Peer, frame: ChannelInvite, _: Grant | None) -> None:
    db = peer.state.db
    user = await channel_store.find_user_by_key(db, identity_key(frame.user))
    if user is None:
        raise Refuse(USER_NOT_FOUND, f"no user named {frame.user!r}")
    if not await channel_store.add_member(db, channel_id=frame.ch, user_id=user.id):
        raise Refuse(ALREADY_MEMBER, f"{frame.user} is already in this channel")
    row = await channel_store.get_channel_for_member(db, user_id=user.id, channel_id=frame.ch)
    # The invitee's connections are subscribed before the inviter hears ok: whoever the inviter
    # tells "you're in" can use the channel at once (a later request is never refused).
    if row is not None:
        peer.state.membership.added(user.id, row)
    peer.push(Ok(frame.rid, {}))


async def members(peer: Peer, frame: Members, _: Grant | None) -> None:
    state = peer.state
    rows = await channel_store.list_members(state.db, channel_id=frame.ch)
    infos = [render.member(r, state.presence.state(r.user_id)) for r in rows]
    peer.push(Ok(frame.rid, {"ch": frame.ch, "members": infos}))


async def notify(peer: Peer, frame: ChannelNotify, _: Grant | None) -> None:
    """My notification settings of the channel: stored with my membership, then every one of my
    connections gets the channel as it is now (``channel.updated``)."""
    state = peer.state
    uid = peer.user_id
    await channel_store.set_notify(state.db, channel_id=frame.ch, user_id=uid, notify=frame.notify, muted=frame.muted)
    row = await channel_store.get_channel_for_member(state.db, user_id=uid, channel_id=frame.ch)
    if row is None:  # left meanwhile
        raise Refuse(NOT_FOUND, "no such channel")
    peer.push(Ok(frame.rid, {}))
    state.connections.push_to_user(uid, encode_server_frame(ChannelUpdated(render.channel(row))))
