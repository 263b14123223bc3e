"""Messages: send (the hot path), history, around, read markers (PROTOCOL.md §5.9–5.12).

Every op here needs membership of the frame's channel (checked by the dispatcher).
"""

from __future__ import annotations

import time

from chatd import metrics, render
from chatd.handlers.base import Grant, Peer, Refuse
from chatd.handlers.files import files_of_send
from chatd.hub import Busy, SendRequest
from chatd.store import StoreError
from chatd.store import channels as channel_store
from chatd.store.messages import MessageRow, Posted, messages_after, messages_before
from chatd.wire import Ack, Around, Error, History, Ok, Read, ReadMarker, Send, encode_server_frame
from chatd.wire.errors import NOT_FOUND, UNAVAILABLE


async def send(peer: Peer, frame: Send, _: Grant | None) -> None:
    """Queue the message on its channel's actor; the ack follows the commit (pipelined: the
    reader goes on with the next frame at once, and a connection's sends keep their order)."""
    # Checked before a send slot is taken: a refusal must not hold one.
    files = await files_of_send(peer, frame)
    # Backpressure, not refusal: with SEND_INFLIGHT_MAX sends awaiting their commit, the reader
    # stops here until one is acked (TCP then slows the client down).
    await peer.send_slots.acquire()
    rid = frame.rid
    p = peer.principal
    started = time.perf_counter()

    def acked(req: SendRequest) -> None:  # called by the channel's actor: must not block
        peer.send_slots.release()
        metrics.ACK_SECONDS.observe(time.perf_counter() - started)
        peer.push(_send_reply(rid, req.result))

    req = SendRequest(p.user_id, p.username, p.display_name, frame.cid, frame.body, acked, files=files,
                      mentions=frame.mentions, mention_all=frame.all)
    try:
        peer.state.hub.actor(frame.ch).submit(req)  # queued now, in this connection's order
    except Busy:
        peer.send_slots.release()
        raise Refuse(UNAVAILABLE, "the channel is busy; retry shortly", retry=True) from None
    except BaseException:
        peer.send_slots.release()
        raise


def _send_reply(rid: int, result: Posted | StoreError | None) -> Ack | Error:
    """The send's reply: the ack (committed), or why not."""
    if isinstance(result, StoreError) or result is None:
        return Error(rid, UNAVAILABLE, "the message was not stored; retry (same cid)", retry=True)
    if result.seq is None or result.id is None or result.channel_id is None:
        return Error(rid, NOT_FOUND, "no such channel")
    return Ack(rid, result.channel_id, result.seq, result.id, result.ts_ms)


def _page(rows: list[MessageRow]) -> list[object]:
    return [render.msg(r).info() for r in rows]


async def history(peer: Peer, frame: History, _: Grant | None) -> None:
    db = peer.state.db
    if frame.after is not None:
        rows = await messages_after(db, channel_id=frame.ch, after_seq=frame.after, limit=frame.limit + 1)
        more = len(rows) > frame.limit
        rows = rows[: frame.limit]
    else:
        rows = await messages_before(db, channel_id=frame.ch, before_seq=frame.before, limit=frame.limit + 1)
        more = len(rows) > frame.limit
        rows = rows[1:] if more else rows
    peer.push(Ok(frame.rid, {"ch": frame.ch, "messages": _page(rows), "more": more}))


async def around(peer: Peer, frame: Around, _: Grant | None) -> None:
    """The newest ⌊limit/2⌋ messages before ``seq``, then the oldest limit − ⌊limit/2⌋ from
    ``seq`` on (so the target itself is always in the page, even with limit 1)."""
    db = peer.state.db
    n_before = frame.limit // 2
    n_after = frame.limit - n_before
    older = await messages_before(db, channel_id=frame.ch, before_seq=frame.seq, limit=n_before + 1)
    newer = await messages_after(db, channel_id=frame.ch, after_seq=frame.seq - 1, limit=n_after + 1)
    more_before = len(older) > n_before
    older = older[len(older) - n_before:] if n_before else []
    more_after = len(newer) > n_after
    newer = newer[:n_after]
    peer.push(Ok(frame.rid, {
        "ch": frame.ch, "messages": _page(older + newer), "more_before": more_before, "more_after": more_after,
    }))


async def read(peer: Peer, frame: Read, _: Grant | None) -> None:
    """Move my marker; the ok and (if it moved) my other connections get the counts after it,
    as of the channel's end in the same snapshot (PROTOCOL.md §10.3)."""
    state = peer.state
    uid = peer.user_id
    r = await channel_store.set_read_marker(state.db, channel_id=frame.ch, user_id=uid, seq=frame.seq)
    if r is None:  # left meanwhile
        peer.push(Ok(frame.rid, {}))
        return
    peer.push(Ok(frame.rid, {"seq": r.seq, "unread": r.unread, "mentions": r.mentions, "last_seq": r.last_seq}))
    if r.moved:  # my other connections follow
        push = ReadMarker(frame.ch, r.seq, r.unread, r.mentions, r.last_seq)
        state.connections.push_to_user(uid, encode_server_frame(push), skip=peer)
