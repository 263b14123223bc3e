"""The hub against a real PostgreSQL: group commit, dense seqs, exactly-once, ordered fan-out."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
import trio
import trio.testing

from chatd.hub import Hub, SendRequest
from chatd.store import Database, StoreError
from chatd.store.messages import Posted, post_messages
from chatd.wire import decode_server_frame


class Recorder:
    """A subscriber that keeps what it is given, like a connection's queue would."""

    def __init__(self) -> None:
        self.user_id = 0
        self.frames: list[dict[str, object]] = []
        self.seqs: list[int] = []

    def deliver(self, ch: int, seq: int, frame: bytes) -> None:
        self.seqs.append(seq)
        self.frames.append(decode_server_frame(frame))

    def deliver_ephemeral(self, ch: int, frame: bytes) -> None:
        self.frames.append(decode_server_frame(frame))


async def make_user(db: Database, name: str) -> int:
    uid: int = await db.fetchval(
        "t.user",
        "INSERT INTO users (username, username_key, display_name, password_hash) VALUES ($1, $1, $1, 'x') RETURNING id",
        name,
    )
    return uid


async def make_channel(db: Database, name: str) -> int:
    ch: int = await db.fetchval(
        "t.channel", "INSERT INTO channels (name, name_key) VALUES ($1, $1) RETURNING id", name
    )
    return ch


@pytest.fixture
async def hub(db: Database, nursery: trio.Nursery) -> AsyncIterator[Hub]:
    h = Hub(db)
    await nursery.start(h.run)
    yield h


async def send(hub: Hub, ch: int, uid: int, body: str, cid: bytes | None = None) -> Posted:
    """Post through the production path: submit to the actor, the result comes to ``on_done``."""
    done = trio.Event()
    req = SendRequest(uid, f"u{uid}", f"User {uid}", cid or os.urandom(16), body, lambda _: done.set())
    hub.actor(ch).submit(req)
    await done.wait()
    if isinstance(req.result, StoreError):
        raise req.result
    assert req.result is not None
    return req.result


async def test_seqs_are_dense_and_acks_match_storage(db: Database, hub: Hub) -> None:
    uid = await make_user(db, "alice")
    ch = await make_channel(db, "room")
    rec = Recorder()
    hub.subscribe(ch, rec)
    results = []

    async def one(i: int) -> None:
        results.append(await send(hub, ch, uid, f"m{i}"))

    async with trio.open_nursery() as n:
        for i in range(300):
            n.start_soon(one, i)
    seqs = sorted(r.seq for r in results if r.seq is not None)
    assert seqs == list(range(1, 301))
    stored = {r["seq"]: r["id"] for r in await db.fetch("t", "SELECT seq, id FROM messages WHERE channel_id = $1", ch)}
    assert {r.seq: r.id for r in results} == stored
    assert rec.seqs == list(range(1, 301))  # fanned out in order, each once


async def test_retried_cid_yields_the_same_message(db: Database, hub: Hub) -> None:
    uid = await make_user(db, "bob")
    ch = await make_channel(db, "retry")
    cid = os.urandom(16)
    first = await send(hub, ch, uid, "hello", cid)
    again = await send(hub, ch, uid, "hello", cid)
    assert (again.seq, again.id, again.existed) == (first.seq, first.id, True)
    assert await db.fetchval("t", "SELECT count(*) FROM messages WHERE channel_id = $1", ch) == 1


async def test_duplicate_cid_inside_one_batch_is_stored_once(db: Database) -> None:
    uid = await make_user(db, "carol")
    ch = await make_channel(db, "batch")
    cid = os.urandom(16)
    out = await post_messages(db, channel_id=ch, users=[uid, uid, uid], cids=[cid, os.urandom(16), cid], bodies=["a", "b", "a"])
    assert [p.existed for p in out] == [False, False, True]
    assert out[0].seq == out[2].seq == 1 and out[1].seq == 2
    assert await db.fetchval("t", "SELECT last_seq FROM channels WHERE id = $1", ch) == 2


async def test_post_to_missing_channel_reports_no_seq(db: Database) -> None:
    uid = await make_user(db, "dan")
    out = await post_messages(db, channel_id=999999, users=[uid], cids=[os.urandom(16)], bodies=["x"])
    assert out[0].seq is None


