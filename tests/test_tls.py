"""TLS, scanned: HAProxy's listener (the shipped haproxy.cfg) and chatd's own (the embedded
default) follow Mozilla's "intermediate" profile as far as Debian 12's OpenSSL allows; HSTS is on
HAProxy's own error pages too; plain HTTP is redirected; chatd reloads its certificate files on
SIGHUP without dropping a connection."""

from __future__ import annotations

import shutil
import signal
import ssl
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

from chatd.tls import fingerprint, generate_self_signed
from tests.helpers.client import connect, general_id, register
from tests.helpers.haproxy import free_port, run_haproxy
from tests.helpers.proc import ChatdProcess
from tests.helpers.server import Endpoint, RunningServer, http_request_sync
from tests.helpers.tlsscan import scan

pytestmark = pytest.mark.slow
CEILING_SECS = 120


@pytest.fixture
def work_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="chatd-test-tls-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_haproxy_tls_is_mozilla_intermediate_with_hsts_and_redirect(work_dir: Path) -> None:
    # No chatd behind it: HAProxy answers 503 itself, which must carry HSTS too.
    with run_haproxy(work_dir, free_port()) as proxy:
        summary = scan("127.0.0.1", proxy.https_port)
        print(f"HAProxy: {summary.line()}")
        assert summary.failures() == [], summary
        assert summary.versions == ["TLSv1.2", "TLSv1.3"]
        assert summary.curves == ["X25519", "secp256r1", "secp384r1"]

        own_error = http_request_sync("GET", proxy.https_url + "/")
        assert own_error.status == 503
        assert own_error.headers["strict-transport-security"] == "max-age=63072000"

        plain = http_request_sync("GET", proxy.http_url + "/channels?x=1")
        assert plain.status == 301
        assert plain.headers["location"] == f"https://127.0.0.1:{proxy.http_port}/channels?x=1"
        assert "strict-transport-security" not in plain.headers  # meaningless over plain HTTP
        # ACME HTTP-01 challenges go to certbot's standalone server, not to the redirect.
        challenge = http_request_sync("GET", proxy.http_url + "/.well-known/acme-challenge/token")
        assert challenge.status == 503  # no certbot running here


async def test_chatd_own_tls_is_mozilla_intermediate(server: RunningServer) -> None:
    port = int(server.url.rsplit(":", 1)[1])
    summary = await trio.to_thread.run_sync(scan, "127.0.0.1", port)
    print(f"chatd: {summary.line()}")
    # Python's ssl module cannot narrow OpenSSL's key-exchange groups, so chatd also offers
    # X448 and P-521 (both stronger than the profile's); everything else is as the profile says.
    assert summary.failures(frozenset({"certificate_path_validation", "maximum_certificate_lifespan",
                                       "tls_curves"})) == [], summary
    assert summary.versions == ["TLSv1.2", "TLSv1.3"]
    health = await server.get("/healthz")
    assert health.headers["strict-transport-security"].startswith("max-age=")


async def _wait_output(chatd: ChatdProcess, text: str) -> None:
    # The child's log is read by a thread of its own: poll it (no event to wait on).
    for _ in range(600):
        if text in chatd.output:
            return
        await trio.sleep(0.05)
    raise AssertionError(f"{text!r} not in chatd's output:\n{chatd.output}")


def _served_fingerprint(port: int) -> str:
    return fingerprint(ssl.get_server_certificate(("127.0.0.1", port)).encode())


async def test_sighup_reloads_certificate_files_without_dropping_connections(work_dir: Path, db_dsn: str) -> None:
    # Let's Encrypt style: fixed paths whose content a renewal replaces.
    live = work_dir / "live"
    live.mkdir()
    cert, key = live / "fullchain.pem", live / "privkey.pem"
    generate_self_signed(cert, key, "first")
    first_fp = fingerprint(cert.read_bytes())
    port = free_port()
    chatd = ChatdProcess(work_dir / "data", "--port", str(port), env={
        "CHATD_DATABASE_URL": db_dsn, "CHATD_TLS_CERT": str(cert), "CHATD_TLS_KEY": str(key),
    })
    await trio.to_thread.run_sync(chatd.start)
    try:
        with trio.fail_after(CEILING_SECS):
            front = Endpoint(chatd.url)
            assert await trio.to_thread.run_sync(_served_fingerprint, port) == first_fp
            alice = await register(front, "alice")
            async with connect(front, alice) as a:
                ch = general_id(a)
                # The renewal: new files in place, then SIGHUP (what the certbot hook does).
                staging = work_dir / "staging"
                staging.mkdir()
                generate_self_signed(staging / "c.pem", staging / "k.pem", "second")
                (staging / "c.pem").replace(cert)
                (staging / "k.pem").replace(key)
                second_fp = fingerprint(cert.read_bytes())
                chatd.signal(signal.SIGHUP)
                await _wait_output(chatd, "event=tls.reloaded")
                assert await trio.to_thread.run_sync(_served_fingerprint, port) == second_fp
                assert (await a.send_message(ch, "still here"))["op"] == "ack"  # the old connection
                assert a.closed is None

                # A broken renewal is refused and the current certificate kept.
                key.write_text("not a key")
                chatd.signal(signal.SIGHUP)
                await _wait_output(chatd, "event=tls.reload_failed")
                assert await trio.to_thread.run_sync(_served_fingerprint, port) == second_fp
                assert (await a.send_message(ch, "and still"))["op"] == "ack"
    finally:
        assert await trio.to_thread.run_sync(chatd.terminate_and_wait) == 0
