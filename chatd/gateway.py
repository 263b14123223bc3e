"""The WebSocket gateway at ``/ws``: one ``Connection`` per socket, speaking protocol v1.

Per connection (its own nursery): the reader (this handler's task) decodes frames and
dispatches them; the writer drains the bounded outbound queue onto the socket; the watchdog
re-validates the session, ends the connection when the server drains, and closes it when asked
to (logout, revocation: ``end``). Liveness is Hypercorn's: it pings every ``ws_ping_secs`` and
a peer silent for ``ws_timeout_secs`` times out (see chatd.server).

Authorization: membership is cached per connection (``self.channels``) and kept current by
the membership operations of every connection of the user; a channel not in the cache is
looked up, and a private one the user is not in answers exactly like one that does not exist.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import trio
from quart import Response, jsonify, websocket

from chatd.auth.sessions import SESSION_COOKIE, Principal, authenticate, revalidate_many
from chatd.hub import Busy, SendRequest
from chatd.store import StoreError, Unavailable, UniqueViolation
from chatd.store import channels as channel_store
from chatd.store.messages import Posted, message_info, messages_after, messages_before
from chatd.text import bad_character, identity_key, nfc
from chatd.web.guard import origin_allowed
from chatd.wire import (
    PROTOCOL_VERSION,
    Ack,
    Around,
    Browse,
    CaughtUp,
    ChannelAdded,
    ChannelCreate,
    ChannelInvite,
    ChannelJoin,
    ChannelLeave,
    ChannelRemoved,
    Channels,
    ClientFrame,
    Error,
    FrameTooLarge,
    Hello,
    History,
    MemberJoined,
    MemberLeft,
    Members,
    Msg,
    Ok,
    Ping,
    PresenceSet,
    ProtocolError,
    Read,
    ReadMarker,
    Resync,
    Send,
    SessionExpired,
    Typing,
    TypingPush,
    decode_client_frame,
    encode_server_frame,
)

if TYPE_CHECKING:
    from quart_trio import QuartTrio

    from chatd.hub import Hub
    from chatd.presence_push import PresencePusher
    from chatd.web.app import AppState

log = logging.getLogger("chatd.gateway")

HELLO_TIMEOUT_SECS = 10.0  # a socket that does not say hello in time is closed (4001)
CLOSE_TIMEOUT_SECS = 2.0  # the last frames and the close handshake get this long
SEND_INFLIGHT_MAX = 256  # sends awaiting their ack per connection; beyond it the reader waits
PROTOCOL_ERRORS_MAX = 20  # consecutive undecodable frames before the socket is closed (4400)
RATE_PER_SEC = 1000.0  # frames/s a connection may sustain (the bench's single sender needs 500+)
RATE_BURST = 2000.0
MAX_CHANNEL_NAME = 80
REPLAY_PAGE = 500
# One server message carries queued frames up to about this size (a frame alone may be larger):
# big enough to amortise the per-message cost, small enough not to delay the first frame much.
WRITE_BATCH_BYTES = 64 * 1024
KEEPER_BATCH = 1000  # session ids per re-check query
TYPING_MIN_INTERVAL_SECS = 3.0  # clients send typing at most every 3 s; relays beyond are dropped


class _Close(Exception):
    """Raised inside the reader to close the socket with ``code``."""

    def __init__(self, code: int, reason: str, push_expired: bool = False) -> None:
        super().__init__(reason)
        self.code, self.reason, self.push_expired = code, reason, push_expired


class _Refuse(Exception):
    """An error reply to the current request (code + message), the socket stays open."""

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code, self.message, self.extra = code, message, extra


@dataclass
class _ChanState:
    """This connection's subscription to one channel."""

    role: str
    private: bool
    replaying: bool = True
    last_sent: int = 0  # True iff every message with seq <= last_sent was sent (or skipped)
    pending: list[tuple[int, bytes]] = field(default_factory=list)


