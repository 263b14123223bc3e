"""The browser harness works in all three engines, against a real HTTPS server.

The page served here needs what chatd's web client needs: ES modules (with top-level await),
a Secure HttpOnly session cookie sent back by fetch, TextEncoder, crypto.getRandomValues and
IndexedDB, all on a self-signed certificate. Assertions read the DOM, never screenshots.
"""

from __future__ import annotations

import http.server
import json
import secrets
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import cookies
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from chatd.tls import generate_self_signed

from . import harness
from .conftest import ci_requires_browsers
from .harness import BrowserLaunchError, BrowserPool, WaitTimeout, wait_for

pytestmark = pytest.mark.browser

INDEX_HTML = b"""<!doctype html>
<meta charset="utf-8">
<title>chatd browser harness</title>
<p id="greeting">module not run</p>
<pre id="report"></pre>
<script type="module" src="/app.js"></script>
"""

GREET_JS = b"""export function greet(who) { return `hello from ${who}`; }
"""

# Everything is collected into one JSON report in the DOM, so a failure shows every check.
APP_JS = b"""import { greet } from "./greet.js";

function idbRoundTrip() {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open("harness", 1);
    open.onupgradeneeded = () => open.result.createObjectStore("kv");
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const put = db.transaction("kv", "readwrite").objectStore("kv").put(
        new Uint8Array([1, 2, 3]), "bytes");
      put.onerror = () => reject(put.error);
      put.onsuccess = () => {
        const get = db.transaction("kv").objectStore("kv").get("bytes");
        get.onerror = () => reject(get.error);
        get.onsuccess = () => { db.close(); resolve(Array.from(get.result)); };
      };
    };
  });
}

const report = {};
try {
  document.getElementById("greeting").textContent = greet("an ES module");
  report.documentCookie = document.cookie;
  report.textEncoder = Array.from(new TextEncoder().encode("h\\u00e9llo \\u2713"));
  const random = crypto.getRandomValues(new Uint8Array(32));
  report.randomLength = random.length;
  report.randomNonZero = random.some((b) => b !== 0);
  report.indexedDB = await idbRoundTrip();
  const answer = await fetch("/whoami", { credentials: "same-origin", cache: "no-store" });
  report.whoami = await answer.json();
} catch (error) {
  report.error = String(error && error.stack || error);
}
document.getElementById("report").textContent = JSON.stringify(report);
document.body.dataset.done = "1";
"""

