"""A connection's outbound queue (chatd.gateway.outbound) over a fake transport: one message per
round, order kept across a backed-up socket, the bound (4008) and a peer gone mid-write."""

from __future__ import annotations

import trio
import trio.testing

from chatd.flusher import Flusher
from chatd.gateway.outbound import WRITE_BATCH_BYTES, Outbound
from chatd.gateway.transport import PeerGone


class FakeTransport:
    """``send_nowait`` takes one message whole unless ``blocked``; a blocked write waits in
    ``waiting`` until ``unblock``."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.waiting: list[bytes] = []
        self.blocked = False
        self.gone = False
        self._room = trio.Event()

    def send_nowait(self, data: bytes) -> bool:
        if self.gone:
            raise PeerGone()
        if self.blocked:
            self.waiting.append(data)
            return False
        self.sent.append(data)
        return True

    async def flush(self) -> None:
        while self.blocked:
            await self._room.wait()
        self.sent += self.waiting
        self.waiting.clear()

    async def send(self, data: bytes) -> None:
        if not self.send_nowait(data):
            await self.flush()

    def unblock(self) -> None:
        self.blocked = False
        self._room.set()
        self._room = trio.Event()

    async def receive(self) -> bytes | str:
        raise PeerGone()

    async def close(self, code: int, reason: str) -> None:
        pass


class Setup:
    def __init__(self, nursery: trio.Nursery, size: int = 8) -> None:
        self.flusher = Flusher()
        self.overflows = self.gone = 0
        self.out = Outbound(size, self._overflow, self._gone, self.flusher)
        self.transport = FakeTransport()
        self.out.start(self.transport, nursery)

    def _overflow(self) -> None:
        self.overflows += 1

    def _gone(self) -> None:
        self.gone += 1


async def test_what_is_queued_in_one_round_leaves_as_one_message_in_order(nursery: trio.Nursery) -> None:
    s = Setup(nursery)
    for frame in (b"a", b"b", b"c"):
        s.out.queue(frame)
    assert s.transport.sent == []  # queueing never writes
    assert s.flusher.flush_marked() == 1  # one connection marked, once
    assert s.transport.sent == [b"abc"]
    s.out.queue(b"d")
    s.flusher.flush_marked()
    assert s.transport.sent == [b"abc", b"d"]


async def test_a_round_is_cut_into_messages_of_about_write_batch_bytes(nursery: trio.Nursery) -> None:
    s = Setup(nursery, size=100)
    big = b"x" * (WRITE_BATCH_BYTES // 2)
    for _ in range(5):
        s.out.queue(big)
    s.flusher.flush_marked()
    assert [len(m) for m in s.transport.sent] == [WRITE_BATCH_BYTES] * 2 + [len(big)]


async def test_a_backed_up_socket_gets_a_writer_and_order_is_kept(nursery: trio.Nursery) -> None:
    s = Setup(nursery)
    s.transport.blocked = True
    s.out.queue(b"1")
    s.flusher.flush_marked()  # the write does not go through: a writer task takes over
    s.out.queue(b"2")
    s.out.queue(b"3")
    assert s.flusher.flush_marked() == 0  # the writer owns the socket: not marked meanwhile
    await trio.testing.wait_all_tasks_blocked()
    assert s.transport.sent == [] and s.transport.waiting == [b"1"]
    s.transport.unblock()
    await trio.testing.wait_all_tasks_blocked()
    assert s.transport.sent == [b"1", b"23"]
    s.out.queue(b"4")  # the writer is gone: the flusher writes again
    s.flusher.flush_marked()
    assert s.transport.sent == [b"1", b"23", b"4"]


async def test_a_full_queue_behind_a_blocked_socket_overflows(nursery: trio.Nursery) -> None:
    s = Setup(nursery, size=4)
    s.transport.blocked = True
    s.out.queue(b"0")
    s.flusher.flush_marked()  # on its way (blocked); the queue is empty again
    for i in range(4):
        s.out.queue(bytes([i]))
    assert s.overflows == 0
    s.out.queue(b"one too many")
    assert s.overflows == 1  # the session closes with 4008


async def test_a_peer_gone_mid_write_is_reported_and_the_queue_dropped(nursery: trio.Nursery) -> None:
    s = Setup(nursery)
    s.out.queue(b"x")
    s.transport.gone = True
    s.flusher.flush_marked()
    assert s.gone == 1 and s.out.leftover() == b""


async def test_queue_waiting_waits_for_room(nursery: trio.Nursery) -> None:
    s = Setup(nursery, size=2)
    s.transport.blocked = True
    s.out.queue(b"a")
    s.flusher.flush_marked()
    s.out.queue(b"b")
    s.out.queue(b"c")
    done = trio.Event()

    async def replay() -> None:
        await s.out.queue_waiting(b"d")
        done.set()

    nursery.start_soon(replay)
    await trio.testing.wait_all_tasks_blocked()
    assert not done.is_set() and s.overflows == 0  # waits instead of overflowing
    s.transport.unblock()
    await done.wait()
    await trio.testing.wait_all_tasks_blocked()
    s.flusher.flush_marked()
    assert b"".join(s.transport.sent) == b"abcd"


async def test_drain_sends_everything_queued_after_the_writer(nursery: trio.Nursery) -> None:
    s = Setup(nursery)
    s.transport.blocked = True
    s.out.queue(b"1")
    s.flusher.flush_marked()
    s.out.queue(b"2")
    s.out.close()
    s.out.queue(b"after close")  # refused silently: the connection is ending
    with trio.fail_after(5):
        async with trio.open_nursery() as inner:
            inner.start_soon(s.out.drain)
            await trio.testing.wait_all_tasks_blocked()
            s.transport.unblock()
    assert s.transport.sent == [b"1", b"2"]
