"""The stream's property (docs/architecture.md, "The stream"; PROTOCOL.md §10): for any interleaving
of sends, edits, deletes, mention changes and read markers, with a client disconnecting at any
point and resuming, the state the client builds from what it was sent equals a fresh snapshot —
history (every message as it is now) and the channel's counts — and it received every stream
position after its first hello exactly once.

Generated with hypothesis: ``CASES`` cases (≥ 1,000), each on a channel of its own in one
daemon (the ``daemon`` fixture: real sessions over memory transports, a real PostgreSQL). The
generated steps run in the test's Trio loop (``trio.from_thread.run`` from hypothesis' thread).
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from typing import Any

import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.client import Account, Client, connect, register
from tests.helpers.memory import MemoryDaemon
from tests.helpers.stream import Mirror

CASES = int(os.environ.get("CHATD_STREAM_CASES", "1000"))
TEST_CEILING_SECS = 1800  # ~1000 cases at a few hundred ms each, on a shared 2-core machine
STEP_CEILING_SECS = 30
PEOPLE = ("a", "b", "c", "d")  # a: the channel's owner; b: a member; c: the client under test; d: not a member

MENTIONS = st.lists(st.sampled_from(("b", "c", "d")), max_size=3, unique=True)
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("send"), st.sampled_from(("a", "b")), MENTIONS, st.booleans()),
        st.tuples(st.just("edit"), st.integers(0, 30), MENTIONS, st.booleans()),
        st.tuples(st.just("delete"), st.integers(0, 30), st.booleans()),
        st.tuples(st.just("read")),
        st.tuples(st.just("drop"), st.integers(0, 4)),  # checkpoints before the cut: frames in flight are lost
        st.tuples(st.just("back")),
    ),
    min_size=1,
    max_size=16,
)


@dataclass
class World:
    daemon: MemoryDaemon
    accounts: dict[str, Account]
    clients: dict[str, Client]
    cases: itertools.count[int] = field(default_factory=itertools.count)
    ran: int = 0


class Observer:
    """User c's client: connects, drops, resumes, and feeds its mirror every frame it got."""

    def __init__(self, world: World, ch: int) -> None:
        self.world = world
        self.mirror = Mirror(ch, world.accounts["c"].user_id)
        self.client: Client | None = None
        self._stack: Any = None
        self._seen = 0

    async def connect(self) -> None:
        resume = [[self.mirror.ch, self.mirror.pos]] if self.mirror.as_of >= 0 else None
        self._stack = connect(self.world.daemon, self.world.accounts["c"], resume=resume)
        self.client = await self._stack.__aenter__()
        self._seen = 0
        channel = next(c for c in self.client.hello["channels"] if c["id"] == self.mirror.ch)  # type: ignore[attr-defined]
        self.mirror.hello(channel, resumed=resume is not None)
        self.absorb()

    def absorb(self) -> None:
        assert self.client is not None
        frames = self.client.received
        for f in frames[self._seen:]:
            self.mirror.frame(f)
        self._seen = len(frames)

    async def drop(self, checkpoints: int) -> None:
        for _ in range(checkpoints):
            await trio.lowlevel.checkpoint()
        self.absorb()  # what arrived until now was seen; the rest is lost with the socket
        await self._stack.__aexit__(None, None, None)
        self.client = None

    async def read(self) -> None:
        assert self.client is not None
        rid = await self.client.send("read", ch=self.mirror.ch, seq=self.mirror.pos)
        self.mirror.read_rids.add(rid)
        await self.client.reply(rid)  # the reply frame is also in `received`, in its place
        self.absorb()

    async def settle(self, last_seq: int) -> None:
        """Until everything up to the channel's end has arrived."""
        assert self.client is not None
        while True:
            self.absorb()
            if self.mirror.pos >= last_seq and not self.mirror.read_rids:
                return
            await self.client._changed.wait()