DONE = "document.body && document.body.dataset.done === '1'"


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 and localhost (chatd's own generator)."""
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    generate_self_signed(cert_path, key_path, hostname="localhost")
    return cert_path, key_path


@dataclass
class Site:
    """The test site's address and what its server saw, guarded by ``lock``."""

    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    # user query parameter -> the sid cookie each of that user's page loads arrived with
    arrivals: dict[str, list[str | None]] = field(default_factory=dict)
    # user query parameter -> the sids the server handed out to that user
    issued: dict[str, list[str]] = field(default_factory=dict)


def _handler_for(site: Site) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 30  # ends idle keep-alive connections the browsers leave open

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep the test output clean

        def _sid(self) -> str | None:
            jar = cookies.SimpleCookie(self.headers.get("Cookie", ""))
            return jar["sid"].value if "sid" in jar else None

        def _send(self, body: bytes, content_type: str, extra: dict[str, str]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path == "/":
                user = parse_qs(parts.query).get("user", ["anonymous"])[0]
                sid = secrets.token_hex(16)
                with site.lock:
                    site.arrivals.setdefault(user, []).append(self._sid())
                    site.issued.setdefault(user, []).append(sid)
                cookie = f"sid={sid}; Secure; HttpOnly; SameSite=Strict; Path=/"
                self._send(INDEX_HTML, "text/html; charset=utf-8", {"Set-Cookie": cookie})
            elif parts.path == "/app.js":
                self._send(APP_JS, "text/javascript; charset=utf-8", {})
            elif parts.path == "/greet.js":
                self._send(GREET_JS, "text/javascript; charset=utf-8", {})
            elif parts.path == "/whoami":
                body = json.dumps({"sid": self._sid()}).encode()
                self._send(body, "application/json", {})
            else:
                self.send_error(404)

    return Handler


class _TLSServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # browsers drop speculative connections mid-handshake; that is not a test failure


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """An HTTPS server on 127.0.0.1, port 0, self-signed, in a thread for this module."""
    cert_path, key_path = _self_signed(tmp_path_factory.mktemp("tls"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    state = Site()
    server = _TLSServer(("127.0.0.1", 0), _handler_for(state))
    # The handshake happens in each connection's own thread (on first read), so a client that
    # stalls mid-handshake cannot block the accept loop.
    server.socket = context.wrap_socket(
        server.socket, server_side=True, do_handshake_on_connect=False
    )
    state.url = f"https://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, name="https-site", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _load_report(driver: Any, url: str) -> dict[str, Any]:
    driver.get(url)
    wait_for(driver, DONE, 15)
    greeting = driver.find_element("id", "greeting").text
    report: dict[str, Any] = json.loads(driver.find_element("id", "report").text)
    report["greeting"] = greeting
    return report


def test_page_features_in_every_engine(
    engine: str, browser_factory: BrowserPool, site: Site
) -> None:
    driver = browser_factory(engine)
    report = _load_report(driver, site.url + "?user=solo")

    assert "error" not in report, report["error"]
    assert report["greeting"] == "hello from an ES module"
    # The Secure HttpOnly cookie went back to the server on fetch, but the page cannot read it.
    assert report["whoami"]["sid"] == site.issued["solo"][-1]
    assert "sid=" not in report["documentCookie"]
    jar = {c["name"]: c for c in driver.get_cookies()}
    assert jar["sid"]["value"] == site.issued["solo"][-1]
    assert jar["sid"]["httpOnly"] is True
    assert jar["sid"]["secure"] is True
    assert report["textEncoder"] == list("h\u00e9llo \u2713".encode())
    assert report["randomLength"] == 32
    assert report["randomNonZero"] is True
    assert report["indexedDB"] == [1, 2, 3]


def test_two_users_at_once_do_not_share_cookies(
    engine: str, browser_factory: BrowserPool, site: Site
) -> None:
    alice = browser_factory(engine, 0)
    bob = browser_factory(engine, 1)
    assert alice is not bob
    # Both pages are open at the same time in two live sessions of the same engine.
    alice_report = _load_report(alice, site.url + "?user=alice")
    bob_report = _load_report(bob, site.url + "?user=bob")
    assert alice.execute_script("return document.body.dataset.done") == "1"

    # Neither brought a cookie: not Bob from Alice's session, and not Alice from earlier tests
    # (the pool deletes cookies between tests, and cookies ignore the port).
    assert site.arrivals["alice"][-1] is None
    assert site.arrivals["bob"][-1] is None
    assert alice_report["whoami"]["sid"] == site.issued["alice"][-1]
    assert bob_report["whoami"]["sid"] == site.issued["bob"][-1]
    assert alice_report["whoami"]["sid"] != bob_report["whoami"]["sid"]


def test_wait_for_reports_what_it_waited_for(browser: Any, site: Site) -> None:
    browser.get(site.url + "?user=waiter")
    assert wait_for(browser, "document.getElementById('greeting').textContent", 15) != ""

    started = time.monotonic()
    with pytest.raises(WaitTimeout, match=r"window\.neverSet === 1.*last value False"):
        wait_for(browser, "window.neverSet === 1", 0.3)
    assert time.monotonic() - started < 5

    with pytest.raises(WaitTimeout, match="JavaScript error"):
        wait_for(browser, "window.no.such.thing", 0.3)


def test_screenshot_lands_in_artifacts(browser: Any, site: Site) -> None:
    browser.get(site.url + "?user=camera")
    wait_for(browser, DONE, 15)
    name = f"harness-{browser.capabilities['browserName']}"
    path = harness.save_screenshot(browser, name)
    assert path == harness.ARTIFACTS_DIR / f"{name}.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_unknown_engine_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown browser engine 'netscape'"):
        harness.locate_engine("netscape")
    with pytest.raises(ValueError):
        harness.open_browser("netscape")


def test_launch_deadline_kills_a_hung_driver() -> None:
    # Stands in for WebKitWebDriver hanging in new-session: a process that never answers.
    hung = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True
    )
    started = time.monotonic()
    try:
        with pytest.raises(BrowserLaunchError, match=r"no answer within 0\.5 s"):
            harness._run_with_deadline(
                hung.wait, 0.5, "fake: new session", lambda: harness._kill_group(hung)
            )
        assert time.monotonic() - started < 5
        assert hung.poll() == -signal.SIGKILL
    finally:
        if hung.poll() is None:
            hung.kill()
            hung.wait()


@pytest.mark.parametrize(
    ("environ", "strict"),
    [({"CI": "true"}, True), ({"CI": "1"}, True), ({"CI": "false"}, False), ({}, False)],
)
def test_missing_engines_fail_only_under_ci(environ: dict[str, str], strict: bool) -> None:
    assert ci_requires_browsers(environ) is strict
