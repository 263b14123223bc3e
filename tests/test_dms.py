"""Direct message conversations (feature "dms", PROTOCOL.md §5.20–5.21): the same people always get
the same conversation, nobody else can see or reach it, its people are fixed, and it is a channel
in every other way (messages, unread, search with ``dm:``)."""

from __future__ import annotations

import trio

from tests.helpers.client import connect, register
from tests.helpers.memory import MemoryDaemon
from tests.helpers.search import bodies

CEILING_SECS = 30


async def test_the_same_pair_twice_is_one_conversation(daemon: MemoryDaemon) -> None:
    alice, bob = await register(daemon, "alice", "Alice A."), await register(daemon, "bob", "Bob B.")
    with trio.fail_after(CEILING_SECS):
        async with connect(daemon, alice) as a, connect(daemon, bob) as b:
            first = (await a.ok("dm.open", users=["bob"]))["channel"]
            assert first["name"] == "Bob B." and first["private"] is True
            assert first["dm"] == [{"id": bob.user_id, "name": "bob", "display": "Bob B."}]
            added = await b.wait_push("channel.added")
            assert added["channel"]["id"] == first["id"] and added["channel"]["name"] == "Alice A."
            again = (await b.ok("dm.open", users=["@Alice"]))["channel"]  # the other way round, any case
            assert again["id"] == first["id"]
            assert (await a.ok("dm.open", users=["bob", "alice"]))["channel"]["id"] == first["id"]
            assert not [p for p in b.pushes if p["op"] == "channel.added"], "announced once, when made"
            count = await daemon.db.fetchval("t.n", "SELECT count(*) FROM channels WHERE kind = 'dm'")
            assert count == 1


async def test_a_third_person_cannot_read_or_reach_it(daemon: MemoryDaemon) -> None:
    alice, bob, carol = [await register(daemon, n) for n in ("alice", "bob", "carol")]
    with trio.fail_after(CEILING_SECS):
        async with connect(daemon, alice) as a, connect(daemon, bob) as b, connect(daemon, carol) as c:
            ch = (await a.ok("dm.open", users=["bob"]))["channel"]["id"]
            ack = await a.send_message(ch, "just between us")
            assert (await b.wait_msgs(ch, 1))[0]["body"] == "just between us"

            async def code(op: str, **fields: object) -> str:
                reply = await c.request(op, ch=ch, **fields)
                return "ok" if reply["op"] == "ok" else str(reply["code"])

            for op, fields in (("history", {}), ("members", {}), ("versions", {"seq": ack["seq"]}),
                               ("around", {"seq": ack["seq"]}), ("channel.join", {}), ("read", {"seq": 1}),
                               ("edit", {"seq": ack["seq"], "body": "x"}), ("delete", {"seq": ack["seq"]}),
                               ("typing", {})):
                assert await code(op, **fields) == "not_found", op
            reply = await c.request("send", ch=ch, cid=b"c" * 16, body="let me in")
            assert reply["code"] == "not_found"
            assert not [p for p in c.received if p.get("ch") == ch]
            assert bodies(await c.ok("search", q="between")) == []
            assert bodies(await c.ok("search", q="dm:@alice between")) == []
            listed = (await c.ok("browse"))["channels"]
            assert ch not in [x["id"] for x in listed]
            assert ch not in [x["id"] for x in (await a.ok("browse"))["channels"]], "never browsable"


async def test_its_people_are_fixed_and_up_to_eight(daemon: MemoryDaemon) -> None:
    people = [await register(daemon, f"p{i}") for i in range(9)]
    with trio.fail_after(CEILING_SECS):
        async with connect(daemon, people[0]) as a:
            names = [p.username for p in people[1:8]]
            group = (await a.ok("dm.open", users=names))["channel"]
            assert len(group["dm"]) == 7
            assert (await a.ok("dm.open", users=list(reversed(names))))["channel"]["id"] == group["id"]
            too_many = await a.request("dm.open", users=[p.username for p in people[1:9]])
            assert too_many["code"] == "bad_frame"
            unknown = await a.request("dm.open", users=["p1", "nobody"])
            assert unknown["code"] == "user_not_found" and "nobody" in unknown["message"]
            for op, fields in (("channel.leave", {}), ("channel.invite", {"user": "p8"})):
                reply = await a.request(op, ch=group["id"], **fields)
                assert reply["code"] == "forbidden", (op, reply)
            members = (await a.ok("members", ch=group["id"]))["members"]
            assert len(members) == 8 and all(m["role"] == "member" for m in members)
            notes = (await a.ok("dm.open", users=["p0"]))["channel"]
            assert notes["dm"] == [] and notes["id"] != group["id"], "only myself: my notes"


async def test_a_conversation_is_a_channel_for_unread_resume_and_search(daemon: MemoryDaemon) -> None:
    alice, bob = await register(daemon, "alice"), await register(daemon, "bob")
    with trio.fail_after(CEILING_SECS):
        async with connect(daemon, alice) as a:
            ch = (await a.ok("dm.open", users=["bob"]))["channel"]["id"]
            await a.send_message(ch, "the quokka left")
            await a.send_message(ch, "the spare key is under the mat")
            await a.ok("channel.create", name="Bob")  # a channel named like the conversation: no clash
        async with connect(daemon, bob) as b:
            dm = next(x for x in b.hello["channels"] if x["id"] == ch)  # type: ignore[attr-defined]
            assert (dm["unread"], dm["notify"], dm["name"]) == (2, "all", "Alice")
            assert bodies(await b.ok("search", q="dm:@alice key")) == ["the spare key is under the mat"]
            assert bodies(await b.ok("search", q="quokka -dm:alice")) == []
            first = (await b.ok("history", ch=ch))["messages"][0]["seq"]
        async with connect(daemon, alice) as a:
            await a.send_message(ch, "did you find it?")
        async with connect(daemon, bob, resume=[[ch, first + 1]]) as b:
            await b.wait_push("caughtup", ch=ch)
            assert [m["body"] for m in b.msgs(ch)] == ["did you find it?"]


async def test_users_finds_people_to_write_to(daemon: MemoryDaemon) -> None:
    alice = await register(daemon, "alice")
    await register(daemon, "jose", "José Núñez")
    await register(daemon, "bob", "Bob")
    with trio.fail_after(CEILING_SECS):
        async with connect(daemon, alice) as a:
            assert [u["name"] for u in (await a.ok("users", q="nunez"))["users"]] == ["jose"]
            assert [u["name"] for u in (await a.ok("users", q="@bo"))["users"]] == ["bob"]
            everyone = (await a.ok("users", limit=2))["users"]
            assert [u["name"] for u in everyone] == ["alice", "bob"]
            await daemon.db.execute("t.off", "UPDATE users SET disabled_at = now() WHERE username = 'bob'")
            assert (await a.ok("users", q="bob"))["users"] == []
            assert (await a.request("dm.open", users=["bob"]))["code"] == "user_not_found"
