"""Presence: online / away / offline, pushed to users who share a channel, and in members."""

from __future__ import annotations

from chatd.presence import AWAY, OFFLINE, ONLINE, PresenceTracker
from tests.helpers.client import connect, general_id, register
from tests.helpers.memory import MemoryDaemon


def test_tracker_states() -> None:
    t = PresenceTracker()
    assert t.state(1) == OFFLINE
    assert t.connected(1, 10) == ONLINE
    assert t.connected(1, 11) is None  # a second tab changes nothing
    assert t.set_away(1, 10, True) is None  # one tab still active
    assert t.set_away(1, 11, True) == AWAY
    assert t.set_away(1, 11, False) == ONLINE
    assert t.disconnected(1, 11) == AWAY  # the remaining tab is away
    assert t.disconnected(1, 10) == OFFLINE
    assert t.disconnected(1, 10) is None
    assert t.set_away(1, 10, True) is None  # unknown connection: ignored


async def test_presence_is_pushed_to_users_sharing_a_channel(daemon: MemoryDaemon) -> None:
    alice, bob, eve = [await register(daemon, n) for n in ("alice", "bob", "eve")]
    async with connect(daemon, alice) as a, connect(daemon, eve) as e:
        ch = general_id(a)
        await e.ok("channel.leave", ch=ch)  # eve shares no channel with bob from now on
        async with connect(daemon, bob) as b:
            bob_id = b.hello["user"]["id"]  # type: ignore[attr-defined]
            assert (await a.wait_push("presence", user=bob_id))["state"] == "online"
            members = {m["name"]: m["presence"] for m in (await a.ok("members", ch=ch))["members"]}
            assert members == {"alice": "online", "bob": "online"}
            await b.ok("presence.set", state="away")
            assert (await a.wait_push("presence", user=bob_id))["state"] == "away"
            async with connect(daemon, bob) as b_phone:
                assert (await a.wait_push("presence", user=bob_id))["state"] == "online"
                await b_phone.ok("presence.set", state="away")
                assert (await a.wait_push("presence", user=bob_id))["state"] == "away"
            await b.ok("presence.set", state="active")
            assert (await a.wait_push("presence", user=bob_id))["state"] == "online"
        assert (await a.wait_push("presence", user=bob_id))["state"] == "offline"
        await e.ok("ping")
        assert not any(p["op"] == "presence" and p["user"] == bob_id for p in e.pushes)
        assert not any(p["op"] == "presence" and p["user"] == a.hello["user"]["id"] for p in a.pushes)  # type: ignore[attr-defined]
