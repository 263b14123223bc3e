"""Any query at all: a property over arbitrary strings (hypothesis) — every one is answered with
results or no results, never an error, never a closed connection, within the search timeout.

Hypothesis drives the examples from a worker thread; each search runs on the test's Trio loop
through a real session (``trio.from_thread.run``). The example count is bounded so that the
property takes ~30 s. U+0000 is the one character no text field may hold (PROTOCOL.md §3.2):
it is refused with bad_frame, by its own test.
"""

from __future__ import annotations

import time
from typing import Any

import trio
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chatd.store.search import SEARCH_TIMEOUT_SECS
from tests.helpers.client import Client, connect, general_id, register
from tests.helpers.memory import MemoryDaemon
from tests.helpers.search import post_many

FRAGMENTS = [
    "from:", "from:@", "from:@alice", "from:me", "-from:bob", "in:", "in:#", "in:#general", 'in:"a b', "-in:#x",
    "has:", "has:link", "has:file", "has:image", "-has:link", "is:mention", "is:", "before:", "after:2024-13-40",
    "on:2024-02-29", "on:99999", "before:2024", "OR", "or", "-", "--", "*", "**", "a*", '"', '""', '"a b"', "“", "«»",
    "\\", "\\\\", "'", "%", "_", "%_%", "a%b", "(", ")", "[", "]", "{}", "<b>", "&amp;", ":", "::", "@", "#", "$",
    "上海", "上", "サーバー", "서울", "مرحبا", "שלום", "Привет", "café", "ß", "👍🏽", "👨‍👩‍👧", "\u200b", "\u00ad",
    "\u202e", "\ufeff", "\n", "\t", " ", "deploy-1307.prod.internal", "PLT-3699", "getUserName", "x" * 300,
    "https://example.org/a?b=c#d", "' OR 1=1 --", "'; DROP TABLE messages; --", "$1", "\\x00", "%s", "{0}",
]

queries = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=120),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"),
                                                           max_size=8)), max_size=12).map(" ".join),
    st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join),
)


async def _search(c: Client, q: str, order: str, tz: str | None, after: bool) -> tuple[dict[str, Any], float]:
    fields: dict[str, Any] = {"q": q, "order": order, "limit": 7}
    if tz is not None:
        fields["tz"] = tz
    started = time.monotonic()
    reply = await c.request("search", **fields)
    if after and reply["op"] == "ok" and "next" in reply:
        reply = await c.request("search", **fields, after=reply["next"])
    return reply, time.monotonic() - started


async def test_any_query_is_answered_never_an_error(daemon: MemoryDaemon) -> None:
    alice = await register(daemon, "alice")
    async with connect(daemon, alice) as a:
        await post_many(daemon.db, general_id(a), alice.user_id, [
            f"{w} deploy-{i}.prod.internal café 上海 👍 PLT-{i} {'x' * (i % 5)}"
            for i, w in enumerate(["alpha", "beta", "gamma", "delta", "Привет", "שלום", "a b", "OR"] * 20)
        ])
        slowest = 0.0

        @settings(max_examples=1200, deadline=None, database=None, derandomize=True,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(q=queries, order=st.sampled_from(["relevance", "newest"]),
               tz=st.one_of(st.none(), st.sampled_from(["UTC", "Europe/Berlin", "Nope/Nowhere", "", "../../etc"])),
               after=st.booleans())
        @example(q="x" * 10_000, order="relevance", tz=None, after=False)
        @example(q="\\" * 5000 + '"' * 5000, order="newest", tz=None, after=False)
        @example(q="!@#$%^&*()_+-=[]{};':\",./<>?`~|", order="relevance", tz=None, after=False)
        @example(q="a OR " * 2000, order="relevance", tz=None, after=True)
        @example(q="-", order="relevance", tz=None, after=False)
        def prop(q: str, order: str, tz: str | None, after: bool) -> None:
            nonlocal slowest
            reply, secs = trio.from_thread.run(_search, a, q, order, tz, after)
            assert reply["op"] == "ok", (q, reply)
            assert 0 <= reply["count"] <= 1000
            for hit in reply["results"]:
                assert all(0 <= s and n > 0 and s + n <= len(hit["snippet"]) for s, n in hit["hl"]), hit
            assert secs < SEARCH_TIMEOUT_SECS, (q, secs)
            slowest = max(slowest, secs)

        await trio.to_thread.run_sync(prop)
        assert a.closed is None
        assert slowest < SEARCH_TIMEOUT_SECS


async def test_nul_in_a_query_is_refused_like_in_any_text_field(daemon: MemoryDaemon) -> None:
    alice = await register(daemon, "alice")
    async with connect(daemon, alice) as a:
        err = await a.request("search", q="a\x00b")
        assert err["code"] == "bad_frame" and "U+0000" in err["message"]
        assert (await a.ok("search", q="ab"))["count"] == 0
