"""The real-time core: the invariants of DESIGN.md §3 through real sessions.

Most tests run the daemon's sessions over memory transports (``daemon``); the first and the
shutdown test go through the real stack (TLS, Hypercorn, WebSockets) end to end.
"""

from __future__ import annotations

import os

import trio
import trio.testing

from chatd.store import Database
from tests.helpers.client import Account, connect, general_id, register
from tests.helpers.memory import MemoryDaemon
from tests.helpers.server import RunningServer


async def _stored(db: Database, ch: int) -> list[tuple[int, int, str]]:
    rows = await db.fetch("t", "SELECT seq, id, body FROM messages WHERE channel_id = $1 ORDER BY seq", ch)
    return [(r["seq"], r["id"], r["body"]) for r in rows]


async def test_message_reaches_everyone_and_the_ack_means_committed(server: RunningServer) -> None:
    alice, bob = await register(server, "alice"), await register(server, "bob")
    async with connect(server, alice) as a, connect(server, bob) as b:
        ch = general_id(a)
        ack = await a.send_message(ch, "hello 👋 world")
        assert ack["op"] == "ack" and ack["seq"] == 1
        # Ack means committed: the row is there with that seq and id.
        assert await _stored(server.db, ch) == [(1, ack["id"], "hello 👋 world")]
        with trio.fail_after(2):
            [got] = await b.wait_msgs(ch, 1)
        assert (got["seq"], got["id"], got["body"], got["name"]) == (1, ack["id"], "hello 👋 world", "alice")
        [own] = await a.wait_msgs(ch, 1)  # the sender's other tabs see it too
        assert own["cid"] == got["cid"]


async def test_retried_cid_is_one_message_with_one_seq(daemon: MemoryDaemon) -> None:
    alice = await register(daemon, "alice")
    async with connect(daemon, alice) as a:
        ch = general_id(a)
        cid = os.urandom(16)
        first = await a.send_message(ch, "once", cid)
        again = await a.send_message(ch, "once", cid)
        assert (again["seq"], again["id"]) == (first["seq"], first["id"])
    async with connect(daemon, alice) as a2:  # a retry after reconnecting, too
        third = await a2.send_message(ch, "once", cid)
        assert third["seq"] == first["seq"]
    assert len(await _stored(daemon.db, ch)) == 1


async def test_twenty_clients_two_hundred_sends_each(daemon: MemoryDaemon) -> None:
    """Every client sees the same order; seqs 1..4000 dense; every ack matches the database."""
    n_clients, n_sends = 20, 200
    accounts = [await register(daemon, f"user{i:02d}") for i in range(n_clients)]
    acks: list[dict[str, object]] = []
    orders: list[list[int]] = []
    bodies: list[list[str]] = []
    channel: list[int] = []

    async def run_client(acct: Account, task_status: trio.TaskStatus[None]) -> None:
        async with connect(daemon, acct) as c:
            task_status.started()
            await go.wait()
            ch = general_id(c)
            channel.append(ch)
            pending = [await c.send("send", ch=ch, cid=os.urandom(16), body=f"{acct.username} #{i}") for i in range(n_sends)]
            for rid in pending:
                reply = await c.reply(rid)
                assert reply["op"] == "ack", reply
                acks.append(reply)
            msgs = await c.wait_msgs(ch, n_clients * n_sends)
            orders.append([m["seq"] for m in msgs])
            bodies.append([m["body"] for m in msgs])

    go = trio.Event()
    with trio.fail_after(120):
        async with trio.open_nursery() as nursery:
            for acct in accounts:
                await nursery.start(run_client, acct)
            go.set()
    assert len(acks) == n_clients * n_sends and len(orders) == n_clients
    ch = channel[0]
    expected = list(range(1, n_clients * n_sends + 1))
    assert all(order == expected for order in orders)
    assert all(b == bodies[0] for b in bodies)
    stored = await _stored(daemon.db, ch)
    assert [s for s, _, _ in stored] == expected
    by_seq = {s: i for s, i, _ in stored}
    assert all(by_seq[a["seq"]] == a["id"] for a in acks)  # type: ignore[index]
    assert [b for _, _, b in stored] == bodies[0]
    # Each sender's own messages are in the order it sent them.
    for acct in accounts:
        mine = [b for b in bodies[0] if b.startswith(f"{acct.username} #")]
        assert mine == [f"{acct.username} #{i}" for i in range(n_sends)]


