"""Search in the web client, in Chromium, Firefox and WebKit: the shortcut opens the panel, known
words find their messages with the matches marked, a click lands on the message highlighted with
its history around it (loading both ways) and a way back to the newest messages, Esc closes the
panel, and "no results" offers a suggestion that works."""

from __future__ import annotations

import trio
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from chatd.store.messages import post_messages
from tests.browser.chat_helpers import ChatPage, new_account
from tests.browser.harness import BrowserPool
from tests.helpers.server import RunningServer

TEST_CEILING_SECS = 120
TARGET = "a quokka was seen near the backup rack"


async def _seed(server: RunningServer, username: str) -> None:
    """300 messages in #general, the target far from the newest ones (seq 100)."""
    user = await server.db.fetchval("t.user", "SELECT id FROM users WHERE username = $1", username)
    ch = await server.db.fetchval("t.ch", "SELECT id FROM channels WHERE name = 'general'")
    bodies = [TARGET if i == 100 else f"routine log line {i}" for i in range(1, 301)]
    await post_messages(server.db, channel_id=ch, users=[user] * 300,
                        cids=[i.to_bytes(16, "big") for i in range(300)], bodies=bodies)


async def _results(page: ChatPage) -> list[str]:
    return list(await page.js("return [...document.querySelectorAll('#search-list .hit-snippet')].map(e => e.textContent)"))


async def _say(page: ChatPage, text: str) -> None:
    await page.send(text)
    await page.wait("[...document.querySelectorAll('#message-list .msg')].some(m => m.dataset.status === 'sent')")


async def _shortcut(page: ChatPage) -> None:
    scroller = await page.call(page.driver.find_element, By.ID, "scroller")
    await page.call(scroller.send_keys, Keys.CONTROL + Keys.SHIFT + "f")


async def test_search_click_a_result_and_land_on_it(
    engine: str, browser_factory: BrowserPool, server: RunningServer
) -> None:
    with trio.fail_after(TEST_CEILING_SECS):
        page, account = await new_account(engine, browser_factory, server, "searcher", "Sam")
        await _seed(server, account.username)
        await page.call(page.driver.set_window_size, 1280, 800)
        await page.log_in(account)
        await _say(page, "the quokka drill is on Friday")

        # The shortcut is shown, and opens the panel with the cursor in the box.
        assert "Ctrl+Shift+F" in await page.js("return document.getElementById('search-button').textContent")
        await _shortcut(page)
        await page.wait("!document.getElementById('search-panel').hidden"
                        " && document.activeElement === document.getElementById('search-input')")
        assert "Ctrl+Shift+F" in await page.js("return document.getElementById('search-keys').textContent")
        await page.type_into("#search-input", "quokka")
        await page.wait("document.querySelectorAll('#search-list .search-hit').length === 2")
        assert sorted(await _results(page)) == sorted([TARGET, "the quokka drill is on Friday"])
        marks = await page.js("return [...document.querySelectorAll('#search-list mark')].map(m => m.textContent)")
        assert marks == ["quokka", "quokka"]
        assert await page.js("return document.getElementById('search-count').textContent") == "2 messages"

        # Click the old one: the channel opens at it, highlighted, with history around it.
        await page.js("""
            [...document.querySelectorAll('#search-list .search-hit')]
              .find(b => b.textContent.includes(arguments[0])).click();""", TARGET)
        await page.wait("document.querySelector('#message-list .msg.target .msg-body')"
                        " && document.querySelector('#message-list .msg.target .msg-body').textContent === arguments[0]",
                        15, TARGET)
        bodies = await page.bodies()
        at = bodies.index(TARGET)
        assert bodies[at - 1] == "routine log line 99" and bodies[at + 1] == "routine log line 101"
        assert "the quokka drill is on Friday" not in bodies, "the newest messages are not shown meanwhile"
        assert await page.js("""const r = document.querySelector('#message-list .msg.target').getBoundingClientRect();
                                const s = document.getElementById('scroller').getBoundingClientRect();
                                return r.top >= s.top && r.bottom <= s.bottom;"""), "scrolled into view"
        jump = await page.wait("!document.getElementById('jump-button').hidden"
                               " && document.getElementById('jump-button').textContent")
        assert "Back to the latest messages" in jump
        await page.screenshot(f"screen-{engine}-search")  # docs/screenshots/search-light.png

        # History loads both ways: up (older) and down (newer).
        first = await page.js("return +document.querySelector('#message-list .msg').dataset.seq")
        await page.js("document.getElementById('scroller').scrollTop = 0")
        await page.wait("+document.querySelector('#message-list .msg').dataset.seq < arguments[0]", 15, first)
        last = await page.js("return +[...document.querySelectorAll('#message-list .msg')].at(-1).dataset.seq")
        await page.js("const s = document.getElementById('scroller'); s.scrollTop = s.scrollHeight")
        await page.wait("+[...document.querySelectorAll('#message-list .msg')].at(-1).dataset.seq > arguments[0]",
                        15, last)

        # Back to the latest: the newest messages, no highlight.
        await page.click("#jump-button")
        await page.wait_for_body("the quokka drill is on Friday")
        # The live range replaces the detached one (a render later in slower engines).
        await page.wait("document.querySelector('#message-list .msg.target') === null")

        # Esc closes the panel.
        await page.click("#search-input")
        search_box = await page.call(page.driver.find_element, By.ID, "search-input")
        await page.call(search_box.send_keys, Keys.ESCAPE)
        await page.wait("document.getElementById('search-panel').hidden")


async def test_no_results_offers_a_suggestion_that_works(
    engine: str, browser_factory: BrowserPool, server: RunningServer
) -> None:
    with trio.fail_after(TEST_CEILING_SECS):
        page, account = await new_account(engine, browser_factory, server, "speller", "Pat")
        await page.log_in(account)
        await _say(page, "the thermostat firmware is updated")
        await page.click("#search-button")
        await page.type_into("#search-input", "thermostta")
        await page.wait("!document.getElementById('search-empty').hidden")
        text = await page.js("return document.getElementById('search-empty').textContent")
        assert "No messages match" in text and "thermostta" in text
        await page.js("document.querySelector('#search-empty button[data-q]').click()")
        await page.wait("document.querySelectorAll('#search-list .search-hit').length === 1")
        assert await page.js("return document.getElementById('search-input').value") == "thermostat"
        assert await _results(page) == ["the thermostat firmware is updated"]
        assert await page.js("return window.__chatd.cspViolations()") == []
