"""What users type, shown safely, in Chromium, Firefox and WebKit: XSS payloads in messages,
display names and channel names render as text and run nothing; any script, RTL, emoji and
very long words display as sent without breaking the layout; links are safe."""

from __future__ import annotations

import trio

from tests.browser.chat_helpers import ChatPage, unique_name
from tests.browser.harness import BrowserPool
from tests.helpers.server import RunningServer

TEST_CEILING_SECS = 120

# Each payload, if it ever ran, would set window.__xss to its number.
PAYLOADS = [
    '<img src=x onerror="window.__xss=1">',
    "<script>window.__xss=2</script>",
    '<svg onload="window.__xss=3"></svg>',
    '"><iframe src="javascript:window.top.__xss=4"></iframe>',
    "javascript:window.__xss=5",
    '<a href="javascript:window.__xss=6">click</a>',
    'https://example.test/"><img src=x onerror=window.__xss=7>',
    "</textarea><style>body{display:none}</style><b onmouseover=window.__xss=8>x</b>",
    "{{constructor.constructor('window.__xss=9')()}}",
]

XSS_NAME = '<img src=x onerror="window.__xss=10">Mallory'
XSS_CHANNEL = "<b onclick=window.__xss=11>chan</b>"

TEXTS = [
    "שלום עולם — Hebrew, right to left",
    "مرحبا بالعالم 123",
    "日本語のテキストと한국어",
    "Family: 👩‍👩‍👧‍👦, flags 🇺🇦🇪🇺, skin tone 👋🏽, ZWJ 🧑‍💻",
    "x" * 600,
    "combining: e\u0301 a\u0308 and zero\u200bwidth",
    "line one\nline two\n\n  indented  ",
]


async def _no_script_ran(page: ChatPage) -> None:
    assert await page.js("return window.__xss === undefined") is True
    # Nothing user-supplied became an element: only our own markup is in these places.
    found = await page.js(
        "return [...document.querySelectorAll('#message-list img, #message-list script, #message-list svg,"
        " #message-list iframe, #message-list style, #message-list b, #channel-nav img, #channel-nav b,"
        " #channel-title b, #channel-title img')].length"
    )
    assert found == 0
    assert await page.js("return window.__chatd.cspViolations()") == []


async def test_xss_payloads_render_as_text(
    engine: str, browser_factory: BrowserPool, server: RunningServer
) -> None:
    with trio.fail_after(TEST_CEILING_SECS):
        mallory = ChatPage(browser_factory(engine, 0), server, engine)
        victim = ChatPage(browser_factory(engine, 1), server, engine)
        await mallory.register_via_api(unique_name("mallory"), XSS_NAME)
        await victim.register_via_api(unique_name("victim"), "Victim")
        await mallory.open_app()
        await victim.open_app()

        for payload in PAYLOADS:
            await mallory.send(payload)
        await victim.wait_for_body(PAYLOADS[-1])
        assert await victim.bodies() == PAYLOADS
        authors = await victim.js(
            "return [...document.querySelectorAll('#message-list .msg-author')].map(e => e.textContent)"
        )
        assert set(authors) == {XSS_NAME}

        # Only the http(s) link became a link, with a safe rel; javascript: never did.
        links = await victim.js(
            "return [...document.querySelectorAll('#message-list a')].map(a => [a.protocol, a.rel, a.target])"
        )
        assert links == [["https:", "noopener noreferrer", "_blank"]]

        # A channel named like markup, seen in the sidebar, the header, the title and the browser.
        await mallory.click("#create-button")
        await mallory.wait("document.getElementById('create-dialog').open")
        await mallory.type_into("#create-name", XSS_CHANNEL)
        await mallory.type_into("#create-description", '<img src=x onerror="window.__xss=12">')
        await mallory.click("#create-submit")
        await mallory.wait(
            "document.getElementById('channel-name').textContent === arguments[0]", 15, XSS_CHANNEL
        )
        await victim.click("#browse-button")
        await victim.wait(
            "[...document.querySelectorAll('#browse-list .browse-name bdi')].some(e => e.textContent === arguments[0])",
            15,
            XSS_CHANNEL,
        )
        await victim.js(
            "[...document.querySelectorAll('#browse-list button[data-ch]')].find(b => b.getAttribute('aria-label') === 'Join ' + arguments[0]).click()",
            XSS_CHANNEL,
        )
        await victim.wait(
            "document.getElementById('channel-name').textContent === arguments[0]", 15, XSS_CHANNEL
        )
        await victim.wait("document.title.includes(arguments[0])", 5, XSS_CHANNEL)
        assert (
            await victim.js("return document.getElementById('channel-desc').textContent")
            == '<img src=x onerror="window.__xss=12">'
        )
        await mallory.send(PAYLOADS[0])
        await victim.wait_for_body(PAYLOADS[0])
        for page in (mallory, victim):
            await _no_script_ran(page)


async def test_any_script_emoji_rtl_and_long_words(
    engine: str, browser_factory: BrowserPool, server: RunningServer
) -> None:
    with trio.fail_after(TEST_CEILING_SECS):
        alice = ChatPage(browser_factory(engine, 0), server, engine)
        bob = ChatPage(browser_factory(engine, 1), server, engine)
        await alice.register_via_api(unique_name("alice"), "Алиса 🌸")
        await bob.register_via_api(unique_name("bob"), "בוב")
        await alice.open_app()
        await bob.open_app()
        for text in TEXTS:
            await alice.send(text)
        await bob.wait_for_body(TEXTS[-1])
        assert await bob.bodies() == TEXTS
        stored = await server.db.fetch("test.bodies", "SELECT body FROM messages ORDER BY seq")
        assert [r["body"] for r in stored] == TEXTS, "stored exactly as typed"
        # Bodies pick their own direction; a 600-character word wraps instead of widening the page.
        assert await bob.js(
            "return [...document.querySelectorAll('#message-list .msg-body')].every(e => e.dir === 'auto')"
        )
        assert await bob.js(
            "const s = document.getElementById('scroller'); return s.scrollWidth <= s.clientWidth + 1"
        ), "no horizontal overflow"
        assert (
            await bob.js("return document.querySelector('#message-list .msg-author').textContent")
            == "Алиса 🌸"
        )
        assert (
            await alice.js("return document.getElementById('me-display').textContent") == "Алиса 🌸"
        )
