"""Channels in Chromium, Firefox and WebKit: create, browse and join public channels (and the
name_taken answer that offers to join), private channels invisible until an invitation, the
Ctrl/Cmd+K switcher and the sidebar filter with more than a hundred channels."""

from __future__ import annotations

import trio
from selenium.webdriver.common.keys import Keys

from tests.browser.chat_helpers import ChatPage, new_account, two_users
from tests.browser.harness import BrowserPool
from tests.helpers.client import connect
from tests.helpers.server import RunningServer

TEST_CEILING_SECS = 120


async def _create_channel(
    page: ChatPage, name: str, private: bool = False, description: str = ""
) -> None:
    await page.click("#create-button")
    await page.wait("document.getElementById('create-dialog').open")
    await page.type_into("#create-name", name)
    if description:
        await page.type_into("#create-description", description)
    if private:
        await page.click("#create-private")
    await page.click("#create-submit")


async def test_public_channel_created_then_joined_by_another_user(
    engine: str, browser_factory: BrowserPool, server: RunningServer
) -> None:
    with trio.fail_after(TEST_CEILING_SECS):
        alice, bob = await two_users(engine, browser_factory, server)
        await _create_channel(alice, "Project-X", description="Shipping the thing")
        await alice.wait("document.getElementById('channel-name').textContent === 'Project-X'")
        await alice.wait_ready()
        await alice.wait(
            "[...document.querySelectorAll('#channel-nav .chan-name')].some(e => e.textContent === 'Project-X')"
        )
        await alice.send("welcome to project x")

        # Bob finds it in the channel browser.
        await bob.click("#browse-button")
        await bob.wait("[...document.querySelectorAll('#browse-list .browse-item')].length >= 2")
        listed = await bob.js(
            "return [...document.querySelectorAll('#browse-list .browse-name bdi')].map(e => e.textContent)"
        )
        assert "Project-X" in listed and "general" in listed
        await bob.js("document.querySelector('#browse-dialog [data-close]').click()")

        # Creating it again (another case) answers name_taken and offers to join the existing one.
        await _create_channel(bob, "project-x")
        await bob.wait("document.getElementById('create-join-existing')")
        assert "already exists" in await bob.js(
            "return document.getElementById('create-error').textContent"
        )
        await bob.click("#create-join-existing")
        await bob.wait("document.getElementById('channel-name').textContent === 'Project-X'")
        await bob.wait_for_body("welcome to project x")
        await bob.wait(
            "[...document.querySelectorAll('#channel-nav .chan-name')].some(e => e.textContent === 'Project-X')"
        )

        await bob.send("glad to be here")
        await alice.wait_for_body("glad to be here")

        # Alice's members dialog lists Bob now.
        await alice.click("#members-button")
        await alice.wait(
            "[...document.querySelectorAll('#members-list .member-display')].map(e => e.textContent).includes('Bob')"
        )
        # Presence: Bob is online; when his connection goes, the push turns him offline live.
        bob_row = "[...document.querySelectorAll('#members-list .member')].find(m => m.querySelector('.member-display').textContent === 'Bob')"
        await alice.wait(f"{bob_row}.dataset.presence === 'online'")
        await bob.js("window.__chatd.debugGoOffline()")
        await alice.wait(f"{bob_row}.dataset.presence === 'offline'")
        await bob.js("window.__chatd.debugGoOnline()")
        await alice.wait(f"{bob_row}.dataset.presence === 'online'")


async def test_private_channel_is_invisible_until_invited(
    engine: str, browser_factory: BrowserPool, server: RunningServer
) -> None:
    with trio.fail_after(TEST_CEILING_SECS):
        alice, bob = await two_users(engine, browser_factory, server)
        await _create_channel(alice, "secret-plans", private=True)
        await alice.wait("document.getElementById('channel-name').textContent === 'secret-plans'")
        await alice.wait_ready()
        assert await alice.js(
            "return document.getElementById('channel-icon').classList.contains('icon-lock')"
        )
        await alice.send("for members only")

        # Bob cannot see it: not in his sidebar, not in the browser, and the name does not leak.
        await bob.click("#browse-button")
        await bob.wait("document.querySelectorAll('#browse-list .browse-item').length >= 1")
        listed = await bob.js(
            "return [...document.querySelectorAll('#browse-list .browse-name bdi')].map(e => e.textContent)"
        )
        assert "secret-plans" not in listed
        await bob.js("document.querySelector('#browse-dialog [data-close]').click()")
        assert "secret-plans" not in await bob.sidebar_names()
        assert "secret-plans" not in await bob.js("return document.body.textContent")
        await _create_channel(bob, "Secret-Plans")
        await bob.wait("!document.getElementById('create-error').hidden")
        assert "taken" in await bob.js("return document.getElementById('create-error').textContent")
        assert await bob.js("return document.getElementById('create-join-existing')") is None
        await bob.js("document.getElementById('create-dialog').close()")

        # Alice invites Bob: the channel appears in his sidebar live, with its history.
        await alice.click("#invite-button")
        await alice.wait("document.getElementById('members-dialog').open")
        await alice.type_into("#invite-user", bob.username)
        await alice.click("#invite-submit")
        await alice.wait(
            "document.getElementById('invite-result').textContent.startsWith('Invited')"
        )
        await alice.wait("document.querySelectorAll('#members-list .member').length === 2")
        await alice.js("document.querySelector('#members-dialog [data-close]').click()")
        await alice.wait(
            "document.activeElement.id === 'invite-button'"
        )  # focus returns to the opener
        await bob.wait(
            "[...document.querySelectorAll('#channel-nav .chan-name')].some(e => e.textContent === 'secret-plans')"
        )

        # While Bob reads #general, a message in the new channel: badge, title, live region.
        await alice.send("are you there?")
        badge = "document.querySelector('#channel-nav button[aria-label^=\"private channel secret-plans\"] .badge')?.textContent"
        # The server starts a new member's read marker at the channel's end: only the new one counts.
        await bob.wait(f"{badge} === '1'")
        await bob.wait("document.title === '(1) #general · chatd'")
        await bob.wait(
            "document.getElementById('live').textContent === 'Alice in secret-plans: are you there?'"
        )
        await bob.open_channel("secret-plans")
        await bob.wait_for_body("are you there?")
        assert await bob.bodies() == ["for members only", "are you there?"]
        await bob.wait("document.title === '#secret-plans · chatd'")
        assert await bob.js(f"return {badge} ?? null") is None

        # Typing shows up on the other side, and goes away with the message.
        await bob.type_into("#composer-input", "typing a reply")
        await alice.wait("document.getElementById('typing').textContent === 'Bob is typing…'")
        box = await bob.call(bob.driver.find_element, "id", "composer-input")
        await bob.call(box.send_keys, Keys.ENTER)
        await alice.wait_for_body("typing a reply")
        await alice.wait("document.getElementById('typing').textContent === ''")


