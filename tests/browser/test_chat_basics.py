"""Web client scenarios in Chromium, Firefox and WebKit: sign-up, two users chatting."""

from __future__ import annotations

import time

import trio
from selenium.webdriver.common.by import By

from tests.browser.chat_helpers import PASSWORD, ChatPage, unique_name
from tests.browser.harness import BrowserPool
from tests.helpers.server import RunningServer

TEST_CEILING_SECS = 120


async def test_register_lands_in_general(
    engine: str, browser_factory: BrowserPool, server: RunningServer
) -> None:
    with trio.fail_after(TEST_CEILING_SECS):
        page = ChatPage(browser_factory(engine), server, engine)
        await page.get("/register")
        name = unique_name("newbie")
        await page.type_into("#username", name)
        await page.type_into("#display_name", "New Person")
        await page.type_into("#password", PASSWORD)
        form = await page.call(page.driver.find_element, By.ID, "auth-form")
        await page.call(form.submit)
        await page.wait_ready()
        assert await page.active_channel() == "general"
        assert "general" in await page.sidebar_names()
        assert await page.js("return document.getElementById('me-name').textContent") == name
        assert (await page.js("return document.title")).endswith("#general · chatd")


async def test_two_users_chat_live_with_ticks(
    engine: str, browser_factory: BrowserPool, server: RunningServer
) -> None:
    with trio.fail_after(TEST_CEILING_SECS):
        alice = ChatPage(browser_factory(engine, 0), server, engine)
        bob = ChatPage(browser_factory(engine, 1), server, engine)
        await alice.register_via_api(unique_name("alice"), "Alice")
        await bob.register_via_api(unique_name("bob"), "Bob")
        await alice.open_app()
        await bob.open_app()

        started = time.monotonic()
        await alice.send("hello bob")
        await bob.wait_for_body("hello bob", secs=2.0)
        assert time.monotonic() - started < 2.0
        await alice.wait(
            "document.querySelector('#message-list .msg.own').dataset.status === 'sent'", 2.0
        )
        assert await alice.status_of("hello bob") == "sent"
        # The receiver shows who wrote it, and it is not marked as own.
        author = await bob.js(
            "const m = [...document.querySelectorAll('#message-list .msg')].pop();"
            " return [m.querySelector('.msg-author').textContent, m.classList.contains('own')]"
        )
        assert author == ["Alice", False]

        await bob.send("hi alice")
        await alice.wait_for_body("hi alice", secs=2.0)
        assert await alice.bodies() == ["hello bob", "hi alice"]
        assert await bob.bodies() == ["hello bob", "hi alice"]
        await alice.screenshot(f"chat-{engine}-wide")
