"""Changes after the fact (feature "edits", PROTOCOL.md §5.17–5.19): edit, delete, versions.

Every op here needs membership of the frame's channel (checked by the dispatcher): a private
channel the user is not in answers ``not_found``, exactly like a missing message. An edit or a
delete is queued on the channel's actor like a send (it takes a stream position there, chatd.hub.
changes); the handler waits for its commit, then answers. Who may change what is decided in the
change's own statement, with the message's row locked (sql ``chatd_change_message``).
"""

from __future__ import annotations

from typing import Any

import trio

from chatd import render
from chatd.handlers.base import Grant, Peer, Refuse
from chatd.hub import Busy, ChangeRequest
from chatd.store.stream import Changed, versions_of
from chatd.wire import Delete, Edit, Ok, Versions
from chatd.wire.errors import FORBIDDEN, NOT_FOUND, UNAVAILABLE


async def edit(peer: Peer, frame: Edit, _: Grant | None) -> None:
    changed = await _change(peer, frame.ch, frame.seq, False, body=frame.body, mentions=frame.mentions,
                            mention_all=frame.all)
    _refuse_unless_done(changed, peer, "edit")
    fields = {"v": changed.version} if changed.pos is None else {"seq": changed.pos, "v": changed.version}
    peer.push(Ok(frame.rid, fields))


async def delete(peer: Peer, frame: Delete, grant: Grant | None) -> None:
    moderator = (grant is not None and grant.role == "owner") or peer.principal.is_admin
    changed = await _change(peer, frame.ch, frame.seq, True, moderator=moderator)
    _refuse_unless_done(changed, peer, "delete")
    peer.push(Ok(frame.rid, {"seq": changed.pos, "v": changed.version}))
    if changed.released:  # committed: the bytes no other upload shares can leave the disk now
        await peer.state.files.discard_blobs(list(changed.released))


async def versions(peer: Peer, frame: Versions, _: Grant | None) -> None:
    rows = await versions_of(peer.state.db, channel_id=frame.ch, seq=frame.seq)
    if rows is None:
        raise Refuse(NOT_FOUND, "no such message")
    peer.push(Ok(frame.rid, {"ch": frame.ch, "seq": frame.seq, "versions": [render.version(r) for r in rows]}))


async def _change(peer: Peer, ch: int, seq: int, delete: bool, **fields: Any) -> Changed:
    """Queue the change of message ``seq`` on ch's actor and wait for its commit (or refusal)."""
    done = trio.Event()
    req = ChangeRequest(  # on_done runs in the actor's task: it must not block
        peer.user_id, seq, delete, lambda _: done.set(), window_secs=peer.state.config.edit_window_secs, **fields
    )
    try:
        peer.state.hub.actor(ch).submit(req)
    except Busy:
        raise Refuse(UNAVAILABLE, "the channel is busy; retry shortly", retry=True) from None
    await done.wait()
    if not isinstance(req.result, Changed):
        raise Refuse(UNAVAILABLE, "the change was not stored; retry", retry=True)
    return req.result


def _refuse_unless_done(changed: Changed, peer: Peer, verb: str) -> None:
    if changed.status == "not_found":
        raise Refuse(NOT_FOUND, "no such message")
    if changed.status == "not_author":
        who = "its author" if verb == "edit" else "its author, the channel's owner or an admin"
        raise Refuse(FORBIDDEN, f"only {who} can {verb} this message")
    if changed.status == "window":
        minutes = peer.state.config.edit_window_secs / 60
        raise Refuse(FORBIDDEN, f"messages can be changed for {minutes:g} minutes after they are sent")
