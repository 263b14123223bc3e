"""The web client through the shipped haproxy.cfg (TLS at HAProxy, chatd on plain HTTP on
loopback), in Chromium, Firefox and WebKit: sign up with the form, chat live, resume after a cut."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio
from selenium.webdriver.common.by import By

from chatd.config import Config, load_config
from tests.browser.chat_helpers import PASSWORD, ChatPage, unique_name
from tests.browser.harness import BrowserPool
from tests.helpers.haproxy import free_port, run_haproxy
from tests.helpers.server import RunningServer

TEST_CEILING_SECS = 120


@pytest.fixture
def proxy_port() -> int:
    return free_port()


@pytest.fixture
def server_config(data_dir: Path, db_dsn: str, proxy_port: int) -> Config:
    """chatd as docs/install.md runs it behind HAProxy: plain HTTP on loopback, the proxy's
    origin as the public one, X-Forwarded-For trusted from 127.0.0.1 only."""
    return load_config(env={}, overrides={
        "data_dir": str(data_dir), "port": 0, "database_url": db_dsn, "tls": False,
        "public_origins": [f"https://127.0.0.1:{proxy_port}"], "trusted_proxies": ["127.0.0.1"],
        "shutdown_grace_secs": 2,
    })


@pytest.fixture
def proxied(server: RunningServer, proxy_port: int) -> Iterator[RunningServer]:
    """The test server as browsers see it: through HAProxy at https://127.0.0.1:proxy_port."""
    folder = Path(tempfile.mkdtemp(prefix="chatd-test-haproxy-"))
    try:
        with run_haproxy(folder, int(server.url.rsplit(":", 1)[1]), https_port=proxy_port) as proxy:
            yield dataclasses.replace(server, url=proxy.https_url)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def test_sign_up_chat_and_resume_through_haproxy(
    engine: str, browser_factory: BrowserPool, proxied: RunningServer
) -> None:
    with trio.fail_after(TEST_CEILING_SECS):
        alice = ChatPage(browser_factory(engine, 0), proxied, engine)
        await alice.get("/register")
        await alice.type_into("#username", unique_name("alice"))
        await alice.type_into("#display_name", "Alice")
        await alice.type_into("#password", PASSWORD)
        await alice.call((await alice.call(alice.driver.find_element, By.ID, "auth-form")).submit)
        await alice.wait_ready()
        assert await alice.js("return location.origin") == proxied.url
        bob = ChatPage(browser_factory(engine, 1), proxied, engine)
        await bob.register_via_api(unique_name("bob"), "Bob")
        await bob.open_app()

        await alice.send("hello through the proxy")
        await bob.wait_for_body("hello through the proxy")
        await alice.wait("document.querySelector('#message-list .msg.own')?.dataset.status === 'sent'")

        await bob.js("window.__chatd.debugGoOffline()")
        await bob.wait("window.__chatd.status() === 'offline'")
        missed = [f"missed {i}" for i in range(1, 4)]
        for body in missed:
            await alice.send(body)
        await alice.wait(
            "[...document.querySelectorAll('#message-list .msg.own')].every(m => m.dataset.status === 'sent')"
        )
        await bob.js("window.__chatd.debugGoOnline()")
        await bob.wait_for_body(missed[-1])
        assert await bob.bodies() == ["hello through the proxy", *missed]
