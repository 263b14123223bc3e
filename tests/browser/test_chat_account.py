"""The account screen in Chromium, Firefox and WebKit: a new display name reaches the other user
live (on the messages and in the members panel), and the sessions list ends another session."""

from __future__ import annotations

import trio

from tests.browser.chat_helpers import ACCOUNT_PASSWORD, ChatPage, new_account, unique_name
from tests.browser.harness import BrowserPool
from tests.helpers.client import register
from tests.helpers.server import RunningServer

TEST_CEILING_SECS = 120


async def test_display_name_and_sessions_from_the_account_screen(
    engine: str, browser_factory: BrowserPool, server: RunningServer
) -> None:
    with trio.fail_after(TEST_CEILING_SECS):
        alice, alice_account = await new_account(engine, browser_factory, server, "alice", "Alice")
        bob_account = await register(server, unique_name("bob"), "Bob", ACCOUNT_PASSWORD)
        bob = ChatPage(browser_factory(engine, 1), server, engine)
        await alice.call(alice.driver.set_window_size, 1400, 900)
        await bob.call(bob.driver.set_window_size, 1400, 900)
        await alice.log_in(alice_account)  # a second session of alice's: new_account's registration
        await bob.log_in(bob_account)
        await alice.send("hello from alice")
        await bob.wait_for_body("hello from alice")

        await alice.click("#account-button")
        await alice.wait("document.getElementById('account-dialog').open"
                         " && document.querySelectorAll('#account-sessions .session').length === 2")
        devices = await alice.js("return [...document.querySelectorAll('#account-sessions .session')]"
                                 ".map(s => [s.dataset.current, s.querySelector('.session-device').textContent])")
        assert sorted(d[0] for d in devices) == ["false", "true"], devices
        await alice.type_into("#account-display", "Alice Martin")
        await alice.click("#account-name-form button[type=submit]")
        await alice.wait("document.getElementById('account-name-note').textContent.startsWith('Saved')")
        assert await alice.js("return document.getElementById('me-display').textContent") == "Alice Martin"
        # Bob sees it live: on her message and in the members panel.
        await bob.wait("document.querySelector('#message-list .msg .msg-author').textContent === 'Alice Martin'")
        await bob.wait("[...document.querySelectorAll('#members-panel-list .member-display')]"
                       ".some(e => e.textContent === 'Alice Martin')")
        await alice.js("document.documentElement.dataset.theme = 'dark'")
        await alice.screenshot(f"screen-{engine}-account-dark")
        await alice.js("delete document.documentElement.dataset.theme")
        # End the other session: one is left, this one.
        await alice.click("#account-end-others")
        await alice.wait("document.getElementById('account-sessions-note').textContent === '1 session ended.'"
                         " && document.querySelectorAll('#account-sessions .session').length === 1")
        ended = await server.get("/api/me", headers={"Cookie": f"__Host-chatd_session={alice_account.token}"})
        assert ended.status == 401, "the registration's session is over"
        assert await alice.js("return window.__chatd.cspViolations()") == []
