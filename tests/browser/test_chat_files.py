"""Files in the web client, in Chromium, Firefox and WebKit: an image upload reaches the other
user as a thumbnail that opens at full size; a PDF arrives byte for byte under its own name; a
file over the limit is refused before any byte leaves; paste and drag-and-drop attach files; a
full disk fails the upload with a clear message, tells the admin, and text keeps flowing.

Files are chosen through the real file input (``send_keys`` with a path) where the driver
supports it; paste and drop are dispatched as the events the browser would fire, with the
files in a ``DataTransfer`` built in the page.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from chatd.config import Config
from tests.browser.chat_helpers import ChatPage, two_users, unique_name
from tests.browser.harness import BrowserPool
from tests.helpers.files import fill, small_filesystem
from tests.helpers.images import jpeg_bytes
from tests.helpers.server import RunningServer

TEST_CEILING_SECS = 120
LIMIT = 1024 * 1024  # 1 MiB: the over-limit file stays small


@pytest.fixture
def server_config(server_config: Config) -> Config:
    return dataclasses.replace(server_config, files_max_bytes=LIMIT, files_reserve_bytes=0)


@pytest.fixture
def upload_dir() -> Path:
    # Not pytest's tmp_path: the browsers (another user's processes for some drivers) read it.
    return Path(tempfile.mkdtemp(prefix="chatd-browser-files-"))


async def choose_file(page: ChatPage, path: Path) -> None:
    """Pick ``path`` in the composer's file input, as the attach button's dialog would."""
    await page.wait("!document.getElementById('attach-button').hidden")
    element = await page.call(page.driver.find_element, By.ID, "attach-input")
    try:
        await page.call(element.send_keys, str(path))
    except WebDriverException:  # a driver that cannot set files: the same change, from the page
        await page.js(
            """
            const [name, b64] = arguments;
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], name));
            const input = document.getElementById('attach-input');
            input.files = dt.files;
            input.dispatchEvent(new Event('change', {bubbles: true}));
            """,
            path.name,
            base64.b64encode(await trio.to_thread.run_sync(path.read_bytes)).decode(),
        )


async def press_enter(page: ChatPage) -> None:
    box = await page.call(page.driver.find_element, By.ID, "composer-input")
    await page.call(box.send_keys, Keys.ENTER)


async def wait_sent(page: ChatPage) -> None:
    await page.wait(
        "[...document.querySelectorAll('#message-list .msg.own')].pop()?.dataset.status === 'sent'", 30
    )


async def test_an_image_reaches_the_other_user_as_a_thumbnail_that_opens_full_size(
    engine: str, browser_factory: BrowserPool, server: RunningServer, upload_dir: Path
) -> None:
    with trio.fail_after(TEST_CEILING_SECS):
        alice, bob = await two_users(engine, browser_factory, server)
        photo = upload_dir / "Sonnenuntergang 🌅.jpg"
        photo.write_bytes(jpeg_bytes(1600, 1200))
        await choose_file(alice, photo)
        await alice.wait("document.querySelectorAll('#composer-files .staged-file').length === 1")
        await press_enter(alice)
        await wait_sent(alice)
        # Bob sees the thumbnail in a box reserved at the image's proportions, loaded.
        box = await bob.wait(
            """(() => { const img = document.querySelector('#message-list .file-thumb img');
                       return img && img.complete && img.naturalWidth > 0
                         && [img.getAttribute('width'), img.getAttribute('height'), img.naturalWidth, img.alt]; })()""",
            30,
        )
        assert box[:2] == ["360", "270"] and box[2] == 747 and box[3] == "Sonnenuntergang 🌅.jpg"
        await bob.screenshot(f"files-thumbnail-{engine}")
        await bob.click("#message-list .file-thumb")
        full = await bob.wait(
            """(() => { const v = document.getElementById('viewer'); const img = document.getElementById('viewer-image');
                       return v.open && img.complete && img.naturalWidth > 0
                         && [img.naturalWidth, img.naturalHeight, document.getElementById('viewer-name').textContent]; })()""",
            30,
        )
        assert full == [1600, 1200, "Sonnenuntergang 🌅.jpg"]
        await bob.screenshot(f"files-viewer-{engine}")
        download = await bob.js("return document.getElementById('viewer-download').getAttribute('download')")
        assert download == "Sonnenuntergang 🌅.jpg"
        focused = await bob.call(lambda: bob.driver.switch_to.active_element)
        await bob.call(focused.send_keys, Keys.ESCAPE)  # a real key press closes the viewer
        await bob.wait("!document.getElementById('viewer').open")
        assert await bob.js("return window.__chatd.cspViolations()") == []


async def test_a_pdf_reaches_the_other_user_byte_for_byte_under_its_name(
    engine: str, browser_factory: BrowserPool, server: RunningServer, upload_dir: Path
) -> None:
    with trio.fail_after(TEST_CEILING_SECS):
        alice, bob = await two_users(engine, browser_factory, server)
        data = b"%PDF-1.4\n" + bytes(range(256)) * 200 + b"\n%%EOF\n"
        name = "Bedienungsanleitung – Ü 📘.pdf"
        path = upload_dir / name
        path.write_bytes(data)
        await choose_file(alice, path)
        await alice.wait("document.querySelectorAll('#composer-files .staged-file').length === 1")
        await alice.send("the manual")
        await wait_sent(alice)
        await bob.wait_for_body("the manual", secs=30)
        card = await bob.wait(
            "(() => { const a = document.querySelector('#message-list a.file-card');"
            " return a && [a.getAttribute('download'), a.querySelector('.file-name').textContent]; })()",
            30,
        )
        assert card == [name, name]
        got = await bob.js(
            """
            const a = document.querySelector('#message-list a.file-card');
            return fetch(a.href, {credentials: 'same-origin'}).then(async (r) => {
              const digest = await crypto.subtle.digest('SHA-256', await r.arrayBuffer());
              const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
              return [r.status, hex, r.headers.get('Content-Disposition')];
            });
            """
        )
        assert got[0] == 200 and got[1] == hashlib.sha256(data).hexdigest()
        assert got[2].startswith("attachment;") and "filename*=UTF-8''Bedienungsanleitung" in got[2]


async def test_a_file_over_the_limit_is_refused_before_uploading(
    engine: str, browser_factory: BrowserPool, server: RunningServer, upload_dir: Path
) -> None:
    with trio.fail_after(TEST_CEILING_SECS):
        alice, _bob = await two_users(engine, browser_factory, server)
        big = upload_dir / "film.bin"
        big.write_bytes(b"\0" * (2 * LIMIT))
        await choose_file(alice, big)
        error = await alice.wait(
            "!document.getElementById('composer-error').hidden && document.getElementById('composer-error').textContent"
        )
        assert error == "“film.bin” is 2 MB; this server accepts files up to 1 MB."
        assert await alice.js("return document.querySelectorAll('#composer-files .staged-file').length") == 0
    assert await server.db.fetchval("t", "SELECT count(*) FROM attachments") == 0  # nothing was sent


async def test_paste_and_drop_attach_files(
    engine: str, browser_factory: BrowserPool, server: RunningServer
) -> None:
    with trio.fail_after(TEST_CEILING_SECS):
        alice, bob = await two_users(engine, browser_factory, server)
        await alice.wait("!document.getElementById('attach-button').hidden")
        staged = await alice.js(
            """
            const file = (name, text) => new File([text], name, {type: 'text/plain'});
            // The events as the browser fires them; the files travel in a DataTransfer.
            const withData = (type, key, dt) => {
              const ev = new Event(type, {bubbles: true, cancelable: true});
              Object.defineProperty(ev, key, {value: dt});
              return ev;
            };
            const pasted = new DataTransfer();
            pasted.items.add(file('pasted.txt', 'from the clipboard'));
            document.getElementById('composer-input').dispatchEvent(withData('paste', 'clipboardData', pasted));
            const dropped = new DataTransfer();
            dropped.items.add(file('dropped.txt', 'dragged in'));
            const main = document.getElementById('main');
            main.dispatchEvent(withData('dragenter', 'dataTransfer', dropped));
            const hint = !document.getElementById('drop-hint').hidden;
            main.dispatchEvent(withData('drop', 'dataTransfer', dropped));
            return [hint, [...document.querySelectorAll('#composer-files .file-name')].map((e) => e.textContent)];
            """
        )
        assert staged == [True, ["pasted.txt", "dropped.txt"]]
        await alice.send("two files")
        await wait_sent(alice)
        await bob.wait_for_body("two files", secs=30)
        names = await bob.wait(
            "(() => { const n = [...document.querySelectorAll('#message-list a.file-card .file-name')].map((e) => e.textContent);"
            " return n.length === 2 && n; })()",
            30,
        )
        assert names == ["pasted.txt", "dropped.txt"]


@pytest.fixture
def small_disk(data_dir: Path) -> Iterator[Path]:
    """The file store on a 4 MiB disk of its own (a tmpfs; the tests run as root)."""
    if os.geteuid() != 0:
        pytest.fail("mounting the small disk needs root (the test machine and CI run as root)")
    with small_filesystem(data_dir / "files", 4 * LIMIT) as mount:
        yield mount


async def test_a_full_disk_fails_the_upload_clearly_tells_the_admin_and_text_flows(
    engine: str, browser_factory: BrowserPool, small_disk: Path, server: RunningServer, upload_dir: Path
) -> None:
    with trio.fail_after(TEST_CEILING_SECS):
        admin = ChatPage(browser_factory(engine, 0), server, engine)
        bob = ChatPage(browser_factory(engine, 1), server, engine)
        await admin.register_via_api(unique_name("root"), "Root")
        await bob.register_via_api(unique_name("bob"), "Bob")
        await server.db.execute("t", "UPDATE users SET is_admin = true WHERE username = $1", admin.username)
        await admin.open_app()
        await bob.open_app()
        fill(small_disk, "filler", 3 * LIMIT + LIMIT // 2)  # half a MiB left
        photo = upload_dir / "big photo.jpg"
        photo.write_bytes(os.urandom(LIMIT - 100_000))
        await choose_file(admin, photo)
        await admin.wait("document.querySelectorAll('#composer-files .staged-file').length === 1")
        await press_enter(admin)
        failed = await admin.wait(
            "(() => { const m = [...document.querySelectorAll('#message-list .msg.own')].pop();"
            " return m && m.dataset.status === 'failed' && m.querySelector('.failed-text').textContent; })()",
            30,
        )
        assert failed == "Not sent: The server is out of space for files — text messages still work."
        notice = await admin.wait(
            "!document.getElementById('storage-notice').hidden && document.getElementById('storage-notice').textContent"
        )
        assert notice.startswith("File storage is low: uploads may be refused")
        await admin.screenshot(f"files-disk-full-{engine}")
        await admin.send("text still works")
        await admin.wait(
            "[...document.querySelectorAll('#message-list .msg.own')]"
            ".some((m) => m.querySelector('.msg-body').textContent === 'text still works' && m.dataset.status === 'sent')",
            30,
        )
        await bob.wait_for_body("text still works", secs=30)
        assert await bob.js("return document.getElementById('storage-notice').hidden") is True  # not an admin
    assert await server.db.fetchval("t", "SELECT count(*) FROM attachments") == 0
