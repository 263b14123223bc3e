"""The hello of an authenticated connection: subscribe, answer, replay what was missed, go live.

The order is what makes resume gapless and duplicate-free (PROTOCOL.md §10):

1. subscribe to every channel of the user FIRST (live frames are held from then on);
2. read the channel list (after subscribing: nothing committed later can be missed) and answer;
3. per resumed channel, replay from the database every event after the client's position —
   messages and changes, each with its message as it is now — or, if the client is ahead (a
   restored backup) or too far behind, push ``resync``; then ``caughtup``;
4. go live: release the held frames, dropping the positions the replay already sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from chatd import metrics, render
from chatd.gateway.subscriptions import Subscriptions
from chatd.state import DaemonState
from chatd.store import channels as channel_store
from chatd.store.stream import events_after
from chatd.wire import FEATURES, CaughtUp, Hello, Ok, Resync, ServerFrame, encode_server_frame

REPLAY_PAGE = 500  # rows per read of a replay


async def hello(
    state: DaemonState,
    frame: Hello,
    subs: Subscriptions,
    *,
    user_id: int,
    username: str,
    display_name: str,
    push: Callable[[ServerFrame], None],
    push_waiting: Callable[[bytes], Awaitable[None]],
) -> None:
    """Answer ``frame`` (already authenticated as ``user_id``) and bring every channel live.

    ``push`` queues a frame (never blocks); ``push_waiting`` queues one and waits for room, so a
    long replay goes at the pace of the socket instead of overflowing the queue.
    """
    db = state.db
    for ch in await channel_store.member_channel_ids(db, user_id=user_id):
        subs.subscribe(ch, role="member", private=False)
    rows = await channel_store.list_channels_for_user(db, user_id=user_id)
    listed = {r.id for r in rows}
    for ch in subs.ids():
        if ch not in listed:  # left between the two reads
            subs.unsubscribe(ch)
    for row in rows:
        sub = subs.grant(row.id) or subs.subscribe(row.id, role=row.role, private=row.private)
        sub.role, sub.private, sub.dm = row.role, row.private, row.dm is not None
    cfg = state.config
    push(Ok(frame.rid, {
        "user": render.user(user_id, username, display_name),
        "channels": [render.channel(r) for r in rows],
        "heartbeat_ms": int(cfg.ws_ping_secs * 1000),
        "server_time": state.clock.now_ms(),
        "limits": {"body_bytes": cfg.max_body_bytes, "frame_bytes": cfg.max_frame_bytes,
                   "file_bytes": cfg.files_max_bytes, "edit_secs": cfg.edit_window_secs,
                   "away_secs": cfg.away_secs},
        "features": list(FEATURES),
    }))
    resume = dict(frame.resume)
    for row in rows:
        if row.id in resume:
            await replay(state, subs, row.id, resume[row.id], row.last_seq, push, push_waiting)
        else:
            subs.go_live(row.id, row.last_seq)


async def replay(
    state: DaemonState,
    subs: Subscriptions,
    ch: int,
    last_seq: int,
    end_seq: int,
    push: Callable[[ServerFrame], None],
    push_waiting: Callable[[bytes], Awaitable[None]],
) -> None:
    """Send every event after position ``last_seq`` (in order) up to the channel's end, as it
    is now, then go live."""
    # A client ahead of the server (a restored backup) or too far behind reloads instead.
    if last_seq > end_seq or end_seq - last_seq > state.config.resume_cap:
        subs.go_live(ch, end_seq)
        push(Resync(ch, end_seq))
        metrics.RESYNCS.inc()
        return
    sent = last_seq
    while True:
        events = await events_after(state.db, channel_id=ch, after=sent, limit=REPLAY_PAGE, upto=end_seq)
        for ev in events:
            await push_waiting(encode_server_frame(render.event(ev)))
            sent = ev.pos
        if len(events) < REPLAY_PAGE:
            break
    subs.go_live(ch, sent)
    metrics.REPLAY_MESSAGES.observe(sent - last_seq)
    last = subs.last_sent(ch)
    push(CaughtUp(ch, sent if last is None else last))