async def test_resume_delivers_every_missed_message_in_order_then_live(daemon: MemoryDaemon) -> None:
    alice, bob = await register(daemon, "alice"), await register(daemon, "bob")
    async with connect(daemon, alice) as a:
        ch = general_id(a)
        for i in range(5):
            await a.send_message(ch, f"before {i}")
        async with connect(daemon, bob) as b:
            await a.send_message(ch, "seen live")
            [live] = await b.wait_msgs(ch, 1)
            last_seen = live["seq"]
        for i in range(7):  # bob is away
            await a.send_message(ch, f"missed {i}")
        async with connect(daemon, bob, resume=[[ch, last_seen]]) as b2:
            replay = await b2.wait_msgs(ch, 7)
            caught = await b2.wait_push("caughtup", ch=ch)
            assert [m["body"] for m in replay] == [f"missed {i}" for i in range(7)]
            assert [m["seq"] for m in replay] == list(range(last_seen + 1, last_seen + 8))
            assert caught["seq"] == last_seen + 7
            await a.send_message(ch, "live again")
            msgs = await b2.wait_msgs(ch, 8)
            assert [m["seq"] for m in msgs] == list(range(last_seen + 1, last_seen + 9))


async def test_resume_while_messages_keep_arriving_has_no_gap_and_no_duplicate(daemon: MemoryDaemon) -> None:
    alice, bob = await register(daemon, "alice"), await register(daemon, "bob")
    async with connect(daemon, alice) as a:
        ch = general_id(a)
        for i in range(300):
            await a.send("send", ch=ch, cid=os.urandom(16), body=f"m{i}")
        async with trio.open_nursery() as nursery:
            async def keep_sending() -> None:
                for i in range(200):
                    await a.send("send", ch=ch, cid=os.urandom(16), body=f"during {i}")
                    await trio.lowlevel.checkpoint()

            nursery.start_soon(keep_sending)
            async with connect(daemon, bob, resume=[[ch, 0]]) as b:
                msgs = await b.wait_msgs(ch, 500)
        assert [m["seq"] for m in msgs] == list(range(1, 501))


async def test_resume_gap_over_the_cap_answers_resync(daemon: MemoryDaemon) -> None:
    cap = daemon.config.resume_cap
    alice = await register(daemon, "alice")
    async with connect(daemon, alice) as a:
        ch = general_id(a)
        pending = [await a.send("send", ch=ch, cid=os.urandom(16), body=f"m{i}") for i in range(cap + 2)]
        for rid in pending:
            await a.reply(rid)
    async with connect(daemon, alice, resume=[[ch, 1]]) as a2:
        resync = await a2.wait_push("resync", ch=ch)
        assert resync["seq"] == cap + 2
        assert a2.msgs(ch) == []
        ack = await a2.send_message(ch, "after resync")
        [live] = await a2.wait_msgs(ch, 1)
        assert live["seq"] == ack["seq"] == cap + 3


async def test_client_ahead_of_the_server_gets_resync(daemon: MemoryDaemon) -> None:
    alice = await register(daemon, "alice")
    async with connect(daemon, alice) as a:
        ch = general_id(a)
    async with connect(daemon, alice, resume=[[ch, 999]]) as a2:
        resync = await a2.wait_push("resync", ch=ch)
        assert resync["seq"] == 0


async def test_history_pages_backwards_with_keyset(daemon: MemoryDaemon) -> None:
    alice = await register(daemon, "alice")
    async with connect(daemon, alice) as a:
        ch = general_id(a)
        for rid in [await a.send("send", ch=ch, cid=os.urandom(16), body=f"m{i}") for i in range(120)]:
            await a.reply(rid)
        latest = await a.ok("history", ch=ch, limit=50)
        assert [m["seq"] for m in latest["messages"]] == list(range(71, 121)) and latest["more"] is True
        older = await a.ok("history", ch=ch, before=71, limit=50)
        assert [m["seq"] for m in older["messages"]] == list(range(21, 71)) and older["more"] is True
        oldest = await a.ok("history", ch=ch, before=21, limit=50)
        assert [m["seq"] for m in oldest["messages"]] == list(range(1, 21)) and oldest["more"] is False
        newer = await a.ok("history", ch=ch, after=110, limit=5)
        assert [m["seq"] for m in newer["messages"]] == list(range(111, 116)) and newer["more"] is True
        around = await a.ok("around", ch=ch, seq=60, limit=10)
        assert [m["seq"] for m in around["messages"]] == list(range(55, 65))
        assert around["more_before"] is True and around["more_after"] is True
        edge = await a.ok("around", ch=ch, seq=2, limit=10)
        assert edge["messages"][0]["seq"] == 1 and edge["more_before"] is False


