"""Mentions and counts (feature "mentions", PROTOCOL.md §5.9, §10.3): structured mentions kept only
for members, per-user unread and mention counts that edits and deletes move on every device at
once, `@channel`, and `is:mention` by the stored ids, never the text."""

from __future__ import annotations

import os
from typing import Any

import trio

from tests.helpers.client import Account, Client, connect, register
from tests.helpers.memory import MemoryDaemon
from tests.helpers.search import bodies

CEILING_SECS = 30


async def _room(a: Client, name: str, *members: Account) -> int:
    ch: int = (await a.ok("channel.create", name=name))["channel"]["id"]
    for m in members:
        await a.ok("channel.invite", ch=ch, user=m.username)
    return ch


async def _counts(c: Client, ch: int) -> tuple[int, int]:
    info = next(x for x in (await c.ok("channels"))["channels"] if x["id"] == ch)
    return info["unread"], info["mentions"]


async def _say(c: Client, ch: int, body: str, **fields: Any) -> dict[str, Any]:
    return await c.ok("send", ch=ch, cid=os.urandom(16), body=body, **fields)


async def test_counts_follow_edits_on_every_device_of_the_user(daemon: MemoryDaemon) -> None:
    alice, bob = await register(daemon, "alice"), await register(daemon, "bob")
    with trio.fail_after(CEILING_SECS):
        async with connect(daemon, alice) as a, connect(daemon, bob) as phone, connect(daemon, bob) as laptop:
            ch = await _room(a, "ops", bob)
            await _say(a, ch, "plain")
            ack = await _say(a, ch, "@bob look", mentions=[bob.user_id])
            for device in (phone, laptop):
                pushed = (await device.wait_msgs(ch, 2))[1]
                assert pushed["mentions"] == [bob.user_id]
                assert await _counts(device, ch) == (2, 1)
            # an edit that removes the mention: both devices get the new counts, no notification
            edit = await a.ok("edit", ch=ch, seq=ack["seq"], body="look")
            for device in (phone, laptop):
                counts = await device.wait_push("counts", ch=ch)
                assert (counts["seq"], counts["unread"], counts["mentions"]) == (edit["seq"], 2, 0)
                assert "mention" not in counts
            # adding it back notifies the newly mentioned (and only them: alice gets no counts)
            edit = await a.ok("edit", ch=ch, seq=ack["seq"], body="@bob look again", mentions=[bob.user_id])
            for device in (phone, laptop):
                counts = await device.wait_push("counts", ch=ch)
                assert (counts["unread"], counts["mentions"], counts["mention"]) == (2, 1, ack["seq"])
            assert not [p for p in a.pushes if p["op"] == "counts"]
            # an edit that keeps the mention moves nothing: no counts push at all
            await a.ok("edit", ch=ch, seq=ack["seq"], body="@bob look once more", mentions=[bob.user_id])
            await phone.wait_push("msg.changed", ch=ch, seq=edit["seq"] + 1)
            assert not [p for p in phone.pushes if p["op"] == "counts"]
            # reading on the phone: its reply and the laptop's push carry the counts after it
            end = edit["seq"] + 1
            read = await phone.ok("read", ch=ch, seq=end)
            assert (read["seq"], read["unread"], read["mentions"], read["last_seq"]) == (end, 0, 0, end)
            marker = await laptop.wait_push("read", ch=ch)
            assert (marker["seq"], marker["unread"], marker["mentions"], marker["last_seq"]) == (end, 0, 0, end)