async def _case(world: World, steps: list[tuple[Any, ...]]) -> None:
    a, b = world.clients["a"], world.clients["b"]
    name = f"prop-{os.getpid()}-{next(world.cases)}"
    ch = (await a.ok("channel.create", name=name, private=True))["channel"]["id"]
    for who in ("b", "c"):
        await a.ok("channel.invite", ch=ch, user=world.accounts[who].username)
    observer = Observer(world, ch)
    await observer.connect()
    try:
        await _steps(world, ch, observer, steps)
    finally:
        if observer.client is not None:  # a failed case: close its socket in this task
            await observer.drop(0)
    await b.ok("channel.leave", ch=ch)
    await a.ok("channel.leave", ch=ch)
    world.ran += 1


async def _steps(world: World, ch: int, observer: Observer, steps: list[tuple[Any, ...]]) -> None:
    a = world.clients["a"]
    ids = {n: acct.user_id for n, acct in world.accounts.items()}
    start = observer.mirror.pos
    sent: list[tuple[int, str]] = []  # (seq, author)
    for step in steps:
        kind = step[0]
        if kind == "send":
            _, who, mentioned, everyone = step
            fields: dict[str, Any] = {"all": everyone} if everyone else {}
            if mentioned:
                fields["mentions"] = [ids[m] for m in mentioned]
            ack = await world.clients[who].ok("send", ch=ch, cid=os.urandom(16), body=f"{who} says {len(sent)}", **fields)
            sent.append((ack["seq"], who))
        elif kind == "edit" and sent:
            _, pick, mentioned, everyone = step
            seq, author = sent[pick % len(sent)]
            fields = {"all": True} if everyone else {}
            if mentioned:
                fields["mentions"] = [ids[m] for m in mentioned]
            reply = await world.clients[author].request("edit", ch=ch, seq=seq, body=f"edited {pick}", **fields)
            assert reply["op"] == "ok" or reply["code"] == "not_found", reply
        elif kind == "delete" and sent:
            _, pick, by_owner = step
            seq, author = sent[pick % len(sent)]
            reply = await (a if by_owner else world.clients[author]).request("delete", ch=ch, seq=seq)
            assert reply["op"] == "ok" or reply["code"] == "not_found", reply
        elif kind == "read" and observer.client is not None:
            await observer.read()
        elif kind == "drop" and observer.client is not None:
            await observer.drop(step[1])
        elif kind == "back" and observer.client is None:
            await observer.connect()
        if observer.client is not None:
            observer.absorb()
    if observer.client is None:
        await observer.connect()
    assert observer.client is not None
    last_seq = await world.daemon.db.fetchval("t.end", "SELECT last_seq FROM channels WHERE id = $1", ch)
    await observer.settle(last_seq)
    # The snapshot: every message as it is now (history), and the channel as c sees it now.
    snapshot: dict[int, dict[str, Any]] = {}
    before = None
    while True:
        page = await observer.client.ok("history", ch=ch, limit=100, **({"before": before} if before else {}))
        snapshot.update({m["seq"]: m for m in page["messages"]})
        if not page["more"]:
            break
        before = page["messages"][0]["seq"]
    info = next(c for c in (await observer.client.ok("channels"))["channels"] if c["id"] == ch)
    m = observer.mirror
    assert m.messages == snapshot, (steps, m.messages, snapshot)
    assert (m.unread, m.mentions) == (info["unread"], info["mentions"]), (steps, m, info)
    assert m.pos == info["last_seq"] == last_seq
    assert m.positions == list(range(start + 1, last_seq + 1)), (steps, m.positions, start, last_seq)
    # Everyone leaves (b and a after this): nobody collects a thousand channels, every hello stays small.
    await observer.client.ok("channel.leave", ch=ch)
    await observer.drop(0)


async def test_replay_equals_snapshot(daemon: MemoryDaemon) -> None:
    accounts = {p: await register(daemon, f"{p}prop") for p in PEOPLE}
    async with connect(daemon, accounts["a"]) as a, connect(daemon, accounts["b"]) as b:
        world = World(daemon, accounts, {"a": a, "b": b})

        @settings(max_examples=CASES, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(STEPS)
        def check(steps: list[tuple[Any, ...]]) -> None:
            async def run() -> None:
                with trio.fail_after(STEP_CEILING_SECS):
                    await _case(world, steps)

            trio.from_thread.run(run)

        with trio.fail_after(TEST_CEILING_SECS):
            await trio.to_thread.run_sync(check)
    assert world.ran >= CASES, f"only {world.ran} cases ran"
