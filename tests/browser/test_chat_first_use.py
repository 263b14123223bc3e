"""What a first-time user ran into (issue 10 item 9), in Chromium, Firefox and WebKit: my own
messages shown as unread after a reload."""

from __future__ import annotations

import trio

from tests.browser.chat_helpers import ChatPage, unique_name
from tests.browser.harness import BrowserPool
from tests.helpers.client import connect, general_id, register
from tests.helpers.server import RunningServer

TEST_CEILING_SECS = 120
PUSH_WAIT_SECS = 5.0  # the page sends its read marker within 250 ms; a ceiling against hangs

BADGE = (
    "document.querySelector('#channel-nav button[aria-label^=\"channel ' + arguments[0] + '\"] .badge')"
    "?.textContent ?? null"
)


async def test_own_messages_are_not_unread_after_a_reload(
    engine: str, browser_factory: BrowserPool, server: RunningServer
) -> None:
    with trio.fail_after(TEST_CEILING_SECS):
        page = ChatPage(browser_factory(engine), server, engine)
        name = unique_name("talker")
        account = await register(server, name, "Talker")
        # The same user on another device: it gets the `read` pushes of the page's marker.
        async with connect(server, account) as phone:
            general = general_id(phone)
            await phone.ok("channel.create", name="elsewhere")
            await page.log_in(name, "correct horse battery")
            assert await page.active_channel() == "general"
            for i in range(3):
                await page.send(f"note {i + 1}")
            last = (await phone.wait_msgs(general, 3))[-1]["seq"]
            with trio.fail_after(PUSH_WAIT_SECS):
                await phone.wait_push("read", ch=general, seq=last)

            await page.open_channel("elsewhere")
            await page.open_app()  # a reload: the counts come from hello
            await page.wait("document.title.endsWith('#elsewhere · chatd')")
            assert await page.js("return document.title") == "#elsewhere · chatd"
            assert await page.js(f"return {BADGE}", "general") is None

            # 130 more of mine from the other device while the page is closed: still not unread
            # (this was "99+").
            await page.call(page.driver.get, "about:blank")
            for i in range(130):
                await phone.send_message(general, f"from the phone {i}")
            await page.open_app()
            await page.wait("document.title.endsWith('#elsewhere · chatd')")
            assert await page.js("return document.title") == "#elsewhere · chatd"
            assert await page.js(f"return {BADGE}", "general") is None