async def test_switcher_and_filter_with_many_channels(
    engine: str, browser_factory: BrowserPool, server: RunningServer
) -> None:
    with trio.fail_after(TEST_CEILING_SECS):
        page, account = await new_account(engine, browser_factory, server, "busy", "Busy Person")
        # 120 channels created over the protocol (fast), then the browser logs in.
        async with connect(server, account) as client:
            for i in range(120):
                await client.ok("channel.create", name=f"team-{i:03d}")
            await client.ok("channel.create", name="zebra-crossing")
        await page.log_in(account)
        assert len(await page.sidebar_names()) == 122

        # The filter narrows the list; Enter opens the best match.
        await page.type_into("#channel-filter", "zebra")
        await page.wait("document.querySelectorAll('#channel-nav .chan-name').length === 1")
        await page.call(
            (await page.call(page.driver.find_element, "id", "channel-filter")).send_keys,
            Keys.ENTER,
        )
        await page.wait("document.getElementById('channel-name').textContent === 'zebra-crossing'")
        assert await page.js("return document.activeElement.id") == "composer-input"

        # Ctrl+K opens the switcher from anywhere; typing ranks; Enter opens; focus returns to the box.
        box = await page.call(page.driver.find_element, "id", "composer-input")
        await page.call(box.send_keys, Keys.CONTROL, "k")
        await page.wait("document.getElementById('switcher').open")
        assert await page.js("return document.activeElement.id") == "switcher-input"
        await page.call(
            (await page.call(page.driver.find_element, "id", "switcher-input")).send_keys,
            "team-042",
        )
        await page.wait(
            "document.querySelector('#switcher-list li.active .chan-name')?.textContent === 'team-042'"
        )
        await page.call(
            (await page.call(page.driver.find_element, "id", "switcher-input")).send_keys,
            Keys.ENTER,
        )
        await page.wait("document.getElementById('channel-name').textContent === 'team-042'")
        assert not await page.js("return document.getElementById('switcher').open")

        # Esc closes the switcher without changing channel.
        await page.call(box.send_keys, Keys.CONTROL, "k")
        await page.wait("document.getElementById('switcher').open")
        await page.call(
            (await page.call(page.driver.find_element, "id", "switcher-input")).send_keys,
            Keys.ESCAPE,
        )
        await page.wait("!document.getElementById('switcher').open")
        assert await page.active_channel() == "team-042"
        # The recent section appears once there are many channels.
        assert await page.js(
            "return !!document.querySelector('#channel-nav [data-section=recent]')"
        )

        # Star it: it moves to Favourites, and stays there after a reload.
        section_of = (
            "document.querySelector('#channel-nav button[data-ch][aria-current=page]')"
            "?.closest('section').dataset.section"
        )
        await page.click("#fav-button")
        await page.wait(f"{section_of} === 'favourites'")
        assert (
            await page.js(
                "return document.getElementById('fav-button').getAttribute('aria-pressed')"
            )
            == "true"
        )
        await page.open_app()
        assert await page.active_channel() == "team-042", "the last channel opens again"
        await page.wait(f"{section_of} === 'favourites'")

        # Alt+↓ moves to the next channel in sidebar order.
        order = await page.js(
            "return [...document.querySelectorAll('#channel-nav .chan-name')].map(e => e.textContent)"
        )
        here = order.index("team-042")
        box = await page.call(page.driver.find_element, "id", "composer-input")
        await page.call(box.send_keys, Keys.ALT, Keys.ARROW_DOWN)
        await page.wait(
            "document.getElementById('channel-name').textContent === arguments[0]",
            10,
            order[here + 1],
        )
