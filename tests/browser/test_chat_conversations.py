"""Conversation features in Chromium, Firefox and WebKit: an edit and a delete seen live by the
other user and after a reload, the mention picker driven by the keyboard, a direct message
conversation end to end, and desktop notifications for a mention (none for an ordinary message)
in a tab that is not being looked at. Screenshots of each for docs/client.md."""

from __future__ import annotations

import trio
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.browser.chat_helpers import ChatPage, two_users
from tests.browser.harness import BrowserPool
from tests.helpers.server import RunningServer

TEST_CEILING_SECS = 150

BODY_OF = "[...document.querySelectorAll('#message-list .msg')].find(m => m.querySelector('.msg-body').textContent === arguments[0])"


async def _sent(page: ChatPage, text: str) -> None:
    await page.send(text)
    await page.wait(f"({BODY_OF}) && ({BODY_OF}).dataset.status === 'sent'", 15, text)


async def _keys(page: ChatPage, css: str, *keys: str) -> None:
    element = await page.call(page.driver.find_element, By.CSS_SELECTOR, css)
    for k in keys:
        await page.call(element.send_keys, k)


async def _shot(page: ChatPage, name: str, dark: bool = False) -> None:
    """A screenshot for the docs, in the light or the dark theme."""
    await page.js("document.documentElement.dataset.theme = arguments[0]", "dark" if dark else "light")
    await page.js("return new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    await page.screenshot(f"screen-{page.engine}-{name}-{'dark' if dark else 'light'}")
    await page.js("delete document.documentElement.dataset.theme")


async def test_edit_and_delete_seen_live_and_after_a_reload(
    engine: str, browser_factory: BrowserPool, server: RunningServer
) -> None:
    with trio.fail_after(TEST_CEILING_SECS):
        alice, bob = await two_users(engine, browser_factory, server)
        await alice.call(alice.driver.set_window_size, 1280, 800)
        await _sent(alice, "the deploy is at 3")
        await _sent(alice, "my password is hunter2")
        await _sent(alice, "sorry, wrong window")
        await bob.wait_for_body("sorry, wrong window")

        # ↑ in the empty box edits my last message; Enter saves.
        await alice.js("document.getElementById('composer-input').focus()")
        await _keys(alice, "#composer-input", Keys.ARROW_UP)
        await alice.wait("!document.getElementById('edit-bar').hidden"
                         " && document.getElementById('composer-input').value === 'sorry, wrong window'")
        await alice.js("const b = document.getElementById('composer-input'); b.value = '';"
                       " b.dispatchEvent(new Event('input', {bubbles: true}))")
        await _keys(alice, "#composer-input", "sorry, that was for ops", Keys.ENTER)
        await alice.wait("document.getElementById('edit-bar').hidden")
        # Edit from the message's own button, too.
        await alice.js(f"({BODY_OF}).querySelector('button[data-action=edit]').click()", "the deploy is at 3")
        await alice.wait("document.getElementById('composer-input').value === 'the deploy is at 3'")
        await alice.js("const b = document.getElementById('composer-input'); b.value = 'the deploy is at 4';"
                       " b.dispatchEvent(new Event('input', {bubbles: true}))")
        await _keys(alice, "#composer-input", Keys.ENTER)
        # Delete, after the question.
        await alice.js(f"({BODY_OF}).querySelector('button[data-action=delete]').click()", "my password is hunter2")
        await alice.wait("document.getElementById('confirm-dialog').open")
        await alice.click("#confirm-ok")

        for page in (bob, alice):  # live on both sides
            await page.wait("document.querySelectorAll('#message-list .msg.deleted').length === 1")
            await page.wait_for_body("the deploy is at 4")
            await page.wait_for_body("sorry, that was for ops")
            assert "hunter2" not in await page.js("return document.getElementById('message-list').textContent")
            edited = await page.js("return document.querySelectorAll('#message-list .msg-edited').length")
            assert edited == 2
        await _shot(bob, "edits")
        await bob.open_app()  # a reload: the same, from history
        bodies = await bob.bodies()
        assert bodies == ["the deploy is at 4", "Message deleted", "sorry, that was for ops"]
        # Earlier versions, one click away.
        await bob.js(f"({BODY_OF}).querySelector('.msg-edited').click()", "the deploy is at 4")
        await bob.wait("document.querySelectorAll('#versions-list .version').length === 2")
        versions = await bob.js("return [...document.querySelectorAll('#versions-list .version-body')].map(e => e.textContent)")
        assert versions == ["the deploy is at 4", "the deploy is at 3"]
        assert await bob.js("return window.__chatd.cspViolations()") == []


async def test_mention_picker_by_keyboard(engine: str, browser_factory: BrowserPool, server: RunningServer) -> None:
    with trio.fail_after(TEST_CEILING_SECS):
        alice, bob = await two_users(engine, browser_factory, server)
        await alice.call(alice.driver.set_window_size, 1280, 800)
        # Bob's presence reaches Alice within the mission's bound (online <= 5 s): the panel shows it first.
        await alice.wait("[...document.querySelectorAll('#members-panel-list li[data-presence=online]')]"
                         ".some(li => li.querySelector('[aria-label]').getAttribute('aria-label').includes('(@' + arguments[0] + ')'))",
                         15, bob.username)
        await alice.js("document.getElementById('composer-input').focus()")
        await _keys(alice, "#composer-input", "look @", bob.username[:2])
        await alice.wait("!document.getElementById('mention-list').hidden"
                         " && document.getElementById('composer-input').getAttribute('aria-expanded') === 'true'")
        options = await alice.js("return [...document.querySelectorAll('#mention-list [role=option]')]"
                                 ".map(o => [o.textContent, !!o.querySelector('.presence-online')])")
        assert any(bob.username in text and online for text, online in options), options
        await _shot(alice, "mention-picker")
        # ↓ until bob is chosen, then Enter picks (it does not send).
        for _ in range(len(options)):
            chosen = await alice.js("return document.querySelector('#mention-list [aria-selected=true]').textContent")
            if bob.username in chosen:
                break
            await _keys(alice, "#composer-input", Keys.ARROW_DOWN)
        await _keys(alice, "#composer-input", Keys.ENTER)
        value = await alice.js("return document.getElementById('composer-input').value")
        assert value == f"look @{bob.username} "
        await _keys(alice, "#composer-input", "at this", Keys.ENTER)
        text = f"look @{bob.username} at this"
        await bob.wait_for_body(text)
        await bob.wait(f"({BODY_OF}).classList.contains('mentions-me')"
                       f" && ({BODY_OF}).querySelector('.mention-me').textContent === '@' + arguments[1]", 15, text, bob.username)


async def test_a_direct_message_conversation_end_to_end(
    engine: str, browser_factory: BrowserPool, server: RunningServer
) -> None:
    with trio.fail_after(TEST_CEILING_SECS):
        alice, bob = await two_users(engine, browser_factory, server)
        await alice.call(alice.driver.set_window_size, 1400, 850)
        await bob.call(bob.driver.set_window_size, 1400, 850)
        # Alice starts it from the user picker.
        await alice.click("#message-button")
        await alice.wait("document.getElementById('people-dialog').open")
        await alice.type_into("#people-input", bob.username)
        await alice.wait("[...document.querySelectorAll('#people-list button')].some(b => b.textContent.includes(arguments[0]))",
                         15, bob.username)
        await _keys(alice, "#people-input", Keys.ENTER)  # the first match joins the chosen
        await alice.wait("document.querySelectorAll('#people-chosen .person-chip').length === 1")
        await alice.click("#people-start")
        await alice.wait("document.getElementById('channel-name').textContent === 'Bob'")
        await _sent(alice, "psst, lunch?")
        # Bob: a "Direct messages" section with Alice, online, and the unread count.
        await bob.wait("document.querySelector('#channel-nav [data-section=dms] button[data-ch]')")
        entry = await bob.wait("(() => { const b = document.querySelector('#channel-nav [data-section=dms] button[data-ch]');"
                               " return b.querySelector('.badge') && [b.textContent, !!b.querySelector('.presence-online'),"
                               " b.getAttribute('aria-label')]; })()")
        assert "Alice" in entry[0] and entry[1] and "conversation with Alice" in entry[2], entry
        await bob.open_channel("Alice")
        await bob.wait_for_body("psst, lunch?")
        await _sent(bob, "yes! 12:30")
        await alice.wait_for_body("yes! 12:30")
        await _shot(alice, "dm", dark=True)
        # From a member's name in #general's members panel: the same conversation.
        await bob.open_channel("general")
        await bob.wait("[...document.querySelectorAll('#members-panel-list button[data-user]')].some(b => b.textContent.includes('Alice'))")
        await bob.js("[...document.querySelectorAll('#members-panel-list button[data-user]')]"
                     ".find(b => b.textContent.includes('Alice')).click()")
        await bob.wait("document.getElementById('channel-name').textContent === 'Alice'")
        assert await bob.bodies() == ["psst, lunch?", "yes! 12:30"]
        assert await bob.js("return document.querySelectorAll('#channel-nav [data-section=dms] button[data-ch]').length") == 1


async def _grant_notifications(page: ChatPage) -> bool:
    """Grant the page's origin the notification permission, where the engine's driver or a
    preference can: Chromium through WebDriver's Set Permission, Firefox by the preference
    permissions.default.desktop-notification (tests/browser/harness.py). WebKitGTK's driver has
    no Set Permission and its MiniBrowser denies every request under automation."""
    if page.engine == "chromium":
        await page.call(page.driver.set_permissions, "notifications", "granted")
    return bool(await page.js("return Notification.permission === 'granted'"))


async def test_a_hidden_tab_notifies_a_mention_and_not_an_ordinary_message(
    engine: str, browser_factory: BrowserPool, server: RunningServer
) -> None:
    with trio.fail_after(TEST_CEILING_SECS):
        alice, bob = await two_users(engine, browser_factory, server)
        granted = await _grant_notifications(bob)
        assert granted == (engine != "webkit")
        await bob.open_app()  # the prompt bar reflects the permission from the start
        prompt = await bob.js("return !document.getElementById('notify-prompt').hidden")
        assert prompt == (not granted), "the prompt is there only while notifications are not allowed"
        if not granted:  # asked only from a click on the clear prompt; WebKit's answer is "denied"
            await bob.click("#notify-enable")
            await bob.wait("document.getElementById('notify-prompt-text').textContent.includes('blocked')"
                           " || Notification.permission === 'default'")
        chat_tab = bob.driver.current_window_handle
        await bob.call(bob.driver.switch_to.new_window, "tab")  # bob looks elsewhere
        await bob.call(bob.driver.get, "about:blank")
        await _sent(alice, "the build is green")
        await _sent(alice, f"@{bob.username} can you review?")
        # An edit that newly mentions bob notifies him too (once); one that does not, nobody.
        await alice.js(f"({BODY_OF}).querySelector('button[data-action=edit]').click()", "the build is green")
        await alice.wait("!document.getElementById('edit-bar').hidden")
        await alice.js("const b = document.getElementById('composer-input'); b.value = arguments[0];"
                       " b.dispatchEvent(new Event('input', {bubbles: true}))", f"@{bob.username} the build is green")
        await _keys(alice, "#composer-input", Keys.ENTER)
        await alice.wait("document.getElementById('edit-bar').hidden")
        await bob.call(bob.driver.switch_to.window, chat_tab)
        await bob.wait_for_body(f"@{bob.username} the build is green")
        shown = await bob.js("return window.__chatd.notifications()")
        if granted:
            assert [(n["title"], n["body"]) for n in shown] == [
                ("#general", f"Alice: @{bob.username} can you review?"),
                ("#general", f"Alice: @{bob.username} the build is green"),
            ]
        else:
            assert shown == []
