"""The load generator's worker process: many simulated clients on one Trio loop.

The runner starts several of these (``worker_main``) and drives them over two pipes with
commands (``setup``, ``connect``, ``send``, ``drop``, ``reconnect``…; see ``Worker.cmd_*``). A
command runs as its own task, so a long one (a sender loop) can run while the runner gives
another (wait for catch-up after a restart); each reply carries the command's ticket.

Every simulated client tracks, per channel it cares about, which seqs it received: a gap that
is never filled counts as lost, a seq received twice as duplicated, a seq that arrives after a
later one as out of order. Clients resume like the protocol says (``hello.resume`` with the last
seq held, a ``resync`` answered by paging ``history``), and retry unacked sends with the same
cid after a reconnect. Latencies use ``time.monotonic_ns`` (one clock for every process on the
machine): a sent body starts with ``t`` (measured) or ``w`` (warm-up) and the 19-digit send time.
"""

from __future__ import annotations

import io
import itertools
import os
import random
import resource
import time
import traceback
from array import array
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection as Pipe
from typing import Any

import cbor2
import trio

from bench.wsclient import HandshakeError, WsClosed, WsConnection, insecure_ssl_context
from chatd.wire import encode_client_frame

REQUEST_TIMEOUT_SECS = 60.0  # no reply by then: the request is retried (a send with its cid)
NO_RECONNECT_CODES = frozenset({1003, 1009, 4001, 4003, 4400})  # client bugs or credentials
HISTORY_PAGE = 100
WORKER_MEMORY_BYTES = 3 << 30  # 10,000 TLS connections over 4 workers use ~0.3 GiB each


def trio_at(mono: float) -> float:
    """The Trio clock time of a ``time.monotonic()`` instant (Trio's clock has its own offset)."""
    return trio.current_time() + (mono - time.monotonic())


def decode_sequence(data: bytes, out: list[dict[str, Any]]) -> bool:
    """Append the frames of one server message (a CBOR sequence, PROTOCOL.md §1) to ``out``.

    False if the message is malformed (the frames before the bad item are kept).
    """
    n = len(data)
    fp = io.BytesIO(data)
    decoder = cbor2.CBORDecoder(fp)
    try:
        while fp.tell() < n:
            f = decoder.decode()
            if type(f) is not dict or "op" not in f:
                return False
            out.append(f)
    except Exception:
        return False
    return n > 0


class Track:
    """Which seqs of one channel a client received since ``start`` (the seq it already held)."""

    __slots__ = ("distinct", "dups", "holes", "last", "ooo", "start")

    def __init__(self, start: int) -> None:
        self.start = start
        self.last = start  # the highest seq received (or held at start)
        self.distinct = 0
        self.dups = 0
        self.ooo = 0
        self.holes: set[int] = set()  # seqs below ``last`` not (yet) received

    def add(self, seq: int) -> None:
        last = self.last
        if seq == last + 1:
            self.last = seq
            self.distinct += 1
        elif seq > last:
            self.holes.update(range(last + 1, seq))
            self.last = seq
            self.distinct += 1
        elif seq in self.holes:
            self.holes.discard(seq)
            self.ooo += 1
            self.distinct += 1
        else:
            self.dups += 1

    def lost(self, final: int) -> int:
        return len(self.holes) + max(0, final - self.last)


@dataclass
class Stats:
    """What one worker measured since the last ``report``."""

    delivery_ms: array[float] = field(default_factory=lambda: array("d"))
    ack_ms: array[float] = field(default_factory=lambda: array("d"))
    history_ms: dict[str, array[float]] = field(default_factory=dict)
    delivered: int = 0  # msg pushes received (warm-up included)
    measured_delivered: int = 0
    first_delivery: float = 0.0  # monotonic seconds, measured deliveries only
    last_delivery: float = 0.0
    closes: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    connect_failures: Counter[str] = field(default_factory=Counter)
    reconnects: int = 0
    resyncs: int = 0
    backfilled: int = 0
    backfill_missing: int = 0
    text_frames: int = 0
    bad_frames: int = 0
    ws_messages: int = 0  # WebSocket messages received (a message may carry several frames)

    def record_delivery(self, now_ns: int, sent_ns: int) -> None:
        self.measured_delivered += 1
        self.delivery_ms.append((now_ns - sent_ns) / 1e6)
        t = now_ns / 1e9
        if not self.first_delivery:
            self.first_delivery = t
        self.last_delivery = t


