"""Direct message conversations (feature "dms", PROTOCOL.md §5.20–5.21): open one with a set of
people, and find people to write to. No access rule: ``dm.open`` names people, not a channel, and
only ever makes me a member of the conversation of me and them.
"""

from __future__ import annotations

from chatd import render
from chatd.auth.names import username_key
from chatd.handlers.base import Grant, Peer, Refuse
from chatd.store import channels as channel_store
from chatd.store import dms as dm_store
from chatd.wire import DmOpen, Ok, Users
from chatd.wire.errors import USER_NOT_FOUND, clip


async def dm_open(peer: Peer, frame: DmOpen, _: Grant | None) -> None:
    state = peer.state
    me = peer.user_id
    keys = {username_key(name.strip().removeprefix("@")): name for name in frame.users}
    found = await dm_store.find_users_by_keys(state.db, list(keys))
    if len(found) != len(keys):
        known = {username_key(u.username) for u in found}
        missing = next(name for key, name in keys.items() if key not in known)
        raise Refuse(USER_NOT_FOUND, f"no user named {clip(missing)!r}")
    people = sorted({me, *(u.id for u in found)})
    ch, created = await dm_store.open_dm(state.db, user_ids=people, creator=me)
    row = await channel_store.get_channel_for_member(state.db, user_id=me, channel_id=ch)
    if row is None:  # cannot happen: the conversation's people never change
        raise Refuse(USER_NOT_FOUND, "the conversation could not be opened")
    if created:  # everyone's connections take it up before anyone hears of it
        for uid in people:
            theirs = row if uid == me else await channel_store.get_channel_for_member(state.db, user_id=uid, channel_id=ch)
            if theirs is not None:
                state.membership.added(uid, theirs, announce=False)
    peer.push(Ok(frame.rid, {"channel": render.channel(row)}))


async def users(peer: Peer, frame: Users, _: Grant | None) -> None:
    q = frame.q.strip().removeprefix("@") if frame.q else None
    rows = await dm_store.find_people(peer.state.db, q=q or None, limit=frame.limit)
    peer.push(Ok(frame.rid, {"users": [render.user(u.id, u.username, u.display_name) for u in rows]}))
