"""Liveness from one timer (chatd.gateway.heartbeat) over chatd's WebSocket, under the mock clock:
pings every ``ping_secs``, a peer silent for ``timeout_secs`` dropped without a close frame, a peer
that answers kept."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

import pytest
import trio
import trio.testing

from chatd.gateway import wsframe
from chatd.gateway.heartbeat import Heartbeat
from chatd.gateway.netstream import NetStream
from chatd.gateway.transport import PeerGone
from chatd.gateway.websocket import WebSocket

PING_SECS, TIMEOUT_SECS = 10.0, 25.0


@dataclass(eq=False)
class FakeSocket:
    last_heard: float
    last_ping: float
    pings: list[float] = field(default_factory=list)
    aborted: bool = False

    def ping_nowait(self, now: float) -> None:
        self.last_ping = now
        self.pings.append(now)

    def abort(self) -> None:
        self.aborted = True


def test_one_beat_pings_the_due_and_drops_the_silent() -> None:
    hb = Heartbeat(PING_SECS, TIMEOUT_SECS)
    fresh, due, silent = FakeSocket(100, 100), FakeSocket(95, 90), FakeSocket(75, 95)
    for s in (fresh, due, silent):
        hb.add(s)
    assert hb.beat(100.0) == (1, 1)
    assert (fresh.pings, due.pings, silent.pings) == ([], [100.0], [])
    assert silent.aborted and not due.aborted and not fresh.aborted
    assert len(hb) == 2  # the dropped socket is forgotten


def test_the_tick_is_fine_enough_for_short_test_intervals() -> None:
    assert Heartbeat(10, 25).tick_secs == 1.0
    assert Heartbeat(0.5, 1.5).tick_secs == 0.125


class Peer:
    """The client end of a socket pair: reads server frames, may answer pings."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = trio.socket.from_stdlib_socket(sock)
        self.pings = 0
        self.eof_at: float | None = None
        self.closes = 0

    async def run(self, answer: bool) -> None:
        buf = b""
        while True:
            data = await self.sock.recv(4096)
            if not data:
                self.eof_at = trio.current_time()
                return
            buf += data
            while len(buf) >= 2 and len(buf) >= 2 + (buf[1] & 0x7F):
                opcode, n = buf[0] & 0x0F, buf[1] & 0x7F
                buf = buf[2 + n :]
                if opcode == wsframe.OP_PING:
                    self.pings += 1
                    if answer:  # a masked, empty pong
                        await self.sock.send(bytes([0x8A, 0x80]) + b"\0\0\0\0")
                elif opcode == wsframe.OP_CLOSE:
                    self.closes += 1


async def _serve(ws: WebSocket) -> float:
    """Read until the transport reports the peer gone; when that happened."""
    with pytest.raises(PeerGone):
        while True:
            await ws.receive()
    return trio.current_time()


@pytest.mark.parametrize("answer", [False, True], ids=["silent", "answering"])
async def test_pings_and_the_silent_peer_timeout(autojump_clock: trio.testing.MockClock, answer: bool) -> None:
    server_sock, client_sock = socket.socketpair()
    ws = WebSocket(NetStream.accepted(server_sock, None), 65536)
    hb = Heartbeat(PING_SECS, TIMEOUT_SECS)
    hb.add(ws)
    peer = Peer(client_sock)
    start = trio.current_time()
    async with trio.open_nursery() as nursery:
        await nursery.start(hb.run)
        nursery.start_soon(peer.run, answer)
        if answer:
            with trio.move_on_after(120):
                await _serve(ws)
            assert peer.eof_at is None and len(hb) == 1  # kept: two minutes of pongs
            assert 10 <= peer.pings <= 12  # every 10–11 s
            ws.abort()
        else:
            gone_at = await _serve(ws)
            assert TIMEOUT_SECS <= gone_at - start <= TIMEOUT_SECS + hb.tick_secs
            assert peer.pings == 2  # at 10 and 20 s
            assert len(hb) == 0
        nursery.cancel_scope.cancel()
    if not answer:
        assert peer.closes == 0  # dropped without a close frame (PROTOCOL.md §11)
    peer.sock.close()
