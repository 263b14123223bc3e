"""Delivery you can trust, in Chromium, Firefox and WebKit: cut connections, queued messages
sent exactly once, missed messages filled in order, history paged in on scroll-up.

Connections are cut from inside the page (``window.__chatd.debugGoOffline()`` closes the socket
and keeps the client offline until ``debugGoOnline()``), which behaves the same in every engine;
the server sees an ordinary closed socket.
"""

from __future__ import annotations

import itertools
import os

import trio

from chatd.store.messages import post_messages
from tests.browser.chat_helpers import ChatPage, two_users, unique_name
from tests.browser.harness import BrowserPool
from tests.helpers.server import RunningServer

TEST_CEILING_SECS = 120


async def _count_stored(server: RunningServer, body: str) -> int:
    return int(
        await server.db.fetchval(
            "test.count_body", "SELECT count(*) FROM messages WHERE body = $1", body
        )
    )


async def test_receiver_cut_and_restored_gets_missed_messages_in_order(
    engine: str, browser_factory: BrowserPool, server: RunningServer
) -> None:
    with trio.fail_after(TEST_CEILING_SECS):
        alice, bob = await two_users(engine, browser_factory, server)
        await alice.send("before the cut")
        await bob.wait_for_body("before the cut")

        await bob.js("window.__chatd.debugGoOffline()")
        text = await bob.wait(
            "window.__chatd.status() === 'offline' && document.getElementById('conn-text').textContent"
        )
        assert text.startswith("offline — retrying in ") and text.endswith(" s"), text
        assert await bob.js(
            "return !document.getElementById('conn-status').hidden && getComputedStyle(document.getElementById('conn-status')).display !== 'none'"
        )

        missed = [f"missed {i}" for i in range(1, 8)]
        for body in missed:
            await alice.send(body)
        await alice.wait(
            "[...document.querySelectorAll('#message-list .msg.own')].every(m => m.dataset.status === 'sent')"
        )
        assert await bob.bodies() == ["before the cut"], "bob is offline: nothing arrived"

        await bob.js("window.__chatd.debugGoOnline()")
        await bob.wait_for_body(missed[-1])
        assert await bob.bodies() == ["before the cut", *missed]
        assert await bob.js("return window.__chatd.status()") == "online"
        # Live traffic after the resume still arrives, once.
        await alice.send("after the cut")
        await bob.wait_for_body("after the cut")
        assert await bob.bodies() == ["before the cut", *missed, "after the cut"]


async def test_queued_message_is_delivered_exactly_once(
    engine: str, browser_factory: BrowserPool, server: RunningServer
) -> None:
    with trio.fail_after(TEST_CEILING_SECS):
        alice, bob = await two_users(engine, browser_factory, server)

        # 1. Typed while offline: shown as pending, kept in the outbox across a reload, sent after.
        await alice.js("window.__chatd.debugGoOffline()")
        await alice.wait("window.__chatd.status() === 'offline'")
        await alice.send("typed while offline")
        await alice.wait_for_body("typed while offline")
        assert await alice.status_of("typed while offline") == "pending"
        outbox = await alice.js("return window.__chatd.outbox()")
        assert [e["body"] for e in outbox] == ["typed while offline"]
        cid = outbox[0]["cid"]
        await alice.open_app()  # reload: the hook is gone, the page connects and flushes the outbox
        await alice.wait("window.__chatd.outbox().length === 0")
        await alice.wait_for_body("typed while offline")
        # The tick is drawn on the next frame after the ack empties the outbox: wait for it.
        await alice.wait(
            "[...document.querySelectorAll('#message-list .msg')].some(m =>"
            " m.querySelector('.msg-body').textContent === 'typed while offline' && m.dataset.status === 'sent')"
        )
        await bob.wait_for_body("typed while offline")

        # 2. The frame leaves, then the connection dies before the ack: resent with the same cid.
        await alice.js("window.__chatd.debugCutAfterNextSend()")
        await alice.send("cut after send")
        await alice.wait(
            "[...document.querySelectorAll('#message-list .msg')].some(m =>"
            " m.querySelector('.msg-body').textContent === 'cut after send' && m.dataset.status === 'sent')"
        )
        await bob.wait_for_body("cut after send")
        await alice.send("after both")
        await bob.wait_for_body("after both")

        for body in ("typed while offline", "cut after send", "after both"):
            assert await _count_stored(server, body) == 1, body
            assert (await bob.bodies()).count(body) == 1, body
            assert (await alice.bodies()).count(body) == 1, body
        stored_cid = await server.db.fetchval(
            "test.cid",
            "SELECT encode(cid, 'hex') FROM messages WHERE body = $1",
            "typed while offline",
        )
        assert stored_cid == cid, "the retry after the reload reused the cid"
        assert await alice.js("return window.__chatd.cspViolations()") == []


async def test_older_history_loads_page_by_page_on_scroll(
    engine: str, browser_factory: BrowserPool, server: RunningServer
) -> None:
    with trio.fail_after(TEST_CEILING_SECS):
        page = ChatPage(browser_factory(engine), server, engine)
        await page.register_via_api(unique_name("reader"), "Reader")
        general = await server.db.fetchval(
            "test.general", "SELECT id FROM channels WHERE name = 'general'"
        )
        uid = await server.db.fetchval(
            "test.uid", "SELECT id FROM users WHERE username = $1", page.username
        )
        total = 300
        await post_messages(
            server.db,
            channel_id=general,
            users=[uid] * total,
            cids=[os.urandom(16) for _ in range(total)],
            bodies=[f"seeded {i}" for i in range(1, total + 1)],
        )
        await page.open_app()
        await page.wait_for_body(f"seeded {total}")
        first = await page.bodies()
        assert len(first) < total, "never all at once"
        assert first == [f"seeded {i}" for i in range(total - len(first) + 1, total + 1)]

        seen_counts = [len(first)]
        for _ in range(20):
            await page.js("document.getElementById('scroller').scrollTop = 0")
            count = await page.wait(
                "(() => { const n = document.querySelectorAll('#message-list .msg').length;"
                " return n > arguments[0] ? n : (document.getElementById('history-top').dataset.state === 'start' ? -1 : 0); })()",
                15,
                seen_counts[-1],
            )
            if count == -1:
                break
            seen_counts.append(count)
        assert seen_counts[-1] == total, seen_counts
        steps = [b - a for a, b in itertools.pairwise(seen_counts)]
        assert steps and max(steps) <= 100, f"pages, not everything at once: {seen_counts}"
        assert await page.bodies() == [f"seeded {i}" for i in range(1, total + 1)]
        await page.wait("document.getElementById('history-top').dataset.state === 'start'")
        assert "very beginning" in await page.js(
            "return document.getElementById('history-top').textContent"
        )

        # Scrolled up, the jump button shows; it brings the newest message back into view.
        assert await page.js("return !document.getElementById('jump-button').hidden")
        await page.click("#jump-button")
        await page.wait("document.getElementById('jump-button').hidden")
        assert await page.js(
            "const s = document.getElementById('scroller'); return s.scrollHeight - s.scrollTop - s.clientHeight < 60"
        )
