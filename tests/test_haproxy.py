"""The shipped haproxy.cfg, run for real on loopback in front of chatd (plain HTTP on 127.0.0.1):
it loads, WebSockets idle past ``timeout client``, X-Forwarded-For counts only from the proxy,
the health check takes chatd out and back, a SIGTERM'd chatd drains (1001) and clients resume.

The browser through HAProxy is in tests/browser/test_chat_proxy.py; the TLS scan, HSTS and the
redirect in tests/test_tls.py.
"""

from __future__ import annotations

import http.client
import json
import shutil
import ssl
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import trio

from chatd.auth.passwords import Passwords
from chatd.auth.runtime import AuthRuntime
from chatd.clock import FakeClock
from chatd.config import Config, load_config
from chatd.pgcluster import EmbeddedCluster
from chatd.store import Database
from tests.helpers.client import connect, general_id, register
from tests.helpers.haproxy import (
    SHIPPED,
    RunningHAProxy,
    check_config,
    free_port,
    loopback_config,
    make_pem,
    run_haproxy,
)
from tests.helpers.proc import ChatdProcess
from tests.helpers.server import (
    Endpoint,
    RunningServer,
    http_request_sync,
    insecure_ssl_context,
    run_test_server,
)
from tests.test_auth_support import FAST_PARAMETERS

pytestmark = pytest.mark.slow
CEILING_SECS = 90


@pytest.fixture
def work_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="chatd-test-haproxy-"))
    path.chmod(0o711)  # as root, the PostgreSQL account must pass through to a cluster inside
    yield path
    shutil.rmtree(path, ignore_errors=True)


def proxied_config(data_dir: Path, db_dsn: str, https_port: int, **extra: object) -> Config:
    """chatd as docs/install.md configures it behind HAProxy: plain HTTP on loopback."""
    return load_config(env={}, overrides={
        "data_dir": str(data_dir), "database_url": db_dsn, "host": "127.0.0.1", "port": 0, "tls": False,
        "public_origins": [f"https://127.0.0.1:{https_port}"], "trusted_proxies": ["127.0.0.1"],
        "shutdown_grace_secs": 2, **extra,
    })


@asynccontextmanager
async def chatd_behind_haproxy(
    data_dir: Path, db_dsn: str, db: Database, nursery: trio.Nursery, folder: Path, **timeouts: str
) -> AsyncIterator[tuple[RunningServer, RunningHAProxy, Endpoint]]:
    https_port = free_port()
    cfg = proxied_config(data_dir, db_dsn, https_port)
    async with run_test_server(cfg, db, nursery, FakeClock()) as server:
        server.state.auth = AuthRuntime(passwords=Passwords(FAST_PARAMETERS))
        backend_port = int(server.url.rsplit(":", 1)[1])
        with run_haproxy(folder, backend_port, https_port=https_port, timeouts=timeouts) as proxy:
            yield server, proxy, Endpoint(proxy.https_url)


def test_shipped_config_passes_haproxy_check(work_dir: Path) -> None:
    text = SHIPPED.read_text()
    for line in ("timeout tunnel 1h", "timeout client-fin 30s", "hard-stop-after 30s", "option forwardfor",
                 "option httpchk GET /healthz", "check inter 2s fall 3 rise 2", "ssl-min-ver TLSv1.2",
                 'http-after-response set-header Strict-Transport-Security "max-age=63072000"'):
        assert line in text, line
    path = loopback_config(work_dir, https_port=free_port(), http_port=free_port(), backend_port=8080,
                           pem=make_pem(work_dir))
    result = check_config(path)
    assert result.returncode == 0, result.stdout + result.stderr