class Connection:
    """One authenticated socket. Implements the hub's ``Subscriber`` and the registry's
    ``LiveConnection``; ``deliver``/``deliver_ephemeral``/``end`` never block."""

    def __init__(self, state: AppState, hub: Hub, principal: Principal | None) -> None:
        self.state = state
        self.hub = hub
        self.presence_push: PresencePusher = state.extras["presence_push"]
        self.principal = principal
        self.channels: dict[int, _ChanState] = {}
        # Frames are shared bytes (encoded once per message), so a deep queue costs references,
        # not copies: 8192 deep is ~64 KiB per connection at worst. Further behind → resume.
        self._queue_max = state.config.outbound_queue_frames
        self._out_send, self._out_recv = trio.open_memory_channel[bytes](self._queue_max)
        self._ending: _Close | None = None
        self._cancel = trio.CancelScope()
        self._send_slots = trio.Semaphore(SEND_INFLIGHT_MAX)
        self._tokens = RATE_BURST
        self._tokens_at = time.monotonic()
        self._bad_frames = 0
        self._typing_at: dict[int, float] = {}
        self._said_hello = trio.Event()  # set once a hello frame has arrived

    # --- identity (LiveConnection) ---

    @property
    def session_id(self) -> int:
        return self.principal.session_id if self.principal else 0

    @property
    def user_id(self) -> int:
        return self.principal.user_id if self.principal else 0

    def end(self, code: int, reason: str, push_session_expired: bool) -> None:
        """Close this connection soon (from any task): optional session.expired, then ``code``.

        The connection leaves its channels and the registry at once: the socket itself may take
        longer to close (a peer that stopped reading blocks the transport's write until the
        liveness timeout), but nothing is delivered to it or counted as live any more.
        """
        if self._ending is None:
            self._ending = _Close(code, reason, push_session_expired)
        self._leave_everything()
        self._cancel.cancel()

    def _leave_everything(self) -> None:
        self.state.connections.discard(self)  # type: ignore[arg-type]
        channels = list(self.channels)
        for ch in channels:
            self.hub.unsubscribe(ch, self)
        self.channels.clear()
        if self.principal is not None:
            if self.state.presence.disconnected(self.user_id, id(self)):
                self.presence_push.changed(self.user_id, channels)

    # --- outbound (Subscriber) ---

    def _queue(self, frame: bytes) -> None:
        try:
            self._out_send.send_nowait(frame)
        except trio.WouldBlock:
            log.info("event=ws.slow_consumer user=%d", self.user_id)
            self.end(4008, "slow consumer: reconnect and resume", False)
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            pass

    def deliver(self, ch: int, seq: int, frame: bytes) -> None:
        st = self.channels.get(ch)
        if st is None:
            return
        if st.replaying:
            st.pending.append((seq, frame))
            if len(st.pending) > self._queue_max:  # held while the channel's replay runs
                self.end(4008, "slow consumer: reconnect and resume", False)
            return
        if seq <= st.last_sent:
            return
        st.last_sent = seq
        self._queue(frame)

    def deliver_ephemeral(self, ch: int, frame: bytes) -> None:
        st = self.channels.get(ch)
        if st is not None and not st.replaying:
            self._queue(frame)

    def push(self, frame: Any) -> None:
        self._queue(encode_server_frame(frame))

    # --- lifetime ---

    async def serve(self) -> None:
        """Run reader, writer and watchdog until the socket ends; then close it properly."""
        try:
            with self._cancel:
                async with trio.open_nursery() as nursery:
                    writer_done = trio.Event()

                    async def writer() -> None:
                        try:
                            await self._writer()
                        finally:
                            writer_done.set()

                    nursery.start_soon(writer)
                    nursery.start_soon(self._watchdog)
                    await self._reader()
                    if self._ending is not None and self._ending.code != 4008:
                        # Let the writer send what is queued (the error frame that explains
                        # the close) before the close frame; a slow consumer's queue is dropped.
                        self._out_send.close()
                        with trio.move_on_after(CLOSE_TIMEOUT_SECS):
                            await writer_done.wait()
                    nursery.cancel_scope.cancel()
        finally:
            self._leave_everything()
            with trio.CancelScope(shield=True):
                await self._close_socket()

    async def _close_socket(self) -> None:
        ending = self._ending
        if ending is None:
            return  # the peer went away: nothing to say
        with trio.move_on_after(CLOSE_TIMEOUT_SECS):
            try:
                # What was queued before the close (an error frame explaining it) goes first —
                # except for a slow consumer, whose queue is the problem.
                leftover: list[bytes] = []
                while ending.code != 4008:
                    try:
                        leftover.append(self._out_recv.receive_nowait())
                    except (trio.WouldBlock, trio.EndOfChannel):
                        break
                if leftover:
                    await websocket.send(b"".join(leftover))
                if ending.push_expired:
                    await websocket.send(encode_server_frame(SessionExpired(ending.reason)))
                await websocket.close(ending.code, ending.reason[:120])
            except Exception as exc:  # the socket may already be gone; nothing more to do
                log.debug("event=ws.close_failed error=%r", str(exc))

    async def _writer(self) -> None:
        """Send queued frames; whatever queued up meanwhile goes out as ONE WebSocket message.

        A server message is a CBOR sequence of frames (PROTOCOL.md §2): under load, one TLS
        record and one system call carry many frames, instead of one each — the per-message
        cost through the ASGI and TLS layers is what limited fan-out. When idle, a message
        holds one frame and nothing waits.
        """
        while True:
            try:
                first = await self._out_recv.receive()
            except trio.EndOfChannel:
                return
            batch = [first]
            size = len(first)
            while size < WRITE_BATCH_BYTES:
                try:
                    frame = self._out_recv.receive_nowait()
                except (trio.WouldBlock, trio.EndOfChannel):
                    break
                batch.append(frame)
                size += len(frame)
            await websocket.send(first if len(batch) == 1 else b"".join(batch))

    async def _watchdog(self) -> None:
        """Hello deadline, then wait for the server to drain. Sessions are re-checked centrally
        (``keep_sessions``): one query for all sockets, not one per socket."""
        # Until hello, the socket has HELLO_TIMEOUT_SECS to send one. Only the client's part
        # counts: authenticating it and replaying what it missed is the server's work, and in a
        # reconnect storm that work queues up (database pool, CPU) — closing such a socket with
        # 4001 would tell a client that did everything right to give up and log in again.
        with trio.move_on_after(HELLO_TIMEOUT_SECS):
            await self._said_hello.wait()
        if not self._said_hello.is_set():
            self.end(4001, "no hello in time", False)
            return
        await self.state.draining.wait()
        self.end(1001, "server shutting down", False)

    channels_ready = False

    # --- reading and dispatch ---

    def _take_token(self) -> bool:
        now = time.monotonic()
        self._tokens = min(RATE_BURST, self._tokens + (now - self._tokens_at) * RATE_PER_SEC)
        self._tokens_at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    async def _reader(self) -> None:
        """Read and dispatch frames until the peer leaves or a frame asks to close (``_Close``).

        The acks nursery holds the replies that need a lookup (a send to a channel the socket is
        not subscribed to); acks themselves are queued by the channel's actor (``on_done``).
        ``_Close`` is caught inside it so it ends the reader as itself, not wrapped in an
        exception group.
        """
        async with trio.open_nursery() as acks:
            try:
                await self._read_frames(acks)
            except _Close as close:
                self._ending = close
            acks.cancel_scope.cancel()

    async def _read_frames(self, acks: trio.Nursery) -> None:
        cfg = self.state.config
        while True:
            data = await websocket.receive()
            if isinstance(data, str):
                raise _Close(1003, "binary frames only")
            try:
                frame = decode_client_frame(data, cfg.max_frame_bytes, max_body_bytes=cfg.max_body_bytes)
            except FrameTooLarge:
                raise _Close(1009, "frame too big") from None
            except ProtocolError as exc:
                self._bad_frames += 1
                if self._bad_frames >= PROTOCOL_ERRORS_MAX:
                    raise _Close(4400, "too many malformed frames") from None
                self.push(Error(exc.rid, exc.code, exc.message))
                if exc.close_code is not None:  # e.g. unsupported_version: answer, then close
                    raise _Close(exc.close_code, exc.message) from None
                continue
            self._bad_frames = 0
            if not self._take_token():
                self.push(Error(frame.rid, "rate_limited", "too many frames; slow down", retry=True))
                continue
            try:
                if self.principal is None or not self.channels_ready:
                    await self._before_hello(frame)
                elif isinstance(frame, Send):
                    # Backpressure, not refusal: with SEND_INFLIGHT_MAX sends awaiting their
                    # commit, stop reading until one is acked (TCP slows the client down).
                    await self._send_slots.acquire()
                    try:
                        self._start_send(frame, acks)
                    except BaseException:
                        self._send_slots.release()
                        raise
                else:
                    await self._dispatch(frame)
            except _Refuse as refusal:
                self.push(Error(frame.rid, refusal.code, refusal.message, **refusal.extra))
            except Unavailable:
                self.push(Error(frame.rid, "unavailable", "the database is unavailable; retry shortly", retry=True))

    async def _before_hello(self, frame: ClientFrame) -> None:
        if not isinstance(frame, Hello):
            raise _Refuse("hello_required", "the first frame must be hello")
        self._said_hello.set()
        if self.channels_ready:
            raise _Refuse("bad_frame", "hello was already sent")
        if frame.v != PROTOCOL_VERSION:
            self.push(Error(frame.rid, "unsupported_version", f"this server speaks protocol v{PROTOCOL_VERSION}"))
            raise _Close(4400, "unsupported protocol version")
        if frame.token:  # a token in hello takes priority over the cookie (PROTOCOL.md §4)
            self.principal = await authenticate(self.state, frame.token)
        if self.principal is None:
            self.push(Error(frame.rid, "not_authenticated", "log in first (session cookie or token)"))
            raise _Close(4001, "not authenticated")
        # Registered only now, under its final session and user (a token may replace the cookie).
        self.state.connections.add(self)  # type: ignore[arg-type]
        await self._hello(frame)

    async def _hello(self, frame: Hello) -> None:
        """Subscribe first, then read the channel list, then replay, then live (no gap, no dup)."""
        db = self.state.db
        uid = self.user_id
        member_ids = await channel_store.member_channel_ids(db, uid)
        for ch in member_ids:
            self._subscribe(ch, role="member", private=False)
        infos = await channel_store.list_channels_for_user(db, uid)
        by_id = {c["id"]: c for c in infos}
        for ch in list(self.channels):
            if ch not in by_id:  # left between the two reads
                self._unsubscribe(ch)
        for info in infos:
            if info["id"] not in self.channels:
                self._subscribe(info["id"], role=info["role"], private=info["private"])
            st = self.channels[info["id"]]
            st.role, st.private = info["role"], info["private"]
        p = self.principal
        assert p is not None
        cfg = self.state.config
        self.push(
            Ok(
                frame.rid,
                {
                    "user": {"id": uid, "name": p.username, "display": p.display_name},
                    "channels": infos,
                    "heartbeat_ms": int(cfg.ws_ping_secs * 1000),
                    "server_time": self.state.clock.now_ms(),
                    "limits": {"body_bytes": cfg.max_body_bytes, "frame_bytes": cfg.max_frame_bytes},
                },
            )
        )
        resume = dict(frame.resume)
        for info in infos:
            ch = info["id"]
            if ch in resume:
                await self._replay(ch, resume[ch], info["last_seq"])
            else:
                self._go_live(ch, info["last_seq"])
        self.channels_ready = True
        if self.state.presence.connected(uid, id(self)):
            self.presence_push.changed(uid, list(self.channels))

    def _subscribe(self, ch: int, role: str, private: bool) -> _ChanState:
        st = _ChanState(role=role, private=private)
        self.channels[ch] = st
        self.hub.subscribe(ch, self)
        return st

    def _unsubscribe(self, ch: int) -> None:
        self.channels.pop(ch, None)
        self.hub.unsubscribe(ch, self)

    def _go_live(self, ch: int, upto: int) -> None:
        """Everything up to ``upto`` is accounted for: flush held live frames after it, in order."""
        st = self.channels.get(ch)
        if st is None:
            return
        st.last_sent = max(st.last_sent, upto)
        st.replaying = False
        pending, st.pending = st.pending, []
        for seq, frame in sorted(pending, key=lambda p: p[0]):
            if seq > st.last_sent:
                st.last_sent = seq
                self._queue(frame)

    async def _replay(self, ch: int, last_seq: int, end_seq: int) -> None:
        """Send every message after ``last_seq`` (in order) up to the channel's end, then live."""
        cap = self.state.config.resume_cap
        # A client ahead of the server (a restored backup) or too far behind reloads instead.
        if last_seq > end_seq or end_seq - last_seq > cap:
            self._go_live(ch, end_seq)
            self.push(Resync(ch, end_seq))
            return
        sent = last_seq
        while True:
            rows = await messages_after(self.state.db, ch, sent, REPLAY_PAGE)
            for row in rows:
                frame = encode_server_frame(_msg(row))
                await self._out_send.send(frame)  # the replay may wait for the writer
                sent = row["seq"]
            if len(rows) < REPLAY_PAGE:
                break
        self._go_live(ch, sent)
        st = self.channels.get(ch)
        self.push(CaughtUp(ch, st.last_sent if st else sent))

    # --- sends (pipelined: the reader never waits for a commit) ---

    def _start_send(self, frame: Send, acks: trio.Nursery) -> None:
        st = self.channels.get(frame.ch)
        if st is None:
            acks.start_soon(self._refuse_send_to_non_member, frame)
            self._send_slots.release()
            return
        body = frame.body
        if not body.strip():
            raise _Refuse("empty_body", "a message needs some text")
        p = self.principal
        assert p is not None
        rid = frame.rid

        def acked(req: SendRequest) -> None:  # called by the channel's actor: must not block
            self._send_slots.release()
            self._answer_send(rid, req.result)

        req = SendRequest(p.user_id, p.username, p.display_name, frame.cid, body, on_done=acked)
        try:
            self.hub.actor(frame.ch).submit(req)  # queued now, so a connection's sends keep their order
        except Busy:
            raise _Refuse("unavailable", "the channel is busy; retry shortly", retry=True) from None

    def _answer_send(self, rid: int, result: Posted | StoreError | None) -> None:
        """The send's reply: the ack (committed), or why not."""
        if isinstance(result, StoreError) or result is None:
            self.push(Error(rid, "unavailable", "the message was not stored; retry (same cid)", retry=True))
            return
        if result.seq is None or result.id is None or result.ch is None:
            self.push(Error(rid, "not_found", "no such channel"))
            return
        self.push(Ack(rid, result.ch, result.seq, result.id, result.ts_ms))

    async def _refuse_send_to_non_member(self, frame: Send) -> None:
        try:
            await self._check_access(frame.ch)
        except _Refuse as refusal:
            self.push(Error(frame.rid, refusal.code, refusal.message))
        except Unavailable:
            self.push(Error(frame.rid, "unavailable", "the database is unavailable; retry shortly", retry=True))

    async def _check_access(self, ch: int) -> _ChanState:
        """The channel state if a member; else the error a non-member gets (never leaks)."""
        st = self.channels.get(ch)
        if st is not None:
            return st
        access = await channel_store.get_access(self.state.db, self.user_id, ch)
        if access is None or not access.visible:
            raise _Refuse("not_found", "no such channel")
        raise _Refuse("not_member", "join the channel first")

    # --- the other requests ---

    async def _dispatch(self, frame: ClientFrame) -> None:
        db = self.state.db
        uid = self.user_id
        match frame:
            case Ping():
                self.push(Ok(frame.rid, {}))
            case Hello():
                raise _Refuse("bad_frame", "hello was already sent")
            case Channels():
                self.push(Ok(frame.rid, {"channels": await channel_store.list_channels_for_user(db, uid)}))
            case Browse():
                q = identity_key(frame.q) if frame.q else None
                page, nxt = await channel_store.browse_public(db, uid, q=q, after=frame.after, limit=frame.limit)
                fields: dict[str, Any] = {"channels": page}
                if nxt is not None:
                    fields["next"] = nxt
                self.push(Ok(frame.rid, fields))
            case ChannelCreate():
                await self._create(frame)
            case ChannelJoin():
                await self._join(frame)
            case ChannelLeave():
                await self._check_access(frame.ch)
                await channel_store.remove_member(db, frame.ch, uid)
                self.push(Ok(frame.rid, {}))
                self._membership_removed(frame.ch, uid)
            case ChannelInvite():
                await self._invite(frame)
            case Members():
                await self._check_access(frame.ch)
                members = await channel_store.list_members(db, frame.ch)
                for m in members:
                    m["presence"] = self.state.presence.state(m["id"])
                self.push(Ok(frame.rid, {"ch": frame.ch, "members": members}))
            case History():
                await self._check_access(frame.ch)
                if frame.after is not None:
                    rows = await messages_after(db, frame.ch, frame.after, frame.limit + 1)
                    more = len(rows) > frame.limit
                    rows = rows[: frame.limit]
                else:
                    rows = await messages_before(db, frame.ch, frame.before, frame.limit + 1)
                    more = len(rows) > frame.limit
                    rows = rows[1:] if more else rows
                self.push(Ok(frame.rid, {"ch": frame.ch, "messages": [message_info(r) for r in rows], "more": more}))
            case Around():
                await self._check_access(frame.ch)
                half = max(1, frame.limit // 2)
                older = await messages_before(db, frame.ch, frame.seq, half + 1)
                newer = await messages_after(db, frame.ch, frame.seq - 1, frame.limit - half + 1)
                more_before = len(older) > half
                older = older[1:] if more_before else older
                more_after = len(newer) > frame.limit - half
                newer = newer[: frame.limit - half]
                self.push(
                    Ok(
                        frame.rid,
                        {
                            "ch": frame.ch,
                            "messages": [message_info(r) for r in older + newer],
                            "more_before": more_before,
                            "more_after": more_after,
                        },
                    )
                )
            case Read():
                await self._check_access(frame.ch)
                value = await channel_store.set_read_marker(db, frame.ch, uid, frame.seq)
                self.push(Ok(frame.rid, {}))
                if value is not None:
                    marker = encode_server_frame(ReadMarker(frame.ch, value))
                    for conn in self.state.connections.of_user(uid):
                        if isinstance(conn, Connection) and conn is not self:
                            conn._queue(marker)
            case Typing():
                await self._check_access(frame.ch)
                p = self.principal
                assert p is not None
                now = time.monotonic()
                if now - self._typing_at.get(frame.ch, -math.inf) >= TYPING_MIN_INTERVAL_SECS:
                    self._typing_at[frame.ch] = now
                    self.hub.broadcast_ephemeral(  # to the other members, not to my other tabs
                        frame.ch, encode_server_frame(TypingPush(frame.ch, uid, p.display_name)), exclude_user=uid
                    )
                self.push(Ok(frame.rid, {}))
            case PresenceSet():
                self.push(Ok(frame.rid, {}))
                if self.state.presence.set_away(uid, id(self), frame.state == "away"):
                    self.presence_push.changed(uid, list(self.channels))
            case _:  # pragma: no cover - the codec only returns known frames
                raise _Refuse("unknown_op", "unknown op")

    async def _create(self, frame: ChannelCreate) -> None:
        name = nfc(frame.name.strip())
        if not 1 <= len(name) <= MAX_CHANNEL_NAME:
            raise _Refuse("invalid_name", f"a channel name has 1 to {MAX_CHANNEL_NAME} characters")
        problem = bad_character(name)
        if problem:
            raise _Refuse("invalid_name", f"a channel name cannot contain {problem}")
        description = nfc(frame.description.strip())  # its size limit is the codec's
        key = identity_key(name)
        db = self.state.db
        try:
            ch = await channel_store.create_channel(
                db, name=name, name_key=key, description=description, private=frame.private, owner_id=self.user_id
            )
        except UniqueViolation:
            existing = await channel_store.find_channel_by_key(db, key)
            extra: dict[str, Any] = {}
            if existing is not None and not existing["private"]:
                extra["existing"] = existing["id"]
            raise _Refuse("name_taken", f"a channel named {name!r} already exists", **extra) from None
        info = await channel_store.get_channel_for_member(db, self.user_id, ch)
        assert info is not None
        self.push(Ok(frame.rid, {"channel": info}))
        self._membership_added(info, self.user_id, announce=False)  # nobody else is in it yet

    async def _join(self, frame: ChannelJoin) -> None:
        db = self.state.db
        access = await channel_store.get_access(db, self.user_id, frame.ch)
        if access is None or not access.visible:
            raise _Refuse("not_found", "no such channel")
        # Joining a channel I am already in succeeds and changes nothing (PROTOCOL.md §5.5).
        added = access.role is None and await channel_store.add_member(db, frame.ch, self.user_id)
        info = await channel_store.get_channel_for_member(db, self.user_id, frame.ch)
        if info is None:
            raise _Refuse("not_found", "no such channel")
        self.push(Ok(frame.rid, {"channel": info}))
        if added:
            self._membership_added(info, self.user_id)

    async def _invite(self, frame: ChannelInvite) -> None:
        db = self.state.db
        st = await self._check_access(frame.ch)
        if st.private and st.role != "owner":
            raise _Refuse("forbidden", "only the channel's owner can invite to a private channel")
        user = await channel_store.find_user_by_key(db, identity_key(frame.user))
        if user is None:
            raise _Refuse("user_not_found", f"no user named {frame.user!r}")
        if not await channel_store.add_member(db, frame.ch, user["id"]):
            raise _Refuse("already_member", f"{frame.user} is already in this channel")
        self.push(Ok(frame.rid, {}))
        info = await channel_store.get_channel_for_member(db, user["id"], frame.ch)
        if info is not None:
            self._membership_added(info, user["id"])

    # --- membership changes reach every affected connection of this process ---

    def _membership_added(self, info: dict[str, Any], user_id: int, announce: bool = True) -> None:
        ch = info["id"]
        added = encode_server_frame(ChannelAdded(info))  # type: ignore[arg-type]
        for conn in self.state.connections.of_user(user_id):
            if isinstance(conn, Connection) and conn.channels_ready and ch not in conn.channels:
                conn._subscribe(ch, role=info["role"], private=info["private"])
                conn._go_live(ch, info["last_seq"])
                conn._queue(added)
        if announce:
            self._broadcast_member_event(ch, user_id, joined=True)

    def _membership_removed(self, ch: int, user_id: int) -> None:
        removed = encode_server_frame(ChannelRemoved(ch))
        for conn in self.state.connections.of_user(user_id):
            if isinstance(conn, Connection) and ch in conn.channels:
                conn._unsubscribe(ch)
                conn._queue(removed)
        self._broadcast_member_event(ch, user_id, joined=False)

    def _broadcast_member_event(self, ch: int, user_id: int, joined: bool) -> None:
        async def send() -> None:
            if joined:
                member = await channel_store.get_member(self.state.db, ch, user_id)
                if member is None:
                    return
                frame = encode_server_frame(MemberJoined(ch, member))  # type: ignore[arg-type]
            else:
                frame = encode_server_frame(MemberLeft(ch, user_id))
            self.hub.broadcast_ephemeral(ch, frame)

        self.state.extras["member_events"].start_soon(_quietly, send)


async def _quietly(fn: Any) -> None:
    try:
        await fn()
    except StoreError as exc:
        log.warning("event=ws.member_event_failed error=%r", str(exc))


def _msg(row: Any) -> Msg:
    return Msg(**message_info(row))


async def keep_sessions(state: AppState, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
    """Every ``session_check_secs``: re-check the sessions of all live sockets in one query per
    KEEPER_BATCH sessions; sockets whose session expired or was revoked get ``session.expired``
    and close 4001. Revocations by this process end sockets at once (the registry), and by the
    CLI through NOTIFY; this sweep catches expiry and anything missed."""
    task_status.started()
    while True:
        await trio.sleep(state.config.session_check_secs)
        ids = state.connections.session_ids()
        for start in range(0, len(ids), KEEPER_BATCH):
            chunk = ids[start : start + KEEPER_BATCH]
            try:
                valid = await revalidate_many(state, chunk)
            except StoreError as exc:
                log.warning("event=ws.session_check_failed error=%r", str(exc))
                break  # the database is away; check again next time
            for sid in chunk:
                fresh = valid.get(sid)
                for conn in state.connections.of_session(sid):
                    if fresh is None:
                        conn.end(4001, "session expired", True)
                    elif isinstance(conn, Connection):
                        conn.principal = fresh


def register(app: QuartTrio, state: AppState) -> None:
    """Add the ``/ws`` route: Origin check (403 before accepting), cookie auth, then serve."""

    @app.websocket("/ws")
    async def ws() -> Response | tuple[Response, int] | None:
        origin = websocket.headers.get("Origin")
        if origin is not None and not origin_allowed(origin, state):
            log.info("event=ws.origin_refused origin=%r", origin)
            return jsonify(error="bad_origin", message="this origin may not open a chat connection"), 403
        principal = None
        token = websocket.cookies.get(SESSION_COOKIE)
        if token:
            if origin is None:
                # A cookie without an Origin is not a browser talking to us from our page.
                return jsonify(error="bad_origin", message="a cookie-authenticated socket needs an Origin"), 403
            principal = await authenticate(state, token)
        if state.draining.is_set():
            return jsonify(error="unavailable", message="the server is shutting down"), 503
        await websocket.accept()
        hub: Hub = state.extras["hub"]
        conn = Connection(state, hub, principal)
        await conn.serve()
        return None