class Pending:
    __slots__ = ("event", "on_reply", "reply")

    def __init__(self, on_reply: Callable[[dict[str, Any], int], None] | None = None) -> None:
        self.event = trio.Event()
        self.reply: dict[str, Any] | None = None
        self.on_reply = on_reply


@dataclass
class SendRec:
    """One logical message: retried with the same cid and body until acked."""

    ch: int
    cid: bytes
    body: str
    seq: int = 0
    attempts: int = 0


class Client:
    """One simulated user connection (reconnecting and resuming per its policy)."""

    def __init__(self, worker: Worker, spec: dict[str, Any]) -> None:
        self.w = worker
        self.key: int = spec["key"]
        self.token: str = spec["token"]
        self.track_channels: list[int] = spec.get("channels", [])
        self.auto_reconnect: bool = spec.get("auto_reconnect", True)
        self.receiver: bool = spec.get("receiver", True)  # dropped by the ``drop`` command
        self.tracks: dict[int, Track] = {}
        self.ws: WsConnection | None = None
        self.rids = itertools.count(1)
        self.pending: dict[int, Pending] = {}
        self.awaiting: set[int] = set()  # channels whose resume replay is not finished
        self.live = trio.Event()  # set while connected, hello answered and caught up
        self.ready = trio.Event()  # set once the first connection is live, or failed for good
        self.failed: str = ""
        self.gate: trio.Event | None = None  # when set, wait for it before reconnecting
        self.stopped = False
        self.connections = 0
        self.caught_up_at = 0.0  # monotonic seconds of the latest caught-up
        self._changed = trio.Event()
        self._conn_nursery: trio.Nursery | None = None
        self._limiter: trio.CapacityLimiter | None = None

    def _wake(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        while not predicate():
            await self._changed.wait()

    # --- lifecycle ---

    async def run(self, first_limiter: trio.CapacityLimiter) -> None:
        """Connect, hello, read; on a close reconnect (policy permitting) and resume."""
        w = self.w
        while not self.stopped:
            if self.gate is not None:
                await self.gate.wait()
                self.gate = None
                if self.stopped:
                    break
            try:
                if self.connections == 0:
                    # The first connection holds a slot until it is live (hello answered), so a
                    # fleet ramps up at a bounded number of pending handshakes and hellos.
                    await first_limiter.acquire_on_behalf_of(self)
                    self._limiter = first_limiter
                    ws = await self._connect(w.connect_deadline_secs)
                else:
                    ws = await self._connect(w.reconnect_deadline_secs)
            except _GiveUp as exc:
                self._give_up(str(exc))
                return
            self.connections += 1
            if self.connections > 1:
                w.stats.reconnects += 1
            self.ws = ws
            try:
                async with trio.open_nursery() as nursery:
                    self._conn_nursery = nursery
                    nursery.start_soon(self._hello, ws)
                    try:
                        await self._read_loop(ws)
                    except WsClosed as exc:
                        w.stats.closes[exc.code] += 1
                        if exc.code in NO_RECONNECT_CODES:  # PROTOCOL.md §9: do not retry these
                            self._give_up(f"closed {exc.code}: {exc.reason}")
                    nursery.cancel_scope.cancel()
            finally:
                self._conn_nursery = None
                self.ws = None
                if self.live.is_set():  # a waiter on the unset event keeps waiting on that one
                    self.live = trio.Event()
                for p in self.pending.values():
                    p.event.set()
                self.pending.clear()
                self._wake()
            if not self.auto_reconnect and self.gate is None:
                break
            if self.gate is None and not self.stopped:
                await trio.sleep(w.reconnect_delay_secs * (0.5 + w.rng.random()))
        self.ready.set()
        self._release_first()

    async def _connect(self, deadline_secs: float) -> WsConnection:
        w = self.w
        deadline = trio.current_time() + deadline_secs
        delay = w.reconnect_delay_secs
        while True:
            try:
                with trio.fail_after(max(0.1, min(30.0, deadline - trio.current_time()))):
                    return await WsConnection.connect(w.host, w.port, w.ssl_context)
            except (OSError, HandshakeError, trio.TooSlowError, WsClosed, trio.BrokenResourceError) as exc:
                kind = type(exc).__name__ if not isinstance(exc, HandshakeError) else f"http_{exc.status}"
                w.stats.connect_failures[kind] += 1
                if trio.current_time() + delay > deadline or self.stopped:
                    raise _GiveUp(f"cannot connect: {exc!r}") from None
                await trio.sleep(delay * (0.5 + w.rng.random()))

    async def _hello(self, ws: WsConnection) -> None:
        fields: dict[str, Any] = {"op": "hello", "v": 1, "token": self.token}
        resume = [[ch, t.last] for ch, t in self.tracks.items()]
        if resume:
            fields["resume"] = resume
        reply = await self.request(fields, on_reply=self._on_hello_ok)
        if reply is None:
            return
        if reply.get("op") != "ok":
            self.w.stats.errors[f"hello:{reply.get('code')}"] += 1
            self._give_up(f"hello refused: {reply.get('code')}")
            await ws.aclose()

    def _on_hello_ok(self, reply: dict[str, Any], now_ns: int) -> None:
        # Runs inside the reader, before any frame that follows the ok (the replay) is handled.
        if reply.get("op") != "ok":
            return
        channels = {c["id"]: c for c in reply.get("channels", [])}
        if not self.tracks:
            for ch in self.track_channels:
                info = channels.get(ch)
                if info is None:
                    self.w.stats.errors["not_a_member"] += 1
                    continue
                self.tracks[ch] = Track(info["last_seq"])
            self.awaiting = set()
        else:
            self.awaiting = {ch for ch in self.tracks if ch in channels}
        if not self.awaiting:
            self._caught_up(now_ns)

    def _caught_up(self, now_ns: int) -> None:
        self.caught_up_at = now_ns / 1e9
        self.live.set()
        self.ready.set()
        self._release_first()
        self._wake()

    def _release_first(self) -> None:
        if self._limiter is not None:
            self._limiter.release_on_behalf_of(self)
            self._limiter = None

    def _give_up(self, reason: str) -> None:
        self.failed = reason
        self.stopped = True
        self.ready.set()
        self._release_first()
        self._wake()

    async def _read_loop(self, ws: WsConnection) -> None:
        stats = self.w.stats
        tracks = self.tracks
        pending = self.pending
        while True:
            msgs = await ws.receive()
            now = time.monotonic_ns()
            frames: list[dict[str, Any]] = []
            for data in msgs:
                if type(data) is str:
                    stats.text_frames += 1
                    continue
                stats.ws_messages += 1
                if not decode_sequence(data, frames):
                    stats.bad_frames += 1
            for f in frames:
                op = f.get("op")
                if op == "msg":
                    stats.delivered += 1
                    t = tracks.get(f["ch"])
                    if t is not None:
                        t.add(f["seq"])
                    body = f["body"]
                    if body[0] == "t":
                        stats.record_delivery(now, int(body[1:20]))
                elif op == "ack" or op == "ok" or op == "error":
                    p = pending.pop(f.get("rid"), None)
                    if p is None:
                        stats.errors[f"unsolicited:{f.get('code', op)}"] += 1
                        continue
                    f["_t_ns"] = now  # when the reply arrived, not when its waiter woke
                    p.reply = f
                    if p.on_reply is not None:
                        p.on_reply(f, now)
                    p.event.set()
                elif op == "caughtup":
                    self.awaiting.discard(f["ch"])
                    if not self.awaiting:
                        self._caught_up(now)
                elif op == "resync":
                    self._on_resync(f["ch"], f["seq"])

    def _on_resync(self, ch: int, end: int) -> None:
        """Too far behind for a replay: page the gap in through ``history`` (as a client would)."""
        self.w.stats.resyncs += 1
        t = self.tracks.get(ch)
        if t is None or self._conn_nursery is None:
            self.awaiting.discard(ch)
            return
        begin = t.last
        if end > t.last:
            t.last = end  # the gap (begin, end] is accounted for by the backfill below
        self._conn_nursery.start_soon(self._backfill, ch, begin, end)

    async def _backfill(self, ch: int, begin: int, end: int) -> None:
        stats = self.w.stats
        seen: set[int] = set()
        after = begin
        while after < end:
            reply = await self.request({"op": "history", "ch": ch, "after": after, "limit": HISTORY_PAGE})
            if reply is None:
                return  # connection lost: the next resume starts from ``end`` and the gap stays counted below
            if reply.get("op") != "ok" or not reply.get("messages"):
                break
            for m in reply["messages"]:
                if begin < m["seq"] <= end:
                    seen.add(m["seq"])
            after = reply["messages"][-1]["seq"]
        stats.backfilled += len(seen)
        stats.backfill_missing += (end - begin) - len(seen)
        t = self.tracks[ch]
        t.distinct += len(seen)
        self.awaiting.discard(ch)
        if not self.awaiting:
            self._caught_up(time.monotonic_ns())

    # --- requests ---

    async def request(
        self,
        fields: dict[str, Any],
        wait_secs: float = REQUEST_TIMEOUT_SECS,
        on_reply: Callable[[dict[str, Any], int], None] | None = None,
    ) -> dict[str, Any] | None:
        """Send a request and wait for its reply; None if the connection ended or it timed out."""
        ws = self.ws
        if ws is None or ws.closed is not None:
            return None
        rid = next(self.rids)
        fields["rid"] = rid
        p = Pending(on_reply)
        self.pending[rid] = p
        try:
            await ws.send(encode_client_frame(fields))
        except WsClosed:
            self.pending.pop(rid, None)
            return None
        with trio.move_on_after(wait_secs):
            await p.event.wait()
        self.pending.pop(rid, None)
        return p.reply

    async def post(self, rec: SendRec, deadline: float) -> bool:
        """Send ``rec`` until acked, retrying with the same cid after reconnects, until ``deadline``."""
        stats = self.w.stats
        while trio.current_time() < deadline and not self.stopped:
            if not self.live.is_set():
                with trio.move_on_at(deadline):
                    await self.wait_until(lambda: self.live.is_set() or self.stopped)
                continue
            rec.attempts += 1
            t0 = time.monotonic_ns()
            reply = await self.request(
                {"op": "send", "ch": rec.ch, "cid": rec.cid, "body": rec.body},
                wait_secs=max(0.1, deadline - trio.current_time()),
            )
            if reply is None:
                # The connection ended (or the reply is overdue): wait until the reader has
                # seen the end (live cleared) or a moment passed, then retry with the same cid.
                await trio.sleep(0.05)
                continue
            if reply["op"] == "ack":
                rec.seq = reply["seq"]
                if rec.attempts == 1 and rec.body[0] == "t":  # warm-up acks are not samples
                    stats.ack_ms.append((reply["_t_ns"] - t0) / 1e6)
                return True
            code = str(reply.get("code"))
            stats.errors[f"send:{code}"] += 1
            if not reply.get("retry"):
                return False
            await trio.sleep(0.05 * (0.5 + self.w.rng.random()))
        return False


class _GiveUp(Exception):
    pass


class Worker:
    """One load-generator process: its clients and the commands the runner sends."""

    def __init__(self, index: int, cmd: Pipe, res: Pipe) -> None:
        self.index = index
        self.cmd = cmd
        self.res = res
        self.clients: dict[int, Client] = {}
        self.stats = Stats()
        self.host = "127.0.0.1"
        self.port = 0
        self.ssl_context = insecure_ssl_context()
        self.connect_deadline_secs = 60.0
        self.reconnect_deadline_secs = 60.0
        self.reconnect_delay_secs = 0.2
        self.rng = random.Random(index)
        self._reply_lock = trio.Lock()
        self._clients_nursery: trio.Nursery | None = None
        self._clients_scope: trio.CancelScope | None = None
        self.sent_log: list[tuple[int, int, bytes]] = []  # (ch, seq, cid) of every acked send

    async def main(self) -> None:
        async with trio.open_nursery() as nursery:
            while True:
                try:
                    msg = await trio.to_thread.run_sync(self.cmd.recv, abandon_on_cancel=True)
                except (EOFError, OSError):
                    break  # the runner is gone
                ticket, name, args = msg
                if name == "exit":
                    break
                nursery.start_soon(self._run_command, ticket, name, args)
            nursery.cancel_scope.cancel()

    async def _run_command(self, ticket: int, name: str, args: dict[str, Any]) -> None:
        try:
            result = await getattr(self, f"cmd_{name}")(**args)
            status = "ok"
        except Exception:
            result = traceback.format_exc()
            status = "error"
        async with self._reply_lock:
            await trio.to_thread.run_sync(self.res.send, (ticket, status, result))

    # --- commands ---

    async def cmd_setup(self, conns: list[dict[str, Any]], host: str, port: int, tls: bool,
                        connect_deadline_secs: float = 60.0, reconnect_deadline_secs: float = 60.0,
                        reconnect_delay_secs: float = 0.2) -> dict[str, Any]:
        """Forget the previous clients and prepare new ones (not connected yet)."""
        await self._close_all()
        self.host, self.port = host, port
        self.ssl_context = insecure_ssl_context() if tls else None  # type: ignore[assignment]
        self.connect_deadline_secs = connect_deadline_secs
        self.reconnect_deadline_secs = reconnect_deadline_secs
        self.reconnect_delay_secs = reconnect_delay_secs
        self.stats = Stats()
        self.sent_log = []
        self.clients = {c["key"]: Client(self, c) for c in conns}
        return {"clients": len(self.clients)}

    async def cmd_connect(self, concurrency: int = 32, within_secs: float = 120.0) -> dict[str, Any]:
        """Start every client; return once each is live (or gave up)."""
        t0 = time.monotonic()
        limiter = trio.CapacityLimiter(concurrency)
        scope = trio.CancelScope()
        self._clients_scope = scope

        async def holder(task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
            with scope:
                async with trio.open_nursery() as nursery:
                    self._clients_nursery = nursery
                    task_status.started()
                    await trio.sleep_forever()

        assert self._holder_nursery is not None
        await self._holder_nursery.start(holder)
        assert self._clients_nursery is not None
        for c in self.clients.values():
            self._clients_nursery.start_soon(c.run, limiter)
        with trio.move_on_after(within_secs):
            for c in self.clients.values():
                await c.ready.wait()
        live = [c for c in self.clients.values() if c.live.is_set()]
        failures = Counter(c.failed.split(":")[0] for c in self.clients.values() if c.failed)
        return {
            "live": len(live),
            "failed": sum(1 for c in self.clients.values() if c.failed),
            "failures": dict(failures),
            "seconds": time.monotonic() - t0,
            "last_live": max((c.caught_up_at for c in live), default=0.0),
        }

    _holder_nursery: trio.Nursery | None = None

    async def cmd_send(self, senders: list[dict[str, Any]], start_at: float) -> dict[str, Any]:
        """Run the sender loops; return when all are done. See ``_sender`` for a spec's keys."""
        results: list[dict[str, Any]] = []
        async with trio.open_nursery() as nursery:
            for spec in senders:
                nursery.start_soon(self._sender, spec, start_at, results)
        return {
            "senders": results,
            "sent": sum(r["sent"] for r in results),
            "acked": sum(r["acked"] for r in results),
            "acked_measured": sum(r["acked_measured"] for r in results),
            "failed": sum(r["failed"] for r in results),
            "retried": sum(r["retried"] for r in results),
            "first_send": min((r["first_send"] for r in results if r["first_send"]), default=0.0),
            "last_send": max((r["last_send"] for r in results), default=0.0),
            "last_ack": max((r["last_ack"] for r in results), default=0.0),
        }

    async def _sender(self, spec: dict[str, Any], start_at: float, results: list[dict[str, Any]]) -> None:
        """spec: key, ch, count, duration, rate (None: closed loop), window, warmup, grace."""
        client = self.clients[spec["key"]]
        ch = spec["ch"]
        count = spec["count"]
        rate = spec.get("rate")
        window = spec.get("window", 64)
        warmup = spec.get("warmup", 0.0)
        grace = spec.get("grace", 30.0)
        start = trio_at(start_at + spec.get("offset", 0.0))
        await trio.sleep_until(start)
        stop_at = start + spec["duration"]
        deadline = stop_at + grace
        out = {"key": client.key, "ch": ch, "sent": 0, "acked": 0, "acked_measured": 0, "failed": 0, "retried": 0,
               "first_send": 0.0, "last_send": 0.0, "last_ack": 0.0, "behind_max_ms": 0.0}
        prefix = f"{client.key}:"

        def make(n: int) -> SendRec:
            tag = "w" if trio.current_time() < start + warmup else "t"
            body = f"{tag}{time.monotonic_ns():019d} {prefix}{n}"
            now = time.monotonic()
            if not out["first_send"]:
                out["first_send"] = now
            out["last_send"] = now
            out["sent"] += 1
            return SendRec(ch, os.urandom(16), body)

        async def one(rec: SendRec, slot: trio.Semaphore | None) -> None:
            try:
                ok = await client.post(rec, deadline)
            finally:
                if slot is not None:
                    slot.release()
            if rec.attempts > 1:
                out["retried"] += 1
            if ok:
                out["acked"] += 1
                if rec.body[0] == "t":
                    out["acked_measured"] += 1
                out["last_ack"] = time.monotonic()
                self.sent_log.append((ch, rec.seq, rec.cid))
            else:
                out["failed"] += 1

        n = 0
        if rate is None:
            while n < count and trio.current_time() < stop_at:
                await one(make(n), None)
                n += 1
        else:
            slots = trio.Semaphore(window)
            interval = 1.0 / rate
            async with trio.open_nursery() as nursery:
                while n < count:
                    due = start + n * interval
                    if due >= stop_at:
                        break
                    await trio.sleep_until(due)
                    await slots.acquire()
                    behind = (trio.current_time() - due) * 1000
                    out["behind_max_ms"] = max(out["behind_max_ms"], behind)
                    nursery.start_soon(one, make(n), slots)
                    n += 1
        results.append(out)

    async def cmd_wait_delivered(self, final: dict[int, int], within_secs: float) -> dict[str, Any]:
        """Wait until every tracking client holds each channel up to ``final[ch]``."""
        t0 = time.monotonic()
        final = {int(k): v for k, v in final.items()}

        def done(c: Client) -> bool:
            return c.failed != "" or all(t.last >= final.get(ch, 0) for ch, t in c.tracks.items())

        with trio.move_on_after(within_secs):
            for c in self.clients.values():
                await c.wait_until(lambda c=c: done(c))  # type: ignore[misc]
        behind = sum(1 for c in self.clients.values() if not done(c))
        return {"complete": behind == 0, "behind": behind, "seconds": time.monotonic() - t0}

    async def cmd_drop(self) -> dict[str, Any]:
        """Reset every receiver's TCP connection at once; they wait for ``reconnect``."""
        dropped = 0
        for c in self.clients.values():
            if c.receiver and c.ws is not None:
                c.gate = trio.Event()
        for c in self.clients.values():
            if c.receiver and c.ws is not None and c.gate is not None:
                await c.ws.abort()
                dropped += 1
        return {"dropped": dropped}

    async def cmd_reconnect(self, at: float, within_secs: float) -> dict[str, Any]:
        """At monotonic time ``at``, let every dropped client reconnect; wait for their catch-up."""
        await trio.sleep_until(trio_at(at))
        gated = [c for c in self.clients.values() if c.gate is not None]
        for c in gated:
            assert c.gate is not None
            c.gate.set()
        return await self._wait_caught_up(gated, at, within_secs)

    async def cmd_wait_caught_up(self, since: float, within_secs: float, receivers_only: bool = True) -> dict[str, Any]:
        """Wait until every (receiving) client has caught up on a connection made after ``since``."""
        clients = [c for c in self.clients.values() if c.receiver or not receivers_only]
        return await self._wait_caught_up(clients, since, within_secs)

    async def _wait_caught_up(self, clients: list[Client], since: float, within_secs: float) -> dict[str, Any]:
        with trio.move_on_after(within_secs):
            for c in clients:
                await c.wait_until(lambda c=c: c.failed != "" or (c.live.is_set() and c.caught_up_at >= since))  # type: ignore[misc]
        ok = [c for c in clients if c.live.is_set() and c.caught_up_at >= since]
        return {
            "clients": len(clients),
            "caught_up": len(ok),
            "times": [c.caught_up_at - since for c in ok],
        }

    async def cmd_ping_all(self, within_secs: float = 30.0) -> dict[str, Any]:
        """A ``ping`` request on every connection: how many are alive and answering."""
        alive = 0

        async def one(c: Client) -> None:
            nonlocal alive
            reply = await c.request({"op": "ping"}, wait_secs=within_secs)
            if reply is not None and reply.get("op") == "ok":
                alive += 1

        async with trio.open_nursery() as nursery:
            for c in self.clients.values():
                nursery.start_soon(one, c)
        return {"alive": alive, "clients": len(self.clients)}

    async def cmd_history(self, key: int, ch: int, befores: list[int | None], label: str,
                          warmup: int = 0) -> dict[str, Any]:
        """Sequential ``history`` pages (limit 50); latencies go to ``history_ms[label]``."""
        client = self.clients[key]
        lat = self.stats.history_ms.setdefault(label, array("d"))
        errors = 0
        bad_pages = 0
        for i, before in enumerate(befores):
            fields: dict[str, Any] = {"op": "history", "ch": ch, "limit": 50}
            if before is not None:
                fields["before"] = before
            t0 = time.monotonic_ns()
            reply = await client.request(fields)
            if reply is None or reply.get("op") != "ok":
                errors += 1
                continue
            msgs = reply["messages"]
            seqs = [m["seq"] for m in msgs]
            dense = seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else False
            if len(msgs) != 50 or not dense or (before is not None and seqs[-1] != before - 1):
                bad_pages += 1
            if i >= warmup:
                lat.append((reply["_t_ns"] - t0) / 1e6)
        return {"errors": errors, "bad_pages": bad_pages}

    async def cmd_search(self, key: int, requests: list[dict[str, Any]], label: str, warmup: int,
                         allowed: list[int]) -> dict[str, Any]:
        """Sequential ``search`` requests (S9); latencies go to ``history_ms[label]``. Counts failed
        requests, hits in a channel not in ``allowed`` (leaks) and replies without results."""
        client = self.clients[key]
        lat = self.stats.history_ms.setdefault(label, array("d"))
        may_read = set(allowed)
        errors = leaks = empty = 0
        for i, fields in enumerate(requests):
            t0 = time.monotonic_ns()
            reply = await client.request({"op": "search", **fields, "limit": 20})
            if reply is None or reply.get("op") != "ok":
                errors += 1
                continue
            leaks += sum(1 for hit in reply["results"] if hit["ch"] not in may_read)
            empty += not reply["results"]
            if i >= warmup:
                lat.append((reply["_t_ns"] - t0) / 1e6)
        return {"errors": errors, "leaks": leaks, "empty": empty}

    async def cmd_report(self, final: dict[int, int] | None = None) -> dict[str, Any]:
        """Counters, correctness and latency samples since ``setup``; resets the samples."""
        final = {int(k): v for k, v in (final or {}).items()}
        lost = dups = ooo = missed_by_gave_up = 0
        gave_up: Counter[str] = Counter()
        for c in self.clients.values():
            for ch, t in c.tracks.items():
                if c.failed:
                    # A client the server turned away for good (e.g. 4001) missed what followed:
                    # reported with the failure that caused it, not as a lost message.
                    missed_by_gave_up += t.lost(final.get(ch, t.last))
                else:
                    lost += t.lost(final.get(ch, t.last))
                dups += t.dups
                ooo += t.ooo
            if c.failed:
                gave_up[c.failed.split(":")[0]] += 1
        s = self.stats
        ru = resource.getrusage(resource.RUSAGE_SELF)
        out = {
            "lost": lost + s.backfill_missing,
            "duplicated": dups,
            "out_of_order": ooo,
            "delivered": s.delivered,
            "measured_delivered": s.measured_delivered,
            "first_delivery": s.first_delivery,
            "last_delivery": s.last_delivery,
            "delivery_ms": s.delivery_ms.tobytes(),
            "ack_ms": s.ack_ms.tobytes(),
            "history_ms": {k: v.tobytes() for k, v in s.history_ms.items()},
            "closes": dict(s.closes),
            "errors": dict(s.errors),
            "connect_failures": dict(s.connect_failures),
            "reconnects": s.reconnects,
            "resyncs": s.resyncs,
            "backfilled": s.backfilled,
            "text_frames": s.text_frames,
            "bad_frames": s.bad_frames,
            "ws_messages": s.ws_messages,
            "live": sum(1 for c in self.clients.values() if c.live.is_set()),
            "gave_up": dict(gave_up),
            "missed_by_gave_up": missed_by_gave_up,
            "sent_log": self.sent_log,
            "cpu_s": ru.ru_utime + ru.ru_stime,
        }
        s.delivery_ms = array("d")
        s.ack_ms = array("d")
        s.history_ms = {}
        self.sent_log = []
        return out

    async def cmd_churn(self, tokens: list[str], count: int, parallel: int) -> dict[str, Any]:
        """S11: ``count`` connect / hello / close cycles (bench/cycles.py)."""
        from bench.cycles import run_cycles  # it imports this module

        return await run_cycles(self.host, self.port, self.ssl_context, tokens, count, parallel)

    async def cmd_soak(self, **kw: Any) -> dict[str, Any]:
        """S12: the clients chat, hop channels and reconnect for a while (bench/soak.py)."""
        from bench.soak import run_soak  # it imports this module

        return await run_soak(self, **kw)

    async def cmd_close(self) -> dict[str, Any]:
        await self._close_all()
        return {}

    async def _close_all(self) -> None:
        clients = list(self.clients.values())
        for c in clients:
            c.stopped = True
            if c.gate is not None:
                c.gate.set()
        limiter = trio.CapacityLimiter(200)

        async def close(c: Client) -> None:
            async with limiter:
                if c.ws is not None:
                    with trio.move_on_after(2):
                        await c.ws.aclose()

        with trio.move_on_after(20):
            async with trio.open_nursery() as nursery:
                for c in clients:
                    nursery.start_soon(close, c)
        if self._clients_scope is not None:
            self._clients_scope.cancel()
        self._clients_scope = None
        self._clients_nursery = None
        self.clients = {}


def worker_main(index: int, cmd: Pipe, res: Pipe) -> None:
    """Entry point of a load-generator process (multiprocessing, spawn)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    # The machine is shared: a runaway worker must fail with MemoryError, not wake the OOM killer.
    resource.setrlimit(resource.RLIMIT_DATA, (WORKER_MEMORY_BYTES, WORKER_MEMORY_BYTES))
    worker = Worker(index, cmd, res)

    async def main() -> None:
        async with trio.open_nursery() as holder:
            worker._holder_nursery = holder
            await worker.main()
            holder.cancel_scope.cancel()

    try:
        trio.run(main)
    except KeyboardInterrupt:
        pass
