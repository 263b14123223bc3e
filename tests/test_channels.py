"""Channels over the protocol: create, browse, join, leave, invite, members, live events, and
private channels that non-members cannot tell apart from channels that do not exist."""

from __future__ import annotations

import os

import trio

from tests.helpers.client import Client, connect, general_id, register
from tests.helpers.memory import MemoryDaemon


async def test_create_public_channel_and_another_user_joins(daemon: MemoryDaemon) -> None:
    alice, bob = await register(daemon, "alice"), await register(daemon, "bob")
    async with connect(daemon, alice) as a, connect(daemon, alice) as a_tab2, connect(daemon, bob) as b:
        made = await a.ok("channel.create", name="Ürün-Planung 🚀", description="roadmap")
        ch = made["channel"]
        assert ch["role"] == "owner" and ch["private"] is False and ch["name"] == "Ürün-Planung 🚀"
        added = await a_tab2.wait_push("channel.added")
        assert added["channel"]["id"] == ch["id"]
        page = await b.ok("browse", q="ürün")
        [found] = page["channels"]
        assert (found["id"], found["members"], found["joined"]) == (ch["id"], 1, False)
        joined = await b.ok("channel.join", ch=ch["id"])
        assert joined["channel"]["role"] == "member"
        event = await a.wait_push("member.joined", ch=ch["id"])
        assert event["member"]["name"] == "bob"
        again = await b.ok("channel.join", ch=ch["id"])  # idempotent
        assert again["channel"]["id"] == ch["id"]
        members = await a.ok("members", ch=ch["id"])
        assert sorted((m["name"], m["role"]) for m in members["members"]) == [("alice", "owner"), ("bob", "member")]
        ack = await b.send_message(ch["id"], "hi from bob")
        [msg] = await a.wait_msgs(ch["id"], 1)
        assert msg["seq"] == ack["seq"]


async def test_name_taken_case_insensitively_with_existing_id_for_public(daemon: MemoryDaemon) -> None:
    alice = await register(daemon, "alice")
    async with connect(daemon, alice) as a:
        pub = await a.ok("channel.create", name="Random")
        err = await a.request("channel.create", name="RANDOM")
        assert err["code"] == "name_taken" and err["existing"] == pub["channel"]["id"]
        await a.ok("channel.create", name="secret", private=True)
        err = await a.request("channel.create", name="Secret")
        assert err["code"] == "name_taken" and "existing" not in err


async def test_racing_creates_of_one_name_exactly_one_wins(daemon: MemoryDaemon) -> None:
    accounts = [await register(daemon, f"racer{i}") for i in range(6)]
    replies: list[dict[str, object]] = []

    async def create(acct, task_status):  # type: ignore[no-untyped-def]
        async with connect(daemon, acct) as c:
            task_status.started()
            await go.wait()
            replies.append(await c.request("channel.create", name="Launch"))

    go = trio.Event()
    async with trio.open_nursery() as nursery:
        for acct in accounts:
            await nursery.start(create, acct)
        go.set()
    winners = [r for r in replies if r["op"] == "ok"]
    losers = [r for r in replies if r["op"] == "error"]
    assert len(winners) == 1 and len(losers) == 5
    assert all(r["code"] == "name_taken" for r in losers)


async def test_invalid_channel_names(daemon: MemoryDaemon) -> None:
    alice = await register(daemon, "alice")
    async with connect(daemon, alice) as a:
        for name in ["", "   ", "x" * 81, "evil\u202egnp.exe", "tab\tname", "\x01"]:
            err = await a.request("channel.create", name=name)
            assert err["code"] == "invalid_name", (name, err)
        err = await a.request("channel.create", name="\x00")  # the codec refuses it (§3.2)
        assert err["code"] == "bad_frame", err
        ok = await a.ok("channel.create", name="x" * 80)
        assert len(ok["channel"]["name"]) == 80
        ok = await a.ok("channel.create", name="👨‍👩‍👧 family")  # joiners inside emoji are fine
        assert ok["channel"]["name"] == "👨‍👩‍👧 family"


async def test_browse_pages_through_many_channels(daemon: MemoryDaemon) -> None:
    alice = await register(daemon, "alice")
    async with connect(daemon, alice) as a:
        for rid in [await a.send("channel.create", name=f"room-{i:03d}") for i in range(120)]:
            assert (await a.reply(rid))["op"] == "ok"
        seen: list[str] = []
        after = None
        while True:
            fields = {"limit": 50} | ({"after": after} if after else {})
            page = await a.ok("browse", **fields)
            seen += [c["name"] for c in page["channels"]]
            after = page.get("next")
            if after is None:
                break
        assert seen == sorted(seen, key=str.casefold)
        assert len([n for n in seen if n.startswith("room-")]) == 120
        assert "general" in seen
        filtered = await a.ok("browse", q="ROOM-11")
        assert [c["name"] for c in filtered["channels"]] == [f"room-{i}" for i in range(110, 120)]


