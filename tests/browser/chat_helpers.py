"""Helpers for the web client's browser scenarios: a page object over one Selenium driver.

The server under test runs in the test's Trio loop (the ``server`` fixture), so every blocking
Selenium call goes through ``trio.to_thread.run_sync``: the loop keeps serving the browser while
the driver waits. Scenario logic stays in small ``execute_script`` calls and DOM reads, the same
code path for Chromium, Firefox and WebKit.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Callable
from typing import Any, TypeVar

import trio
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser.harness import BrowserPool, save_screenshot, wait_for
from tests.helpers.client import Account, register
from tests.helpers.server import RunningServer

T = TypeVar("T")

PASSWORD = "correct horse battery staple"
ACCOUNT_PASSWORD = "correct horse battery"  # of accounts made by new_account()
WAIT_SECS = 15.0  # a ceiling for one UI step; most take well under a second
_names = itertools.count(1)


def unique_name(prefix: str) -> str:
    """A username unique within the test session (the database is fresh per test anyway)."""
    return f"{prefix}{next(_names)}"


class ChatPage:
    """One user's browser showing chatd; every method is async and never blocks the Trio loop."""

    def __init__(self, driver: WebDriver, server: RunningServer, engine: str) -> None:
        self.driver = driver
        self.server = server
        self.engine = engine
        self.username = ""

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        return await trio.to_thread.run_sync(functools.partial(fn, *args))

    async def js(self, script: str, *args: Any) -> Any:
        """Run a script body in the page (``return …`` to get a value; Promises are awaited)."""
        return await self.call(self.driver.execute_script, script, *args)

    async def wait(self, predicate: str, secs: float = WAIT_SECS, *args: Any) -> Any:
        """Wait until the JavaScript expression is truthy; returns its value."""
        return await self.call(wait_for, self.driver, predicate, secs, *args)

    async def get(self, path: str) -> None:
        await self.call(self.driver.get, self.server.url + path)

    async def screenshot(self, name: str) -> None:
        await self.call(save_screenshot, self.driver, name)

    # --- accounts ---------------------------------------------------------------------------

    async def api(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        """A same-origin fetch from the page (cookies included): {status, json}."""
        result = await self.js(
            """
            const [method, path, body] = arguments;
            const init = {method, credentials: 'same-origin', headers: {Accept: 'application/json'}};
            if (body !== null) {
              init.headers['Content-Type'] = 'application/json';
              init.body = JSON.stringify(body);
            }
            return fetch(path, init).then(async (r) => ({status: r.status, text: await r.text()}));
            """,
            method,
            path,
            body,
        )
        text = result["text"]
        return {"status": result["status"], "json": json.loads(text) if text else None}

    async def register_via_api(self, username: str, display: str | None = None) -> None:
        """Create the account from the page (sets the session cookie), faster than the form."""
        await self.get("/login")
        await self.wait("document.readyState === 'complete'")
        resp = await self.api(
            "POST",
            "/api/register",
            {
                "username": username,
                "display_name": display or username.title(),
                "password": PASSWORD,
            },
        )
        assert resp["status"] in (200, 201), resp
        self.username = username

    async def log_in(self, account: Account) -> None:
        """Log in as ``account`` through the /login form and wait until the app is ready."""
        await self.get("/login")
        await self.type_into("#username", account.username)
        await self.type_into("#password", ACCOUNT_PASSWORD)
        await self.click("#auth-form button[type=submit]")
        self.username = account.username
        await self.wait_ready()

    async def open_app(self) -> None:
        """Load / and wait until the app is connected and showing a channel."""
        await self.get("/")
        await self.wait_ready()

    async def wait_ready(self) -> None:
        await self.wait(
            "window.__chatd && window.__chatd.status() === 'online'"
            " && document.querySelector('#history-top').dataset.state"
            " && document.querySelector('#history-top').dataset.state !== 'loading'"
        )

    # --- channels ---------------------------------------------------------------------------

    async def active_channel(self) -> str:
        return str(await self.js("return document.getElementById('channel-name').textContent"))

    async def sidebar_names(self) -> list[str]:
        names = await self.js(
            "return [...document.querySelectorAll('#channel-nav .chan-name')].map(e => e.textContent)"
        )
        return list(names)

    async def open_channel(self, name: str) -> None:
        """Click the channel in the sidebar and wait for its messages."""
        await self.js(
            """
            const b = [...document.querySelectorAll('#channel-nav button[data-ch]')]
              .find(b => b.querySelector('.chan-name').textContent === arguments[0]);
            if (!b) throw new Error('no channel ' + arguments[0] + ' in the sidebar');
            b.click();
            """,
            name,
        )
        await self.wait(
            "document.getElementById('channel-name').textContent === arguments[0]", WAIT_SECS, name
        )
        await self.wait_ready()

    async def click(self, css: str) -> None:
        element = await self.call(self.driver.find_element, By.CSS_SELECTOR, css)
        await self.call(element.click)

    async def type_into(self, css: str, text: str) -> None:
        element = await self.call(self.driver.find_element, By.CSS_SELECTOR, css)
        await self.call(element.clear)
        await self.call(element.send_keys, text)

    # --- messages ---------------------------------------------------------------------------

    async def send(self, text: str) -> None:
        """Type a message into the composer and press Enter (real key events).

        Characters outside the Basic Multilingual Plane (most emoji) cannot be typed through
        ChromeDriver, so such text is put into the box by script and only Enter is a key press.
        """
        box = await self.call(self.driver.find_element, By.ID, "composer-input")
        if all(ord(c) < 0x10000 for c in text) and "\n" not in text:
            await self.call(box.send_keys, text)
        else:
            await self.js(
                "const b = document.getElementById('composer-input'); b.value = arguments[0];"
                " b.dispatchEvent(new Event('input', {bubbles: true}));",
                text,
            )
        await self.call(box.send_keys, Keys.ENTER)

    async def bodies(self) -> list[str]:
        """The message bodies shown in the open channel, top to bottom."""
        return list(
            await self.js(
                "return [...document.querySelectorAll('#message-list .msg .msg-body')].map(e => e.textContent)"
            )
        )

    async def wait_for_body(self, text: str, secs: float = WAIT_SECS) -> None:
        await self.wait(
            "[...document.querySelectorAll('#message-list .msg-body')].some(e => e.textContent === arguments[0])",
            secs,
            text,
        )

    async def status_of(self, text: str) -> str | None:
        """The delivery status of my message with this body (sent, pending, sending, failed)."""
        value = await self.js(
            """
            const m = [...document.querySelectorAll('#message-list .msg')]
              .find(m => m.querySelector('.msg-body').textContent === arguments[0]);
            return m ? m.dataset.status : null;
            """,
            text,
        )
        return None if value is None else str(value)


async def new_account(
    engine: str, browser_factory: BrowserPool, server: RunningServer, prefix: str, display: str
) -> tuple[ChatPage, Account]:
    """An account registered over HTTP (so the test can also speak the protocol as that user)
    and a browser of ``engine``, not logged in yet (``page.log_in(account)``)."""
    account = await register(server, unique_name(prefix), display, ACCOUNT_PASSWORD)
    return ChatPage(browser_factory(engine), server, engine), account


async def two_users(engine: str, browser_factory: BrowserPool, server: RunningServer) -> tuple[ChatPage, ChatPage]:
    """Alice and Bob, registered, each in their own browser of ``engine``, on the app page."""
    alice = ChatPage(browser_factory(engine, 0), server, engine)
    bob = ChatPage(browser_factory(engine, 1), server, engine)
    await alice.register_via_api(unique_name("alice"), "Alice")
    await bob.register_via_api(unique_name("bob"), "Bob")
    await alice.open_app()
    await bob.open_app()
    return alice, bob