async def test_read_markers_and_unread_counts_across_devices(daemon: MemoryDaemon) -> None:
    alice, bob = await register(daemon, "alice"), await register(daemon, "bob")
    async with connect(daemon, alice) as a:
        ch = general_id(a)
        for i in range(5):
            await a.send_message(ch, f"m{i}")
    async with connect(daemon, bob) as phone, connect(daemon, bob) as laptop:
        info = next(c for c in phone.hello["channels"] if c["id"] == ch)  # type: ignore[attr-defined]
        assert info["unread"] == 5 and info["last_seq"] == 5
        await phone.ok("read", ch=ch, seq=3)
        marker = await laptop.wait_push("read", ch=ch)
        assert marker["seq"] == 3
        await phone.ok("read", ch=ch, seq=1)  # never backwards
        listing = await laptop.ok("channels")
        info = next(c for c in listing["channels"] if c["id"] == ch)
        assert (info["read_seq"], info["unread"]) == (3, 2)
        await phone.ok("read", ch=ch, seq=10**9)  # clamped to the end
        listing = await laptop.ok("channels")
        assert next(c for c in listing["channels"] if c["id"] == ch)["unread"] == 0


async def test_own_messages_do_not_count_as_unread(daemon: MemoryDaemon) -> None:
    alice = await register(daemon, "alice")
    async with connect(daemon, alice) as a:
        ch = general_id(a)
        await a.send_message(ch, "talking to myself")
        listing = await a.ok("channels")
        assert next(c for c in listing["channels"] if c["id"] == ch)["unread"] == 0


async def test_ping_answers_ok(daemon: MemoryDaemon) -> None:
    alice = await register(daemon, "alice")
    async with connect(daemon, alice) as a:
        reply = await a.request("ping")
        assert reply == {"op": "ok", "rid": reply["rid"]}


async def test_shutdown_closes_websockets_with_1001(server: RunningServer) -> None:
    alice = await register(server, "alice")
    async with connect(server, alice) as a:
        ch = general_id(a)
        ack = await a.send_message(ch, "last words")
        server.shutdown.set()
        closed = await a.wait_closed()
        assert closed.code == 1001
    assert await server.db.fetchval("t", "SELECT body FROM messages WHERE id = $1", ack["id"]) == "last words"


async def test_connections_leave_the_registry_when_they_close(daemon: MemoryDaemon) -> None:
    alice = await register(daemon, "alice")
    async with connect(daemon, None, token=alice.token) as a:  # token auth, no cookie
        assert len(daemon.state.connections) == 1
        assert daemon.state.connections.of_user(a.hello["user"]["id"])  # type: ignore[attr-defined]
    async with connect(daemon, alice):
        assert len(daemon.state.connections) == 1
    with trio.fail_after(5):
        while len(daemon.state.connections):
            await trio.testing.wait_all_tasks_blocked(0.01)
    assert len(daemon.state.connections) == 0
    assert daemon.state.presence.state(alice.user_id) == "offline"


async def test_frames_queued_together_travel_in_one_message(daemon: MemoryDaemon) -> None:
    """A daemon message is a CBOR sequence: a burst reaches a client in fewer messages."""
    alice, bob = await register(daemon, "alice"), await register(daemon, "bob")
    async with connect(daemon, alice) as a, connect(daemon, bob) as b:
        ch = general_id(a)
        rids = [await a.send("send", ch=ch, cid=os.urandom(16), body=f"burst {i}") for i in range(300)]
        for rid in rids:
            assert (await a.reply(rid))["op"] == "ack"
        msgs = await b.wait_msgs(ch, 300)
        assert [m["seq"] for m in msgs] == list(range(1, 301))
        assert b.messages < len(b.received), "every frame came in a message of its own"