async def test_leave_stops_delivery_and_tells_the_others(daemon: MemoryDaemon) -> None:
    alice, bob = await register(daemon, "alice"), await register(daemon, "bob")
    async with connect(daemon, alice) as a, connect(daemon, bob) as b, connect(daemon, bob) as b2:
        ch = general_id(a)
        await b.ok("channel.leave", ch=ch)
        await b2.wait_push("channel.removed", ch=ch)
        left = await a.wait_push("member.left", ch=ch)
        assert left["user"] == b.hello["user"]["id"]  # type: ignore[attr-defined]
        await a.send_message(ch, "bob is gone")
        err = await b.request("send", ch=ch, cid=os.urandom(16), body="can I still post?")
        assert err["code"] == "not_member"
        err = await b.request("history", ch=ch)
        assert err["code"] == "not_member"
        assert b.msgs(ch) == [] and b2.msgs(ch) == []


async def _private_channel_answers(c: Client, ch: int) -> list[dict[str, object]]:
    """Every op a non-member could try on a channel, with the rid removed."""
    requests = [
        ("send", {"ch": ch, "cid": os.urandom(16), "body": "let me in"}),
        ("history", {"ch": ch}),
        ("around", {"ch": ch, "seq": 1}),
        ("members", {"ch": ch}),
        ("channel.join", {"ch": ch}),
        ("channel.leave", {"ch": ch}),
        ("channel.invite", {"ch": ch, "user": "alice"}),
        ("read", {"ch": ch, "seq": 1}),
        ("typing", {"ch": ch}),
    ]
    out = []
    for op, fields in requests:
        reply = await c.request(op, **fields)
        reply.pop("rid")
        out.append(reply)
    return out


async def test_private_channel_is_indistinguishable_from_a_missing_one(daemon: MemoryDaemon) -> None:
    alice, eve = await register(daemon, "alice"), await register(daemon, "eve")
    async with connect(daemon, alice) as a, connect(daemon, eve) as e:
        secret = (await a.ok("channel.create", name="secret plans", private=True))["channel"]["id"]
        await a.send_message(secret, "the password is swordfish")
        missing = secret + 1000
        assert await _private_channel_answers(e, secret) == await _private_channel_answers(e, missing)
        assert all(r["code"] == "not_found" for r in await _private_channel_answers(e, secret))
        page = await e.ok("browse", q="secret")
        assert page["channels"] == []
        listing = await e.ok("channels")
        assert secret not in [c["id"] for c in listing["channels"]]
        assert not any(m["ch"] == secret for m in e.msgs(secret))
        # Nothing of it arrived as any kind of push either.
        assert not any(p.get("ch") == secret for p in e.pushes)


async def test_invite_to_private_channel_makes_it_visible_live(daemon: MemoryDaemon) -> None:
    alice, bob, carol = await register(daemon, "alice"), await register(daemon, "bob"), await register(daemon, "carol")
    async with connect(daemon, alice) as a, connect(daemon, bob) as b, connect(daemon, carol) as c:
        secret = (await a.ok("channel.create", name="inner circle", private=True))["channel"]["id"]
        err = await a.request("channel.invite", ch=secret, user="nobody-here")
        assert err["code"] == "user_not_found"
        await a.ok("channel.invite", ch=secret, user="BOB")  # usernames match case-insensitively
        added = await b.wait_push("channel.added")
        assert added["channel"]["id"] == secret and added["channel"]["private"] is True
        err = await a.request("channel.invite", ch=secret, user="bob")
        assert err["code"] == "already_member"
        err = await b.request("channel.invite", ch=secret, user="carol")
        assert err["code"] == "forbidden"  # only the owner invites to a private channel
        await a.send_message(secret, "welcome bob")
        [msg] = await b.wait_msgs(secret, 1)
        assert msg["body"] == "welcome bob"
        assert c.msgs(secret) == []


async def test_owner_leaving_hands_over_ownership(daemon: MemoryDaemon) -> None:
    alice, bob = await register(daemon, "alice"), await register(daemon, "bob")
    async with connect(daemon, alice) as a, connect(daemon, bob) as b:
        ch = (await a.ok("channel.create", name="handover", private=True))["channel"]["id"]
        await a.ok("channel.invite", ch=ch, user="bob")
        await b.wait_push("channel.added")
        await a.ok("channel.leave", ch=ch)
        members = await b.ok("members", ch=ch)
        assert [(m["name"], m["role"]) for m in members["members"]] == [("bob", "owner")]


async def test_typing_reaches_other_members_only(daemon: MemoryDaemon) -> None:
    alice, bob = await register(daemon, "alice", "Alice A."), await register(daemon, "bob")
    async with connect(daemon, alice) as a, connect(daemon, alice) as a_phone, connect(daemon, bob) as b:
        ch = general_id(a)
        await a.ok("typing", ch=ch)
        push = await b.wait_push("typing", ch=ch)
        assert push["display"] == "Alice A."
        await a.ok("typing", ch=ch)  # within 3 s: relayed at most once
        await b.ok("ping")
        await a_phone.ok("ping")
        assert not any(p["op"] == "typing" for p in b.pushes)
        assert not any(p["op"] == "typing" for p in a.pushes + a_phone.pushes)  # not to my own tabs