async def test_posting_probes_the_index_instead_of_scanning_messages(db: Database) -> None:
    """A send must cost the same at 20,000 stored messages as at 20: the retry lookup goes through
    the (user, cid) index. 0001's function hash-joined a sequential scan of the whole table."""
    uid = await make_user(db, "gus")
    ch = await make_channel(db, "big")
    await db.execute(
        "t.seed",
        """INSERT INTO messages (channel_id, seq, user_id, cid, body)
           SELECT $1, g, $2, decode(lpad(to_hex(g), 32, '0'), 'hex'), 'seed ' || g
           FROM generate_series(1, 20000) AS g""",
        ch, uid,
    )
    await db.execute("t.seed_seq", "UPDATE channels SET last_seq = 20000 WHERE id = $1", ch)
    await db.execute("t.analyze", "ANALYZE messages")
    retry_cid = bytes.fromhex(f"{77:032x}")  # seed message 77, sent again
    async with db.transaction("t.post") as tx:
        out = await post_messages(tx, channel_id=ch, users=[uid, uid], cids=[os.urandom(16), retry_cid], bodies=["new", "seed 77"])
        scans = await tx.fetchval(
            "t.scans", "SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = 'messages'"
        )
    assert [(p.seq, p.existed) for p in out] == [(20001, False), (77, True)]
    assert scans == 0


async def test_message_committed_elsewhere_is_fanned_out_in_order(db: Database, hub: Hub) -> None:
    """A commit by another writer (the CLI, another process) fills the gap before ours."""
    uid = await make_user(db, "erin")
    ch = await make_channel(db, "gap")
    rec = Recorder()
    hub.subscribe(ch, rec)
    await send(hub, ch, uid, "one")
    await post_messages(db, channel_id=ch, users=[uid], cids=[os.urandom(16)], bodies=["two (elsewhere)"])
    await send(hub, ch, uid, "three")
    assert rec.seqs == [1, 2, 3]
    assert [f["body"] for f in rec.frames] == ["one", "two (elsewhere)", "three"]


async def test_notify_catch_up_broadcasts_foreign_commit(db: Database, hub: Hub) -> None:
    uid = await make_user(db, "fay")
    ch = await make_channel(db, "notify")
    rec = Recorder()
    hub.subscribe(ch, rec)
    await send(hub, ch, uid, "mine")
    await post_messages(db, channel_id=ch, users=[uid], cids=[os.urandom(16)], bodies=["from the CLI"])
    hub.notify_committed(ch, 2)
    with trio.fail_after(10):
        while rec.seqs != [1, 2]:
            await trio.testing.wait_all_tasks_blocked(0.01)
    assert rec.frames[-1]["body"] == "from the CLI"


async def test_nothing_is_broadcast_when_the_commit_fails(db: Database, hub: Hub) -> None:
    ch = await make_channel(db, "fail")
    rec = Recorder()
    hub.subscribe(ch, rec)
    with pytest.raises(StoreError):
        await send(hub, ch, 123456789, "no such user: foreign key fails")  # nothing committed
    assert rec.seqs == []
    assert await db.fetchval("t", "SELECT last_seq FROM channels WHERE id = $1", ch) == 0


async def test_a_bug_in_an_actor_answers_its_senders_and_the_channel_recovers(
    db: Database, hub: Hub, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Crash policy: the bug is logged with its traceback, every waiting sender is answered
    (unavailable: retry with the same cid), the daemon goes on, the next send starts a new actor."""
    from chatd.hub import ChannelActor
    from chatd.store import Unavailable

    uid = await make_user(db, "hal")
    ch = await make_channel(db, "crash")
    real_post = ChannelActor._post
    calls = 0

    async def post_with_a_bug(self: ChannelActor, db: Database, sends: list[SendRequest]) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("a bug in the sequencer")
        await real_post(self, db, sends)

    monkeypatch.setattr(ChannelActor, "_post", post_with_a_bug)
    with pytest.raises(Unavailable):
        await send(hub, ch, uid, "meets the bug")
    assert "event=hub.actor_crashed" in caplog.text and "RuntimeError: a bug in the sequencer" in caplog.text
    after = await send(hub, ch, uid, "after the bug")
    assert after.seq == 1 and not after.existed