async def test_websocket_through_haproxy_outlives_timeout_client(
    data_dir: Path, db_dsn: str, db: Database, nursery: trio.Nursery, work_dir: Path
) -> None:
    # timeout client/server shortened to 1 s: a WebSocket silent for 4 s (chatd pings every 10 s)
    # stays open only because the upgraded connection is a tunnel with `timeout tunnel 1h`.
    with trio.fail_after(CEILING_SECS):
        async with chatd_behind_haproxy(data_dir, db_dsn, db, nursery, work_dir, client="1s", server="1s") as (
            _server, _proxy, front,
        ):
            alice, bob = await register(front, "alice"), await register(front, "bob")
            async with connect(front, alice) as a, connect(front, bob) as b:
                ch = general_id(a)
                await trio.sleep(4)  # real time: HAProxy's timers are real
                assert a.closed is None and b.closed is None
                ack = await a.send_message(ch, "after a long silence")
                assert ack["op"] == "ack"
                [msg] = await b.wait_msgs(ch, 1)
                assert msg["body"] == "after a long silence" and msg["seq"] == ack["seq"]


def _login(url: str, source: str, username: str, forged_xff: str) -> int:
    """POST a wrong password to /api/login from ``source`` (an address in 127/8)."""
    host, port = url.split("//")[1].split(":")
    conn: http.client.HTTPConnection
    if url.startswith("https"):
        conn = http.client.HTTPSConnection(host, int(port), context=insecure_ssl_context(), timeout=30,
                                           source_address=(source, 0))
    else:
        conn = http.client.HTTPConnection(host, int(port), timeout=30, source_address=(source, 0))
    try:
        body = json.dumps({"username": username, "password": "wrong"})
        conn.request("POST", "/api/login", body=body, headers={
            "Content-Type": "application/json", "X-Forwarded-For": forged_xff,
        })
        return conn.getresponse().status
    finally:
        conn.close()


async def test_x_forwarded_for_counts_only_from_the_proxy(
    data_dir: Path, db_dsn: str, db: Database, nursery: trio.Nursery, work_dir: Path
) -> None:
    with trio.fail_after(CEILING_SECS):
        async with chatd_behind_haproxy(data_dir, db_dsn, db, nursery, work_dir) as (server, _proxy, front):
            def attempts(url: str, source: str, xff: str | None, n: int) -> list[int]:
                return [_login(url, source, f"nobody{source[-1]}x{i}", xff or f"203.0.113.{i}") for i in range(n)]

            # Through HAProxy from 127.0.0.3, with a forged header: the address HAProxy appends
            # is the client's. Ten failures are free, the eleventh starts a backoff.
            statuses = await trio.to_thread.run_sync(attempts, front.url, "127.0.0.3", "198.51.100.7", 12)
            assert statuses[:11] == [401] * 11 and statuses[11] == 429, statuses
            # Another client behind the proxy, forging the same header, is a different address.
            assert await trio.to_thread.run_sync(_login, front.url, "127.0.0.4", "someone", "198.51.100.7") == 401

            # Straight to chatd from 127.0.0.2 (not a trusted proxy), a new forged address each
            # time: ignored, so the attempts add up on 127.0.0.2 and it is throttled too.
            statuses = await trio.to_thread.run_sync(attempts, server.url, "127.0.0.2", None, 12)
            assert statuses[:11] == [401] * 11 and statuses[11] == 429, statuses


def _front_page(proxy: RunningHAProxy) -> tuple[int, str]:
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", proxy.https_port, context=ctx, timeout=10)
    try:
        conn.request("GET", "/healthz")
        resp = conn.getresponse()
        return resp.status, resp.read().decode(errors="replace")
    finally:
        conn.close()


