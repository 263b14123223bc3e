"""The search op through real sessions: every operator alone and combined, time zones, relevance,
paging, capped counts, suggestions, snippets, refusals, and an index that follows edits and
deletes of the rows. (Who may see what: test_search_access.py; the tokenizer table:
test_search_tokenizer.py; arbitrary input: test_search_fuzz.py.)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chatd.store import search as search_store
from tests.helpers.client import Client, connect, general_id, register
from tests.helpers.memory import MemoryDaemon
from tests.helpers.search import bodies, post_at, post_many

OLD = datetime(2024, 3, 5, 12, 0, tzinfo=UTC)


async def _channel(c: Client, name: str) -> int:
    reply = await c.ok("channel.create", name=name)
    ch: int = reply["channel"]["id"]
    return ch


async def test_search_is_announced_as_a_feature(daemon: MemoryDaemon) -> None:
    alice = await register(daemon, "alice")
    async with connect(daemon, alice) as a:
        assert "search" in a.hello["features"]  # type: ignore[attr-defined]


async def test_every_operator_alone_and_combined(daemon: MemoryDaemon) -> None:
    alice, bob, carol = [await register(daemon, n) for n in ("alice", "bob", "carol")]
    async with connect(daemon, alice) as a, connect(daemon, bob) as b, connect(daemon, carol) as c:
        general = general_id(a)
        ops = await _channel(a, "ops")
        await b.ok("channel.join", ch=ops)
        await c.ok("channel.join", ch=ops)
        db = daemon.db
        await post_at(db, general, alice.user_id, "deploy failed on prod")
        await post_at(db, general, bob.user_id, "deploy ok https://ci.example.org/run/7")
        await post_at(db, ops, alice.user_id, "@bob check the deploy", mentions=[bob.user_id])
        await post_at(db, ops, carol.user_id, "backup done")
        await post_at(db, ops, bob.user_id, "old deploy note", OLD)
        expected: dict[str, set[str]] = {
            "deploy": {"deploy failed on prod", "deploy ok https://ci.example.org/run/7", "@bob check the deploy",
                       "old deploy note"},
            "from:@alice": {"deploy failed on prod", "@bob check the deploy"},
            "from:alice deploy": {"deploy failed on prod", "@bob check the deploy"},
            "from:me": {"deploy ok https://ci.example.org/run/7", "old deploy note"},
            "from:@alice from:@carol": {"deploy failed on prod", "@bob check the deploy", "backup done"},
            "-from:@bob deploy": {"deploy failed on prod", "@bob check the deploy"},
            "in:#ops": {"@bob check the deploy", "backup done", "old deploy note"},
            "in:ops deploy": {"@bob check the deploy", "old deploy note"},
            "in:#ops in:#general backup": {"backup done"},
            "-in:#ops deploy": {"deploy failed on prod", "deploy ok https://ci.example.org/run/7"},
            "has:link": {"deploy ok https://ci.example.org/run/7"},
            "-has:link deploy": {"deploy failed on prod", "@bob check the deploy", "old deploy note"},
            "has:file": set(),
            "has:image deploy": set(),
            "is:mention": {"@bob check the deploy"},
            "-is:mention deploy": {"deploy failed on prod", "deploy ok https://ci.example.org/run/7", "old deploy note"},
            "on:2024-03-05": {"old deploy note"},
            "before:2024-03-06 deploy": {"old deploy note"},
            "before:2024-03-05 deploy": set(),
            "after:2024-03-05 deploy": {"deploy failed on prod", "deploy ok https://ci.example.org/run/7",
                                        "@bob check the deploy"},
            "on:2024-03": {"old deploy note"},
            "on:2024 in:#ops": {"old deploy note"},
            '"deploy failed"': {"deploy failed on prod"},
            '"failed deploy"': set(),
            "-failed deploy": {"deploy ok https://ci.example.org/run/7", "@bob check the deploy", "old deploy note"},
            "-\"deploy failed\" deploy": {"deploy ok https://ci.example.org/run/7", "@bob check the deploy",
                                          "old deploy note"},
            "failed OR backup": {"deploy failed on prod", "backup done"},
            "depl*": {"deploy failed on prod", "deploy ok https://ci.example.org/run/7", "@bob check the deploy",
                      "old deploy note"},
            "ploy": {"deploy failed on prod", "deploy ok https://ci.example.org/run/7", "@bob check the deploy",
                     "old deploy note"},
            "ci.example.org": {"deploy ok https://ci.example.org/run/7"},
            "nope:thing": set(),
            "deploy from:@alice in:#ops -prod is:mention": {"@bob check the deploy"},
            "deploy -from:@alice -in:#general after:2024-03-01": {"old deploy note"},
            "has:link OR backup": set(),  # an operator is no word to OR with: both must hold
            "(deploy)": {"deploy failed on prod", "deploy ok https://ci.example.org/run/7", "@bob check the deploy",
                         "old deploy note"},
        }
        for q, want in expected.items():
            reply = await b.ok("search", q=q, order="newest")
            assert set(bodies(reply)) == want, q
            assert reply["count"] == len(want) and reply["capped"] is False, q


async def test_dates_are_days_in_the_users_time_zone(daemon: MemoryDaemon) -> None:
    alice = await register(daemon, "alice")
    async with connect(daemon, alice) as a:
        await post_at(daemon.db, general_id(a), alice.user_id, "late night release",
                      datetime(2024, 3, 5, 23, 30, tzinfo=UTC))
        for tz, day in (("UTC", "2024-03-05"), ("Asia/Tokyo", "2024-03-06"), ("America/New_York", "2024-03-05"),
                        ("Not/AZone", "2024-03-05"), (None, "2024-03-05")):
            fields: dict[str, Any] = {"q": f"on:{day} release"}
            if tz is not None:
                fields["tz"] = tz
            assert bodies(await a.ok("search", **fields)) == ["late night release"], tz
        assert bodies(await a.ok("search", q="on:2024-03-05 release", tz="Asia/Tokyo")) == []


async def test_relevance_phrase_beats_scattered_words_and_fresh_beats_stale(daemon: MemoryDaemon) -> None:
    alice = await register(daemon, "alice")
    async with connect(daemon, alice) as a:
        ch = general_id(a)
        now = datetime.now(UTC)
        db = daemon.db
        await post_at(db, ch, alice.user_id, "the disk is full on the nas", now - timedelta(hours=2))
        await post_at(db, ch, alice.user_id, "disk checks pass, although the quota report says it is nearly full",
                      now - timedelta(hours=1))
        await post_at(db, ch, alice.user_id, "printer jam again", now - timedelta(days=400))
        await post_at(db, ch, alice.user_id, "printer jam again!", now - timedelta(days=1))
        ranked = bodies(await a.ok("search", q="disk full"))
        assert ranked == ["the disk is full on the nas",
                          "disk checks pass, although the quota report says it is nearly full"]
        newest = bodies(await a.ok("search", q="disk full", order="newest"))
        assert newest == list(reversed(ranked))
        assert bodies(await a.ok("search", q="printer jam")) == ["printer jam again!", "printer jam again"]
        # an exact word beats a substring of a longer one, whatever their ages
        await post_at(db, ch, alice.user_id, "the printers are new", now)
        assert bodies(await a.ok("search", q="printer"))[-1] == "the printers are new"


@pytest.mark.parametrize("order", ["relevance", "newest"])
async def test_paging_has_no_gaps_or_duplicates(daemon: MemoryDaemon, order: str) -> None:
    alice = await register(daemon, "alice")
    async with connect(daemon, alice) as a:
        ch = general_id(a)
        # 400 matches: more than the 300 ranked candidates, so relevance pages reach phase 2;
        # different lengths and closeness of the words give different ranks.
        texts = [f"ticket {i} " + "filler " * (i % 7) + ("printer" if i % 3 else "printer jam") for i in range(400)]
        await post_many(daemon.db, ch, alice.user_id, texts)
        seen: list[int] = []
        after = None
        pages = 0
        while True:
            fields: dict[str, Any] = {"q": "printer", "order": order, "limit": 37}
            if after is not None:
                fields["after"] = after
            reply = await a.ok("search", **fields)
            pages += 1
            assert reply["count"] == 400 and reply["capped"] is False
            seen += [r["id"] for r in reply["results"]]
            if pages == 2:  # sent after the first page: not slipped into this search
                await post_at(daemon.db, ch, alice.user_id, "printer news")
            after = reply.get("next")
            if after is None:
                break
            assert len(reply["results"]) == 37
        assert len(seen) == 400 and len(set(seen)) == 400, "every match once"
        if order == "newest":
            assert seen == sorted(seen, reverse=True)


async def test_count_is_capped_at_1000(daemon: MemoryDaemon) -> None:
    alice = await register(daemon, "alice")
    async with connect(daemon, alice) as a:
        await post_many(daemon.db, general_id(a), alice.user_id, [f"routine check {i}" for i in range(1100)])
        for order in ("relevance", "newest"):
            reply = await a.ok("search", q="routine", order=order)
            assert (reply["count"], reply["capped"], len(reply["results"])) == (1000, True, 20)
            assert "next" in reply
        reply = await a.ok("search", q='"check 1099"')
        assert (reply["count"], reply["capped"], bodies(reply)) == (1, False, ["routine check 1099"])


async def test_suggestions_for_an_empty_result_each_find_something(daemon: MemoryDaemon) -> None:
    alice, bob = await register(daemon, "alice"), await register(daemon, "bob")
    async with connect(daemon, alice) as a:
        general = general_id(a)
        await _channel(a, "ops")
        await post_at(daemon.db, general, alice.user_id, "deploy the printer driver")
        await post_at(daemon.db, general, bob.user_id, "deploy the new router", OLD)
        cases = {
            "deplyo": ("spelling", "deploy", None),
            "printer from:@bob": ("without", "printer", "from:@bob"),
            "printer in:#ops": ("all_channels", "printer", None),
            "router on:2025-01-01": ("any_date", "router", None),
            "printer -driver": ("without", "printer", "-driver"),
        }
        for q, (kind, fixed, removed) in cases.items():
            reply = await a.ok("search", q=q)
            assert reply["count"] == 0 and reply["results"] == [], q
            found = [s for s in reply["suggestions"] if s["kind"] == kind]
            assert found, (q, reply["suggestions"])
            assert found[0]["q"] == fixed and found[0]["count"] >= 1
            assert found[0].get("removed") == removed
            for s in reply["suggestions"]:  # each one click away, and it works
                assert (await a.ok("search", q=s["q"]))["count"] == s["count"]
        assert (await a.ok("search", q="zzzqqqxxx"))["suggestions"] == []
        assert (await a.ok("search", q="deploy"))["suggestions"] == []


async def test_snippet_is_cut_around_the_first_match_and_highlights_are_code_points(daemon: MemoryDaemon) -> None:
    alice = await register(daemon, "alice")
    async with connect(daemon, alice) as a:
        body = "😀 " * 300 + "the needle is here 🎯 and Café there " + "x " * 300
        await post_at(daemon.db, general_id(a), alice.user_id, body)
        [hit] = (await a.ok("search", q="needle cafe"))["results"]
        snippet = hit["snippet"]
        assert snippet.startswith("…") and snippet.endswith("…") and len(snippet) <= 242
        marked = [snippet[s: s + n] for s, n in hit["hl"]]
        assert marked == ["needle", "Café"]
        assert hit["hl"] == sorted(hit["hl"])


async def test_refusals_bad_cursor_bad_order_bad_limit(daemon: MemoryDaemon) -> None:
    alice = await register(daemon, "alice")
    async with connect(daemon, alice) as a:
        await post_many(daemon.db, general_id(a), alice.user_id, [f"log line {i}" for i in range(30)])
        first = await a.ok("search", q="log", limit=5)
        for after, order in (("garbage", "relevance"), ("r.1.2.3.4", "relevance"), (first["next"], "newest"),
                             ("r.1.2.9.4.5", "relevance")):
            err = await a.request("search", q="log", after=after, order=order)
            assert err["op"] == "error" and err["code"] == "bad_frame", after
        err = await a.request("search", q="log", order="oldest")
        assert err["code"] == "bad_frame"
        err = await a.request("search", q="log", limit=0)
        assert err["code"] == "bad_limit"
        assert (await a.ok("search", q="log", limit=5, after=first["next"]))["results"]


async def test_a_search_past_its_time_is_unavailable_not_a_crash(daemon: MemoryDaemon,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    alice = await register(daemon, "alice")
    async with connect(daemon, alice) as a:
        monkeypatch.setattr(search_store, "SEARCH_TIMEOUT_SECS", 1e-6)
        err = await a.request("search", q="anything")
        assert (err["code"], err["retry"]) == ("unavailable", True)
        monkeypatch.setattr(search_store, "SEARCH_TIMEOUT_SECS", 5.0)
        assert (await a.ok("search", q="anything"))["count"] == 0  # the connection carries on


async def test_the_index_follows_edits_and_deletes_of_the_row(daemon: MemoryDaemon) -> None:
    alice = await register(daemon, "alice")
    async with connect(daemon, alice) as a:
        ch = general_id(a)
        ack = await a.send_message(ch, "the old wording")
        assert bodies(await a.ok("search", q="wording")) == ["the old wording"]
        await daemon.db.execute("t.edit", "UPDATE messages SET body = 'the new phrasing' WHERE id = $1", ack["id"])
        assert bodies(await a.ok("search", q="wording")) == []
        assert bodies(await a.ok("search", q="phrasing")) == ["the new phrasing"]
        await daemon.db.execute("t.delete", "DELETE FROM messages WHERE id = $1", ack["id"])
        assert bodies(await a.ok("search", q="phrasing")) == []
        assert await daemon.db.fetchval("t.rows", "SELECT count(*) FROM message_search WHERE id = $1", ack["id"]) == 0
