"""A display name changed over HTTP reaches the people who see it, live (feature "profile"); the
notification settings of a membership are stored on the server and every device agrees (feature
"notify"); the idle time after which clients report away is the server's setting."""

from __future__ import annotations

import trio

from tests.helpers.client import connect, general_id, register
from tests.helpers.memory import MemoryDaemon
from tests.helpers.server import RunningServer, http_request

CEILING_SECS = 30


async def test_a_new_display_name_reaches_others_live_and_their_next_messages(server: RunningServer) -> None:
    alice, bob, carol = [await register(server, n) for n in ("alice", "bob", "carol")]
    with trio.fail_after(CEILING_SECS):
        async with connect(server, alice) as a, connect(server, bob) as b, connect(server, carol) as c:
            ch = general_id(a)
            secret = (await c.ok("channel.create", name="carols", private=True))["channel"]["id"]
            cookie = {"Cookie": f"__Host-chatd_session={alice.token}", "Origin": server.origin}
            bad = await http_request("PATCH", server.url + "/api/me", json_body={"display_name": " "}, headers=cookie)
            assert bad.status == 400 and bad.json["field"] == "display_name"
            resp = await http_request("PATCH", server.url + "/api/me", json_body={"display_name": "Alice 🐇"},
                                      headers=cookie)
            assert resp.status == 200 and resp.json["user"]["display_name"] == "Alice 🐇"
            for who in (a, b, c):  # everyone who shares #general with her, herself included
                pushed = await who.wait_push("user.updated")
                assert pushed["user"] == {"id": alice.user_id, "name": "alice", "display": "Alice 🐇"}
            await a.send_message(ch, "renamed")
            assert (await b.wait_msgs(ch, 1))[0]["display"] == "Alice 🐇", "her connection uses it at once"
            assert secret  # carol's private channel told nobody else anything
            assert (await c.ok("members", ch=secret))["members"][0]["name"] == "carol"


async def test_notification_settings_live_with_the_membership(daemon: MemoryDaemon) -> None:
    alice, bob = await register(daemon, "alice"), await register(daemon, "bob")
    with trio.fail_after(CEILING_SECS):
        async with connect(daemon, alice) as phone, connect(daemon, alice) as laptop:
            ch = general_id(phone)
            dm = (await phone.ok("dm.open", users=["bob"]))["channel"]
            general = next(x for x in phone.hello["channels"] if x["id"] == ch)  # type: ignore[attr-defined]
            assert (general["notify"], general["muted"], dm["notify"]) == ("mentions", False, "all"), "the defaults"
            await phone.ok("channel.notify", ch=ch, notify="all")
            await phone.ok("channel.notify", ch=ch, muted=True)
            for device in (phone, laptop):
                first = await device.wait_push("channel.updated")
                second = await device.wait_push("channel.updated")
                assert (first["channel"]["notify"], first["channel"]["muted"]) == ("all", False)
                assert (second["channel"]["notify"], second["channel"]["muted"]) == ("all", True)
            refused = await phone.request("channel.notify", ch=ch)
            assert refused["code"] == "bad_frame"
        async with connect(daemon, alice) as again, connect(daemon, bob) as b:
            mine = next(x for x in again.hello["channels"] if x["id"] == ch)  # type: ignore[attr-defined]
            assert (mine["notify"], mine["muted"]) == ("all", True), "kept on the server"
            theirs = next(x for x in b.hello["channels"] if x["id"] == ch)  # type: ignore[attr-defined]
            assert (theirs["notify"], theirs["muted"]) == ("mentions", False), "one person's choice only"
            assert again.hello["limits"]["away_secs"] == daemon.config.away_secs == 300  # type: ignore[attr-defined]
