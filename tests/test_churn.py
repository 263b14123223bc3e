"""Connection churn: nothing a connection allocated survives it (issue 16, item 1).

Object counts, not RSS: after N connect / hello / close cycles and a garbage collection, no
object of a per-connection type may be left (the session; on chatd's own path its WebSocket,
stream and TLS object; on Quart's fallback path Quart's WebSocket and its context, Hypercorn's
streams). bench/ S11 measures the RSS side over 100,000 cycles.

The leak these tests caught: asyncpg armed an asyncio timer per query (the 60 s command timeout)
and per pool release (the 300 s idle-connection timer). A timer keeps a copy of the calling
task's contextvars until it is due, even once cancelled (trio-asyncio keeps cancelled timers in
its heap), and Quart keeps the WebSocket in a contextvar: every closed connection stayed in
memory for five minutes, ~25 KB each — at 100 reconnects a second, 750 MB.
"""

from __future__ import annotations

import gc
import os
import ssl
from collections import Counter
from collections.abc import Iterable

import pytest
import trio
import trio.testing

from chatd.gateway.session import Session
from tests.helpers.client import connect, general_id, register
from tests.helpers.memory import MemoryDaemon
from tests.helpers.raw import Raw, in_thread
from tests.helpers.server import RunningServer

CYCLES = 25

# Types that exist once per open connection on the server side, and nowhere else.
PER_CONNECTION_TYPES = (
    "chatd.gateway.session.Session",
    "chatd.gateway.outbound.Outbound",
    "chatd.gateway.subscriptions.Subscriptions",
    "chatd.gateway.upgrade.Admitted",
    "chatd.gateway.websocket.WebSocket",
    "chatd.gateway.netstream.NetStream",
    "chatd.hypercorn_serve.ReplayStream",
    "quart.ctx.WebsocketContext",
    "quart_trio.wrappers.websocket.TrioWebsocket",
    "quart_trio.asgi.TrioASGIWebsocketConnection",
    "hypercorn.protocol.ws_stream.WebsocketBuffer",
    "chatd.hypercorn_pings.PromptPingWSStream",
    "hypercorn.protocol.h11.H11Protocol",
    "hypercorn.trio.tcp_server.TCPServer",
)


def count_types(names: Iterable[str]) -> Counter[str]:
    """Live objects of each of ``names`` (module.qualname), after a full collection; the
    server's TLS objects count as ``ssl.SSLObject[server]`` (the test's client has its own)."""
    wanted = set(names)
    gc.collect()
    found: Counter[str] = Counter()
    for obj in gc.get_objects():
        cls = type(obj)
        name = f"{cls.__module__}.{cls.__qualname__}"
        if name in wanted:
            found[name] += 1
        elif isinstance(obj, ssl.SSLObject) and obj.server_side:
            found["ssl.SSLObject[server]"] += 1
    return found


async def test_no_per_connection_object_survives_its_connection(server: RunningServer) -> None:
    """Real TLS, chatd's own WebSocket path: 25 cycles of connect, hello, a request, close."""
    alice = await register(server, "alice")
    with trio.fail_after(60):
        for i in range(CYCLES):
            async with connect(server, alice) as a:
                ch = general_id(a)
                if i % 2:
                    await a.ok("history", ch=ch)
                else:
                    await a.send_message(ch, f"cycle {i}")
        # Every server-side task of those sockets has ended.
        await trio.testing.wait_all_tasks_blocked()
    assert len(server.state.connections) == 0
    left = count_types(PER_CONNECTION_TYPES)
    assert left == Counter(), f"objects of closed connections still alive: {dict(left)}"


async def test_nothing_of_a_connection_on_quarts_path_survives_it(server: RunningServer) -> None:
    """Real TLS, Hypercorn and Quart (an upgrade after a kept-alive request): 25 cycles of
    connect, a request, upgrade, hello, a request, close."""
    alice = await register(server, "alice")

    def cycle(i: int) -> None:
        c = Raw.upgraded(server.url, after_a_request=True)
        try:
            hello = c.hello(alice.token)
            ch = next(x["id"] for x in hello["channels"] if x["name"] == "general")
            c.send_frame({"op": "history", "rid": 2, "ch": ch} if i % 2 else
                         {"op": "send", "rid": 2, "ch": ch, "cid": os.urandom(16), "body": f"cycle {i}"})
            assert c.reply(2)["op"] in ("ok", "ack")
        finally:
            c.close()

    for i in range(CYCLES):
        await in_thread(cycle, i)
    with trio.fail_after(60):
        await trio.testing.wait_all_tasks_blocked()  # every server-side task has ended (Hypercorn's too)
    assert len(server.state.connections) == 0
    left = count_types(PER_CONNECTION_TYPES)
    assert left == Counter(), f"objects of closed connections still alive: {dict(left)}"


async def test_sessions_and_their_bookkeeping_end_with_the_connection(
    daemon: MemoryDaemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Memory transport, several ways to end: the session object is freed, and no map of the
    daemon (registry, presence, presence pushes, hub subscriptions) keeps an entry for it."""
    alice = await register(daemon, "alice")
    bob = await register(daemon, "bob")
    state = daemon.state
    made = 0  # sessions created (a Session has __slots__ and no weak references: counted)
    real_init = Session.__init__

    def tracking_init(self: Session, *args: object, **kwargs: object) -> None:
        nonlocal made
        real_init(self, *args, **kwargs)  # type: ignore[arg-type]
        made += 1

    monkeypatch.setattr(Session, "__init__", tracking_init)
    with trio.fail_after(60):
        for i in range(CYCLES):
            user = alice if i % 2 else bob
            async with connect(daemon, user) as c:
                ch = general_id(c)
                await c.ok("typing", ch=ch)
                await c.ok("presence.set", state="away")
                if i % 5 == 0:
                    for _ in range(20):  # undecodable frames: closed 4400
                        await c.send_raw(b"\xff" + os.urandom(3))
                    assert (await c.wait_closed()).code == 4400
                elif i % 5 == 1:
                    await c.send_raw("text")  # closed 1003
                    assert (await c.wait_closed()).code == 1003
                elif i % 5 == 2:
                    state.connections.end_user(user.user_id)  # closed 4001
                    assert (await c.wait_closed()).code == 4001
        async with connect(daemon, alice, hello=False) as c:
            await c.send("hello", v=2)
            assert (await c.wait_closed()).code == 4400
        await trio.testing.wait_all_tasks_blocked()
        await state.presence_push.flush()
    assert made == CYCLES + 1
    assert count_types(["chatd.gateway.session.Session"]) == Counter()  # all freed
    assert len(state.connections) == 0
    assert state.presence._away == {}
    assert state.presence_push._told == {}
    assert state.hub.statistics()["subscriptions"] == 0
    assert count_types(PER_CONNECTION_TYPES) == Counter()


async def test_the_server_keeps_no_tls_session_per_handshake(server: RunningServer) -> None:
    """Session tickets are off (the TLS profile), so OpenSSL would keep every session (~1.4 KB)
    on the server for two hours, up to 20,480: memory that grew with every connection."""
    ctx = server.info.ssl_context
    assert ctx is not None
    accepted = ctx.session_stats()["accept_good"]
    for _ in range(12):  # a new TLS connection each
        assert (await server.get("/healthz")).status == 200
    stats = ctx.session_stats()
    assert stats["accept_good"] >= accepted + 12
    assert stats["number"] == 0
