"""Session expiry in Chromium, Firefox and WebKit: a log-in dialog over the app that keeps the
draft and the outbox, then reconnects and delivers what was queued."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from chatd.clock import FakeClock
from chatd.config import Config, load_config
from tests.browser.chat_helpers import PASSWORD, ChatPage, unique_name
from tests.browser.harness import BrowserPool
from tests.helpers.server import RunningServer

TEST_CEILING_SECS = 120


@pytest.fixture
def server_config(data_dir: Path, db_dsn: str) -> Config:
    """As the shared fixture, but sessions are re-checked every 0.2 s instead of every 30 s."""
    return load_config(
        env={},
        overrides={
            "data_dir": str(data_dir),
            "port": 0,
            "database_url": db_dsn,
            "shutdown_grace_secs": 2,
            "session_check_secs": 0.2,
        },
    )


async def _log_in_again(page: ChatPage) -> None:
    await page.wait("document.getElementById('login-dialog').open")
    assert await page.js("return document.getElementById('login-username').value") == page.username
    await page.type_into("#login-password", PASSWORD)
    await page.click("#login-submit")
    await page.wait(
        "!document.getElementById('login-dialog').open && window.__chatd.status() === 'online'"
    )


async def test_session_expiry_relogin_keeps_draft_and_outbox(
    engine: str, browser_factory: BrowserPool, server: RunningServer, clock: FakeClock
) -> None:
    with trio.fail_after(TEST_CEILING_SECS):
        page = ChatPage(browser_factory(engine), server, engine)
        await page.register_via_api(unique_name("sleepy"), "Sleepy")
        await page.open_app()
        idle = server.config.session_idle_secs

        # 1. The session expires while connected: session.expired + 4001 → the dialog.
        await page.send("before expiry")
        await page.wait(
            "document.querySelector('#message-list .msg.own')?.dataset.status === 'sent'"
        )
        await page.type_into("#composer-input", "a draft I care about")
        clock.advance(idle + 60)
        await page.wait("window.__chatd.status() === 'expired'")
        assert "session expired" in await page.js(
            "return document.getElementById('conn-text').textContent"
        )
        await page.wait("document.getElementById('login-dialog').open")
        assert (
            await page.js("return document.getElementById('composer-input').value")
            == "a draft I care about"
        )
        # Esc does not dismiss it: without a session nothing could be sent.
        await page.js(
            "document.getElementById('login-dialog').dispatchEvent(new Event('cancel', {cancelable: true}))"
        )
        assert await page.js("return document.getElementById('login-dialog').open")
        # A wrong password is refused in the dialog.
        await page.type_into("#login-password", "not my password")
        await page.click("#login-submit")
        await page.wait("!document.getElementById('login-error').hidden")
        assert await page.js("return document.getElementById('login-dialog').open")
        await page.js("document.getElementById('login-password').value = ''")
        await _log_in_again(page)
        assert (
            await page.js("return document.getElementById('composer-input').value")
            == "a draft I care about"
        )

        # 2. Queued while offline, the session expires meanwhile: hello is refused, the dialog
        # appears, and after logging in the queued message goes out once.
        await page.js("window.__chatd.debugGoOffline()")
        await page.wait("window.__chatd.status() === 'offline'")
        await page.js("document.getElementById('composer-input').value = ''")
        await page.send("queued while the session ran out")
        await page.type_into("#composer-input", "second draft")
        clock.advance(idle + 60)
        await page.js("window.__chatd.debugGoOnline()")
        await page.wait("window.__chatd.status() === 'expired'")
        assert [e["body"] for e in await page.js("return window.__chatd.outbox()")] == [
            "queued while the session ran out"
        ]
        assert await page.status_of("queued while the session ran out") in ("pending", "sending")
        await _log_in_again(page)
        await page.wait("window.__chatd.outbox().length === 0")
        await page.wait(
            "[...document.querySelectorAll('#message-list .msg')].some(m =>"
            " m.querySelector('.msg-body').textContent === 'queued while the session ran out' && m.dataset.status === 'sent')"
        )
        assert (
            await page.js("return document.getElementById('composer-input').value")
            == "second draft"
        )
        count = await server.db.fetchval(
            "test.count",
            "SELECT count(*) FROM messages WHERE body = $1",
            "queued while the session ran out",
        )
        assert count == 1


async def test_draft_survives_a_reload(
    engine: str, browser_factory: BrowserPool, server: RunningServer
) -> None:
    with trio.fail_after(TEST_CEILING_SECS):
        page = ChatPage(browser_factory(engine), server, engine)
        await page.register_via_api(unique_name("drafter"), "Drafter")
        await page.open_app()
        await page.type_into("#composer-input", "unfinished thought")
        await page.open_app()  # reload
        await page.wait("document.getElementById('composer-input').value === 'unfinished thought'")
        # Shift+Enter adds a line instead of sending.
        box = await page.call(page.driver.find_element, "id", "composer-input")
        shift_enter = (
            ActionChains(page.driver)
            .key_down(Keys.SHIFT, box)
            .send_keys(Keys.ENTER)
            .key_up(Keys.SHIFT)
        )
        await page.call(shift_enter.perform)
        await page.call(box.send_keys, "second line")
        assert (
            await page.js("return document.getElementById('composer-input').value")
            == "unfinished thought\nsecond line"
        )
        assert await page.bodies() == []
        await page.call(box.send_keys, Keys.ENTER)
        await page.wait_for_body("unfinished thought\nsecond line")
        assert await page.js("return document.getElementById('composer-input').value") == ""
        await page.open_app()
        assert await page.js("return document.getElementById('composer-input').value") == ""
