"""One WebSocket connection speaking protocol v1, over a ``Transport`` (bytes in, bytes out, close).

``Session.serve`` is the connection's reader: it decodes frames and dispatches them one at a
time, and owns a nursery that holds a writer task only while the socket is backed up (see
``chatd.gateway.outbound``: what fan-out queues is written by the process's one flusher). No
task waits for deadlines: the hello deadline bounds the reader's wait for the first frames, and
the drain closes every socket from one task (``chatd.services``). Liveness (pings, the
silent-peer timeout) is the transport's (``chatd.gateway.heartbeat``; Hypercorn's on the
fallback route).

Crash policy (docs/architecture.md): a request refused is an error frame (``Refuse``), the
database being away is ``unavailable`` with ``retry``; any other exception from a request is a
bug — logged with its traceback, and this connection alone is closed with 1011.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import trio

from chatd import metrics
from chatd.auth.sessions import Principal
from chatd.gateway import resume
from chatd.gateway.dispatch import dispatch
from chatd.gateway.outbound import Outbound
from chatd.gateway.subscriptions import Subscriptions
from chatd.gateway.transport import PeerGone, Transport
from chatd.handlers.base import Refuse
from chatd.state import DaemonState
from chatd.store import Unavailable
from chatd.wire import (
    ClientFrame,
    Error,
    FrameTooLarge,
    Hello,
    ProtocolError,
    ServerFrame,
    SessionExpired,
    decode_client_frame,
    encode_server_frame,
)
from chatd.wire.errors import (
    BAD_FRAME,
    CLOSE_GOING_AWAY,
    CLOSE_INTERNAL_ERROR,
    CLOSE_PROTOCOL_ERROR,
    CLOSE_SLOW_CONSUMER,
    CLOSE_TOO_BIG,
    CLOSE_TRY_AGAIN_LATER,
    CLOSE_UNAUTHENTICATED,
    CLOSE_UNSUPPORTED_DATA,
    HELLO_REQUIRED,
    NOT_AUTHENTICATED,
    RATE_LIMITED,
    TOO_MANY_CONNECTIONS,
    UNAVAILABLE,
    UNSUPPORTED_VERSION,
)

log = logging.getLogger("chatd.gateway")

HELLO_TIMEOUT_SECS = 10.0  # a socket that does not say hello in time is closed (4001)
CLOSE_TIMEOUT_SECS = 2.0  # the last frames and the close handshake get this long
SEND_INFLIGHT_MAX = 256  # sends awaiting their ack per connection; beyond it the reader waits
PROTOCOL_ERRORS_MAX = 20  # consecutive undecodable frames before the socket is closed (4400)
FLOOD_FRAMES_MAX = 500  # consecutive frames refused as rate_limited before closing (4400)
RATE_PER_SEC = 1000.0  # frames/s a connection may sustain (the bench's single sender needs 500+)
RATE_BURST = 2000.0


class _Close(Exception):
    """Raised inside the reader to close the socket with ``code``."""

    def __init__(self, code: int, reason: str, push_expired: bool = False) -> None:
        super().__init__(reason)
        self.code, self.reason, self.push_expired = code, reason, push_expired


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up; on Trio's clock (mockable)."""

    __slots__ = ("_at", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self._tokens = burst
        self._at = trio.current_time()

    def take(self) -> bool:
        now = trio.current_time()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class Session:
    """One connection: the hub's ``Subscriber``, the registry's ``LiveConnection`` and the
    handlers' ``Peer``. ``deliver``/``push``/``end`` and the other non-async methods never block."""

    __slots__ = ("_bad_frames", "_bucket", "_cancel", "_ending", "_hello_deadline", "_limited_frames", "_principal",
                 "_said_hello", "_transport", "out", "ready", "send_slots", "state", "subs", "typing_at")  # no dict each

    def __init__(self, state: DaemonState, transport: Transport, principal: Principal | None) -> None:
        self.state = state
        self._transport = transport
        self._principal = principal
        self.ready = False  # True once hello succeeded: subscribed, answered, replayed
        # 8192 frames deep is ~64 KiB of references per connection at worst. Further behind → resume.
        self.out = Outbound(state.config.outbound_queue_frames, self._slow, self._gone, state.flusher)
        self.subs = Subscriptions(state.hub, self, self.out.queue, self._slow, self.out.size)
        self._ending: _Close | None = None
        self._cancel = trio.CancelScope()
        self.send_slots = trio.Semaphore(SEND_INFLIGHT_MAX)
        self.typing_at: dict[int, float] = {}
        self._bucket = TokenBucket(RATE_PER_SEC, RATE_BURST)
        self._bad_frames = 0
        self._limited_frames = 0
        self._said_hello = False  # True once a hello frame has arrived
        self._hello_deadline = trio.current_time() + HELLO_TIMEOUT_SECS

    # --- identity (LiveConnection, Peer) ---

    @property
    def principal(self) -> Principal:
        assert self._principal is not None, "used before hello"
        return self._principal

    @property
    def session_id(self) -> int:
        return self._principal.session_id if self._principal else 0

    @property
    def user_id(self) -> int:
        return self._principal.user_id if self._principal else 0

    @property
    def is_admin(self) -> bool:
        return self._principal.is_admin if self._principal else False

    def refresh(self, principal: Principal) -> None:
        self._principal = principal

    def rename(self, display_name: str) -> None:
        if self._principal is not None:
            self._principal = replace(self._principal, display_name=display_name)

    def channel_ids(self) -> list[int]:
        return self.subs.ids()

    # --- outbound ---

    def _gone(self) -> None:
        """A write found the connection gone: stop reading; there is no one to close to."""
        self._leave_everything()
        self._cancel.cancel()

    def _slow(self) -> None:
        log.info("event=ws.slow_consumer user=%d", self.user_id)
        metrics.SLOW_CONSUMER_CLOSES.inc()
        self.end(CLOSE_SLOW_CONSUMER, "slow consumer: reconnect and resume", False)

    def push(self, frame: ServerFrame) -> None:
        self.out.queue(encode_server_frame(frame))

    def push_bytes(self, frame: bytes) -> None:
        self.out.queue(frame)

    def deliver(self, ch: int, seq: int, frame: bytes) -> None:
        self.subs.deliver(ch, seq, frame)

    def deliver_note(self, ch: int, seq: int, frame: bytes) -> None:
        self.subs.deliver_note(ch, seq, frame)

    def deliver_ephemeral(self, ch: int, frame: bytes) -> None:
        self.subs.deliver_ephemeral(ch, frame)

    def join_channel(self, ch: int, *, role: str, private: bool, dm: bool, last_seq: int, added: bytes) -> None:
        if self.ready and ch not in self.subs:
            self.subs.subscribe(ch, role=role, private=private, dm=dm)
            self.subs.go_live(ch, last_seq)
            self.out.queue(added)

    def leave_channel(self, ch: int, removed: bytes) -> None:
        if ch in self.subs:
            self.subs.unsubscribe(ch)
            self.out.queue(removed)

    # --- lifetime ---

    def end(self, code: int, reason: str, push_session_expired: bool) -> None:
        """Close this connection soon (from any task): optional session.expired, then ``code``.
        It leaves its channels and the registry at once; the socket may take longer to close (a
        peer that stopped reading, until the liveness timeout), but gets nothing more."""
        if self._ending is None:
            self._ending = _Close(code, reason, push_session_expired)
        self._leave_everything()
        self._cancel.cancel()

    def _leave_everything(self) -> None:
        self.state.connections.discard(self)
        channels = self.subs.clear()
        if self._principal is not None and self.state.presence.disconnected(self.user_id, id(self)):
            self.state.presence_push.changed(self.user_id, channels)

    async def serve(self) -> None:
        """Read and serve frames until the socket ends; then close it properly."""
        self.state.connections.opened(self)
        if self.state.draining.is_set():
            self.end(CLOSE_GOING_AWAY, "server shutting down", False)
        try:
            async with trio.open_nursery() as nursery:
                self.out.start(self._transport, nursery)
                with self._cancel:
                    await self._reader()
                if self._ending is not None and self._ending.code != CLOSE_SLOW_CONSUMER:
                    # Send what is queued (the error frame that explains the close) before the
                    # close frame; a slow consumer's queue is dropped.
                    self.out.close()
                    with trio.move_on_after(CLOSE_TIMEOUT_SECS):
                        await self.out.drain()
                nursery.cancel_scope.cancel()
        finally:
            self.state.connections.closed(self)
            self._leave_everything()
            with trio.CancelScope(shield=True):
                await self._close_transport()

    async def _close_transport(self) -> None:
        ending = self._ending
        if ending is None:
            return  # the peer went away: nothing to say
        with trio.move_on_after(CLOSE_TIMEOUT_SECS):
            try:
                # What was queued before the close (an error frame explaining it) goes first —
                # except for a slow consumer, whose queue is the problem.
                leftover = self.out.leftover() if ending.code != CLOSE_SLOW_CONSUMER else b""
                if leftover:
                    await self._transport.send(leftover)
                if ending.push_expired:
                    await self._transport.send(encode_server_frame(SessionExpired(ending.reason)))
                await self._transport.close(ending.code, ending.reason[:120])
            except Exception as exc:  # the socket may already be gone; nothing more to do
                log.debug("event=ws.close_failed error=%s", str(exc))

    # --- reading ---

    async def _reader(self) -> None:
        """Read and dispatch frames until the peer leaves or a frame asks to close."""
        try:
            await self._read_frames()
        except _Close as close:
            self._ending = close
        except PeerGone:
            pass

    async def _read_frames(self) -> None:
        cfg = self.state.config
        while True:
            data = await self._receive()
            if isinstance(data, str):
                raise _Close(CLOSE_UNSUPPORTED_DATA, "binary frames only")
            try:
                frame = decode_client_frame(data, cfg.max_frame_bytes, max_body_bytes=cfg.max_body_bytes)
            except FrameTooLarge:
                raise _Close(CLOSE_TOO_BIG, "frame too big") from None
            except ProtocolError as exc:
                self._undecodable(exc)
                continue
            self._bad_frames = 0
            if not self._bucket.take():
                self._limited_frames += 1
                if self._limited_frames >= FLOOD_FRAMES_MAX:
                    raise _Close(CLOSE_PROTOCOL_ERROR, "flooding: too many frames after rate_limited")
                self.push(Error(frame.rid, RATE_LIMITED, "too many frames; slow down", retry=True))
                continue
            self._limited_frames = 0
            await self._request(frame)

    async def _receive(self) -> bytes | str:
        """The next message; before a hello, only until the hello deadline (4001)."""
        if self._said_hello:
            return await self._transport.receive()
        # Only the client's part counts: authenticating its hello and replaying what it missed
        # is the server's work, which queues up in a reconnect storm — closing such a socket
        # with 4001 would tell a client that did everything right to log in again.
        with trio.move_on_at(self._hello_deadline):
            return await self._transport.receive()
        raise _Close(CLOSE_UNAUTHENTICATED, "no hello in time")

    def _undecodable(self, exc: ProtocolError) -> None:
        """Answer a frame the codec refused; too many in a row close the socket (4400)."""
        self._bad_frames += 1
        if self._bad_frames >= PROTOCOL_ERRORS_MAX:
            raise _Close(CLOSE_PROTOCOL_ERROR, "too many malformed frames")
        if exc.code == UNSUPPORTED_VERSION and self.ready:
            self.push(Error(exc.rid, BAD_FRAME, "hello was already sent"))  # a second hello, §2.3
            return
        self.push(Error(exc.rid, exc.code, exc.message))
        if exc.close_code is not None:  # e.g. unsupported_version: answer, then close
            raise _Close(exc.close_code, exc.message)

    async def _request(self, frame: ClientFrame) -> None:
        """Serve one decoded request; the crash policy lives here."""
        try:
            if not self.ready:
                await self._before_hello(frame)
            else:
                await dispatch(self, self.subs, frame)
        except Refuse as refusal:
            self.push(Error(frame.rid, refusal.code, refusal.message, **refusal.extra))
        except Unavailable:
            self.push(Error(frame.rid, UNAVAILABLE, "the database is unavailable; retry shortly", retry=True))
        except _Close:
            raise
        except Exception:
            log.exception("event=ws.request_crashed op=%s user=%d", frame.op, self.user_id)
            raise _Close(CLOSE_INTERNAL_ERROR, "internal error") from None

    async def _before_hello(self, frame: ClientFrame) -> None:
        if not isinstance(frame, Hello):
            raise Refuse(HELLO_REQUIRED, "the first frame must be hello")
        self._said_hello = True
        if frame.token:  # a token in hello takes priority over the cookie (PROTOCOL.md §2.2)
            self._principal = await self.state.sessions.authenticate(frame.token)
        if self._principal is None:
            self.push(Error(frame.rid, NOT_AUTHENTICATED, "log in first (session cookie or token)"))
            raise _Close(CLOSE_UNAUTHENTICATED, "not authenticated")
        p = self._principal
        cap = self.state.config.max_connections_per_user
        if cap and self.state.connections.count_of_user(p.user_id) >= cap:
            self.push(Error(frame.rid, TOO_MANY_CONNECTIONS, f"{cap} connections of this account are open already"))
            raise _Close(CLOSE_TRY_AGAIN_LATER, "too many connections")
        # Registered only now, under its final session and user; no await since the count above.
        self.state.connections.add(self)
        await resume.hello(
            self.state, frame, self.subs, user_id=p.user_id, username=p.username, display_name=p.display_name,
            push=self.push, push_waiting=self.out.queue_waiting,
        )
        self.ready = True
        notice = self.state.files.storage_notice()
        if p.is_admin and notice is not None:  # admins learn at once that uploads are refused
            self.push(notice)
        if self.state.presence.connected(p.user_id, id(self)):
            self.state.presence_push.changed(p.user_id, self.subs.ids())