def _wait_front(proxy: RunningHAProxy, want: str, timeout: float = 30) -> float:
    """Poll through HAProxy until it answers from chatd (``"chatd"``) or says no server is up
    (``"down"``); returns the seconds it took."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        status, body = _front_page(proxy)
        state = "down" if status == 503 and "No server is available" in body else "chatd"
        if state == want:
            return time.monotonic() - t0
        time.sleep(0.2)
    raise AssertionError(f"HAProxy never showed {want!r} within {timeout} s; last {status}: {body[:200]}\n"
                         f"{proxy.log_text()[-2000:]}")


def test_health_check_takes_chatd_out_while_its_database_is_down(work_dir: Path) -> None:
    # chatd on its own PostgreSQL (started here), so the database can be stopped under it.
    pg_root = work_dir / "pg-own"
    cluster = EmbeddedCluster(pg_root)
    cluster.prepare()
    cluster.start()
    chatd: ChatdProcess | None = None
    try:
        https_port, backend_port = free_port(), free_port()
        chatd = ChatdProcess(work_dir / "data", "--no-tls", "--port", str(backend_port), env={
            "CHATD_DATABASE_URL": cluster.dsn_for("postgres"), "CHATD_DB_CONNECT_TIMEOUT_SECS": "5",
            "CHATD_PUBLIC_ORIGINS": f"https://127.0.0.1:{https_port}", "CHATD_TRUSTED_PROXIES": "127.0.0.1",
        }).start()
        with run_haproxy(work_dir, backend_port, https_port=https_port) as proxy:
            _wait_front(proxy, "chatd")
            cluster.stop()
            assert http_request_sync("GET", chatd.url + "/healthz").status == 503
            out_after = _wait_front(proxy, "down")
            # 3 failed checks 2 s apart (the first may come at once)
            assert 2 <= out_after <= 15, out_after
            cluster.start()
            back_after = _wait_front(proxy, "chatd")
            assert back_after <= 15, back_after
            log = proxy.log_text()
            assert "chatd/chatd1 is DOWN" in log and "chatd/chatd1 is UP" in log, log
    finally:
        if chatd is not None and chatd.proc is not None and chatd.proc.poll() is None:
            chatd.terminate_and_wait()
        cluster.stop()


async def test_sigterm_drains_through_haproxy_and_clients_resume_after_restart(
    db_dsn: str, work_dir: Path
) -> None:
    https_port, backend_port = free_port(), free_port()
    env = {
        "CHATD_DATABASE_URL": db_dsn, "CHATD_PUBLIC_ORIGINS": f"https://127.0.0.1:{https_port}",
        "CHATD_TRUSTED_PROXIES": "127.0.0.1", "CHATD_SHUTDOWN_GRACE_SECS": "5",
    }

    def start_chatd() -> ChatdProcess:
        return ChatdProcess(work_dir / "data", "--no-tls", "--port", str(backend_port), env=env).start()

    first = await trio.to_thread.run_sync(start_chatd)
    second: ChatdProcess | None = None
    try:
        with run_haproxy(work_dir, backend_port, https_port=https_port) as proxy, trio.fail_after(CEILING_SECS):
            front = Endpoint(proxy.https_url)
            alice, bob = await register(front, "alice"), await register(front, "bob")
            async with connect(front, alice) as a, connect(front, bob) as b:
                ch = general_id(a)
                ack = await a.send_message(ch, "before the restart")
                await b.wait_msgs(ch, 1)
                first.signal(15)
                assert (await a.wait_closed()).code == 1001  # through the proxy's tunnel
                assert (await b.wait_closed()).code == 1001
            assert await trio.to_thread.run_sync(first.wait) == 0

            second = await trio.to_thread.run_sync(start_chatd)
            await trio.to_thread.run_sync(_wait_front, proxy, "chatd")
            async with connect(front, bob) as b:
                later = await b.send_message(ch, "while alice was away")
            async with connect(front, alice, resume=[[ch, ack["seq"]]]) as a:
                await a.wait_push("caughtup", ch=ch)
                assert [m["body"] for m in a.msgs(ch)] == ["while alice was away"]
                assert a.msgs(ch)[0]["seq"] == later["seq"] == ack["seq"] + 1
    finally:
        for proc in (first, second):
            if proc is not None and proc.proc is not None and proc.proc.poll() is None:
                proc.terminate_and_wait()