async def test_unread_counts_only_messages_never_changes_or_tombstones(daemon: MemoryDaemon) -> None:
    alice, bob = await register(daemon, "alice"), await register(daemon, "bob")
    with trio.fail_after(CEILING_SECS):
        async with connect(daemon, alice) as a, connect(daemon, bob) as b:
            ch = await _room(a, "ops", bob)
            acks = [await _say(a, ch, f"m{i}") for i in range(3)]
            await a.ok("edit", ch=ch, seq=acks[0]["seq"], body="m0 edited")
            assert await _counts(b, ch) == (3, 0), "an edit is no new message"
            gone = await a.ok("delete", ch=ch, seq=acks[1]["seq"])
            counts = await b.wait_push("counts", ch=ch)
            assert (counts["seq"], counts["unread"], counts["mentions"]) == (gone["seq"], 2, 0)
            assert await _counts(b, ch) == (2, 0)
            await _say(b, ch, "mine")  # my own messages never count
            assert await _counts(b, ch) == (2, 0)
            assert await _counts(a, ch) == (1, 0), "alice: bob's one message"


async def test_channel_mention_counts_for_everyone_but_its_author(daemon: MemoryDaemon) -> None:
    alice, bob, carol = [await register(daemon, n) for n in ("alice", "bob", "carol")]
    with trio.fail_after(CEILING_SECS):
        async with connect(daemon, alice) as a, connect(daemon, bob) as b, connect(daemon, carol) as c:
            ch = await _room(a, "ops", bob, carol)
            ack = await _say(a, ch, "@channel lunch", all=True)
            assert (await b.wait_msgs(ch, 1))[0]["all"] is True
            assert await _counts(b, ch) == (1, 1) and await _counts(c, ch) == (1, 1)
            assert await _counts(a, ch) == (0, 0)
            await a.ok("edit", ch=ch, seq=ack["seq"], body="lunch")  # @channel taken back
            for who in (b, c):
                counts = await who.wait_push("counts", ch=ch)
                assert (counts["unread"], counts["mentions"]) == (1, 0)


async def test_a_mention_of_someone_not_in_the_channel_is_dropped(daemon: MemoryDaemon) -> None:
    alice, bob, dave = [await register(daemon, n) for n in ("alice", "bob", "dave")]
    with trio.fail_after(CEILING_SECS):
        async with connect(daemon, alice) as a, connect(daemon, dave) as d:
            ch = await _room(a, "ops", bob)
            ack = await _say(a, ch, "@bob @dave look", mentions=[dave.user_id, bob.user_id, 999_999])
            [own] = await a.wait_msgs(ch, 1)
            assert own["mentions"] == [bob.user_id], "only current members are kept"
            stored = await daemon.db.fetchval("t.m", "SELECT mentions FROM messages WHERE id = $1", ack["id"])
            assert stored == [bob.user_id]
            edit = await a.ok("edit", ch=ch, seq=ack["seq"], body="@dave look", mentions=[dave.user_id])
            assert edit["v"] == 2
            assert "mentions" not in (await a.wait_push("msg.changed", ch=ch))["message"]
            # dave, not a member, learns nothing: no push, no search hit
            assert not [p for p in d.pushes if p.get("ch") == ch]
            assert bodies(await d.ok("search", q="is:mention")) == []


async def test_is_mention_searches_the_stored_ids_not_the_text(daemon: MemoryDaemon) -> None:
    alice, bob = await register(daemon, "alice"), await register(daemon, "bob")
    with trio.fail_after(CEILING_SECS):
        async with connect(daemon, alice) as a, connect(daemon, bob) as b:
            ch = await _room(a, "ops", bob)
            await _say(a, ch, "@bob typed but not picked")
            ack = await _say(a, ch, "hey you", mentions=[bob.user_id])
            await _say(a, ch, "all hands", all=True)
            assert sorted(bodies(await b.ok("search", q="is:mention"))) == ["all hands", "hey you"]
            assert bodies(await b.ok("search", q="-is:mention in:ops")) == ["@bob typed but not picked"]
            assert bodies(await a.ok("search", q="is:mention")) == ["all hands"], "my own @channel counts"
            await a.ok("edit", ch=ch, seq=ack["seq"], body="hey you")  # the mention taken back
            assert bodies(await b.ok("search", q="is:mention")) == ["all hands"]
