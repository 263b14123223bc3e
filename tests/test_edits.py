"""Edits and deletes (feature "edits", PROTOCOL.md §5.17–5.19): each takes a stream position of its
own, reaches live clients as ``msg.changed`` and resuming ones by replay, keeps previous versions,
moves search to the current text, and a delete purges everything of the message but its place.
Who may change what, and when (the window)."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

import trio

from chatd.store.stream import change_message
from tests.helpers.client import Account, Client, connect, general_id, register
from tests.helpers.memory import MemoryDaemon
from tests.helpers.search import bodies
from tests.test_files_protocol import stored

CEILING_SECS = 30


async def _private(owner: Client, name: str, *invited: Account) -> int:
    ch: int = (await owner.ok("channel.create", name=name, private=True))["channel"]["id"]
    for acct in invited:
        await owner.ok("channel.invite", ch=ch, user=acct.username)
    return ch


async def test_an_edit_is_an_event_of_its_own_and_every_view_shows_the_current_text(daemon: MemoryDaemon) -> None:
    alice, bob = await register(daemon, "alice"), await register(daemon, "bob")
    with trio.fail_after(CEILING_SECS):
        async with connect(daemon, alice) as a, connect(daemon, bob) as b:
            ch = general_id(a)
            ack = await a.send_message(ch, "the backup runs at 2")
            await a.send_message(ch, "after it")
            ok = await a.ok("edit", ch=ch, seq=ack["seq"], body="the backup runs at 3")
            assert (ok["seq"], ok["v"]) == (ack["seq"] + 2, 2), "the next position, version 2"
            changed = await b.wait_push("msg.changed", ch=ch)
            m = changed["message"]
            assert changed["seq"] == ok["seq"] and m["seq"] == ack["seq"]
            assert (m["body"], m["v"], m["id"]) == ("the backup runs at 3", 2, ack["id"]) and m["edited"] >= m["ts"]
            assert (await a.wait_push("msg.changed", ch=ch))["message"] == m, "my other tabs too"
            # history: the current version in the message's own place; the page skips the change's position
            page = await b.ok("history", ch=ch)
            assert [(x["seq"], x.get("body"), x["v"]) for x in page["messages"]] == [
                (ack["seq"], "the backup runs at 3", 2), (ack["seq"] + 1, "after it", 1)]
            # the previous version is kept, and only members may read it
            versions = await b.ok("versions", ch=ch, seq=ack["seq"])
            assert [(v["v"], v["body"]) for v in versions["versions"]] == [(1, "the backup runs at 2")]
            # search finds the current text only
            assert bodies(await b.ok("search", q="3", order="newest")) == ["the backup runs at 3"]
            assert bodies(await b.ok("search", q="backup 2", order="newest")) == []
            # the same text and mentions again: nothing changes, no position is taken
            same = await a.ok("edit", ch=ch, seq=ack["seq"], body="the backup runs at 3")
            assert same == {"op": "ok", "rid": same["rid"], "v": 2}
            channels = (await b.ok("channels"))["channels"]
            assert next(c for c in channels if c["id"] == ch)["last_seq"] == ok["seq"]


async def test_a_resuming_client_gets_every_change_once_with_deleted_content_gone(daemon: MemoryDaemon) -> None:
    alice, bob = await register(daemon, "alice"), await register(daemon, "bob")
    with trio.fail_after(CEILING_SECS):
        async with connect(daemon, alice) as a:
            ch = general_id(a)
            async with connect(daemon, bob) as b:
                first = await a.send_message(ch, "first")
                [live] = await b.wait_msgs(ch, 1)
            secret = await a.send_message(ch, "my password is hunter2")
            await a.ok("edit", ch=ch, seq=first["seq"], body="first, edited")
            await a.ok("delete", ch=ch, seq=secret["seq"])
            async with connect(daemon, bob, resume=[[ch, live["seq"]]]) as b2:
                caught = await b2.wait_push("caughtup", ch=ch)
                events = [f for f in b2.received if f.get("ch") == ch and f["op"] in ("msg", "msg.changed")]
                assert [f["seq"] for f in events] == list(range(live["seq"] + 1, caught["seq"] + 1))
                assert [f["op"] for f in events] == ["msg", "msg.changed", "msg.changed"]
                tomb = events[0]  # the posting of the deleted message, replayed as it is now
                assert tomb["seq"] == secret["seq"] and tomb["deleted"] is True and "body" not in tomb
                assert events[1]["message"]["body"] == "first, edited"
                assert events[2]["message"]["deleted"] is True
                assert not any("hunter2" in repr(f) for f in b2.received), "deleted content never travels"
                page = await b2.ok("history", ch=ch)
                assert [(m["seq"], m.get("body"), m.get("deleted")) for m in page["messages"]] == [
                    (first["seq"], "first, edited", None), (secret["seq"], None, True)]


async def test_who_may_edit_and_delete_and_a_stranger_learns_nothing(daemon: MemoryDaemon) -> None:
    alice, bob, carol, admin, eve = [await register(daemon, n) for n in ("alice", "bob", "carol", "root", "eve")]
    await daemon.db.execute("t.admin", "UPDATE users SET is_admin = true WHERE id = $1", admin.user_id)
    with trio.fail_after(CEILING_SECS):
        async with connect(daemon, alice) as a, connect(daemon, bob) as b, connect(daemon, carol) as c, \
                connect(daemon, admin) as r, connect(daemon, eve) as e:
            ch = await _private(a, "leads", bob, carol, admin)  # alice owns it; eve is not in it

            async def code(who: Client, op: str, **fields: Any) -> str:
                reply = await who.request(op, ch=ch, **fields)
                return "ok" if reply["op"] == "ok" else str(reply["code"])

            seqs = [(await b.send_message(ch, f"bob's {i}"))["seq"] for i in range(4)]
            missing = seqs[-1] + 100
            # edit: only the author
            assert await code(b, "edit", seq=seqs[0], body="bob again") == "ok"
            for other in (c, a, r):  # another member, the owner, an admin
                assert await code(other, "edit", seq=seqs[0], body="not mine") == "forbidden"
            # a stranger to the private channel gets what a missing message gets: not_found
            for op, fields in (("edit", {"body": "x"}), ("delete", {}), ("versions", {})):
                assert await code(e, op, seq=seqs[0], **fields) == "not_found"
                assert await code(e, op, seq=missing, **fields) == "not_found"
                assert await code(b, op, seq=missing, **fields) == "not_found"
            # delete: the author, the owner, an admin; not another member
            assert await code(c, "delete", seq=seqs[1]) == "forbidden"
            assert await code(b, "delete", seq=seqs[1]) == "ok"
            assert await code(a, "delete", seq=seqs[2]) == "ok"
            assert await code(r, "delete", seq=seqs[3]) == "ok"
            # a tombstone is not a message any more
            assert await code(b, "edit", seq=seqs[1], body="back") == "not_found"
            assert await code(b, "delete", seq=seqs[1]) == "not_found"
            assert await code(b, "versions", seq=seqs[1]) == "not_found"


async def test_the_window_closes_for_the_author_not_for_the_owner(daemon: MemoryDaemon) -> None:
    alice, bob = await register(daemon, "alice"), await register(daemon, "bob")
    with trio.fail_after(CEILING_SECS):
        async with connect(daemon, alice) as a, connect(daemon, bob) as b:
            ch = await _private(a, "ops", bob)
            old = [(await b.send_message(ch, f"old {i}"))["seq"] for i in range(3)]
            fresh = (await b.send_message(ch, "fresh"))["seq"]
            window = daemon.config.edit_window_secs
            assert window == 900, "15 minutes by default"
            assert b.hello["limits"]["edit_secs"] == 900  # type: ignore[attr-defined]
            await daemon.db.execute(
                "t.age", "UPDATE messages SET created_at = created_at - make_interval(secs => $3) "
                "WHERE channel_id = $1 AND seq = ANY($2::bigint[])", ch, old, window + 1,
            )
            for op, fields in (("edit", {"body": "late"}), ("delete", {})):
                reply = await b.request(op, ch=ch, seq=old[0], **fields)
                assert (reply["op"], reply.get("code")) == ("error", "forbidden"), reply
                assert "15 minutes" in reply["message"]
            assert (await b.request("edit", ch=ch, seq=fresh, body="in time"))["op"] == "ok"
            assert (await a.request("delete", ch=ch, seq=old[0]))["op"] == "ok", "the owner: any time"
            # 0: no window at all
            daemon.state.config = replace(daemon.config, edit_window_secs=0)
            assert (await b.request("edit", ch=ch, seq=old[1], body="whenever"))["op"] == "ok"
            assert (await b.request("delete", ch=ch, seq=old[2]))["op"] == "ok"


async def test_a_delete_purges_the_text_versions_search_entry_and_unshared_files(daemon: MemoryDaemon) -> None:
    alice = await register(daemon, "alice")
    with trio.fail_after(CEILING_SECS):
        own = await stored(daemon, alice, b"only in this message\n" * 20, "plan.txt")
        shared = await stored(daemon, alice, b"the same bytes\n" * 20, "a.txt")
        again = await stored(daemon, alice, b"the same bytes\n" * 20, "b.txt")  # same content, another upload
        async with connect(daemon, alice) as a:
            ch = general_id(a)
            ack = await a.ok("send", ch=ch, cid=os.urandom(16), body="zebra plans", files=[own["id"], shared["id"]])
            await a.ok("send", ch=ch, cid=os.urandom(16), body="keeps it", files=[again["id"]])
            await a.ok("edit", ch=ch, seq=ack["seq"], body="zebra plans v2")
            blobs = {r["key"]: bytes(r["sha256"]) for r in await daemon.db.fetch(
                "t.blobs", "SELECT key, sha256 FROM attachments WHERE key = ANY($1::text[])",
                [own["id"], shared["id"]])}
            files = daemon.state.files.blobs
            assert all(files.has_blob(sha) for sha in blobs.values())
            await a.ok("delete", ch=ch, seq=ack["seq"])
            row = await daemon.db.fetchrow(
                "t.row", "SELECT body, mentions, deleted_at IS NOT NULL AS deleted, has_files, "
                "(SELECT count(*) FROM message_versions v WHERE v.message_id = m.id) AS versions, "
                "(SELECT count(*) FROM message_search s WHERE s.id = m.id) AS indexed, "
                "(SELECT count(*) FROM attachments x WHERE x.message_id = m.id) AS attached "
                "FROM messages m WHERE id = $1", ack["id"])
            assert row is not None
            assert dict(row) == {"body": "", "mentions": [], "deleted": True, "has_files": False, "versions": 0,
                                 "indexed": 0, "attached": 0}
            assert not files.has_blob(blobs[own["id"]]), "content no other upload has: gone at once"
            assert files.has_blob(blobs[shared["id"]]), "content another upload shares: kept"
            assert bodies(await a.ok("search", q="zebra", order="newest")) == []


async def test_a_change_by_another_writer_reaches_live_clients_in_order(daemon: MemoryDaemon) -> None:
    """An edit committed outside this process's actor (another process; the CLI) wakes the actor
    through NOTIFY, which reads it back and pushes it at its position."""
    alice, bob = await register(daemon, "alice"), await register(daemon, "bob")
    with trio.fail_after(CEILING_SECS):
        async with connect(daemon, alice) as a, connect(daemon, bob) as b:
            ch = general_id(a)
            ack = await a.send_message(ch, "typo here")
            await b.wait_msgs(ch, 1)
            changed = await change_message(daemon.db, channel_id=ch, seq=ack["seq"], user_id=alice.user_id,
                                           delete=False, body="no typo here")
            assert changed.status == "ok"
            push = await b.wait_push("msg.changed", ch=ch)
            assert (push["seq"], push["message"]["body"], push["message"]["v"]) == (changed.pos, "no typo here", 2)
