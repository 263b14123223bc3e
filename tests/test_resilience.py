"""Failures: chatd killed mid-burst, PostgreSQL restarted under chatd, peers that go silent."""

from __future__ import annotations

import base64
import os
import shutil
import socket
import ssl
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import trio
import trio.testing

from chatd.config import load_config
from chatd.pgcluster import EmbeddedCluster
from chatd.store import apply_migrations, open_database
from chatd.store.channels import ensure_default_channel
from tests.helpers.client import connect, general_id, register
from tests.helpers.proc import ChatdProcess
from tests.helpers.server import Endpoint, RunningServer, insecure_ssl_context, run_test_server

pytestmark = pytest.mark.slow


async def test_kill_9_mid_burst_loses_no_acked_message_and_retries_do_not_double(data_dir: Path) -> None:
    proc = ChatdProcess(data_dir).start()
    srv = Endpoint(proc.url)
    sent: dict[bytes, str] = {}
    acked: dict[bytes, int] = {}
    alice = await register(srv, "alice")
    bob = await register(srv, "bob")
    async with connect(srv, bob) as b:
        ch = general_id(b)
        last_seen = 0
        async with connect(srv, alice) as a:
            rids: dict[int, bytes] = {}
            for i in range(400):
                cid = os.urandom(16)
                sent[cid] = f"burst {i}"
                rids[await a.send("send", ch=ch, cid=cid, body=sent[cid])] = cid
                if i == 200:
                    proc.signal(9)  # kill -9 in the middle of the burst
                    break
            with trio.move_on_after(5):
                await a.wait_closed()
            for rid, cid in rids.items():
                reply = a.replies.get(rid)
                if reply and reply["op"] == "ack":
                    acked[cid] = reply["seq"]
        last_seen = max((m["seq"] for m in b.msgs(ch)), default=0)
    proc.wait()

    proc2 = ChatdProcess(data_dir).start()
    srv2 = Endpoint(proc2.url)
    try:
        async with connect(srv2, alice) as a2:
            # Every acked message is there exactly once, with the seq its ack said.
            history = await a2.ok("history", ch=ch, limit=100)
            while history["more"]:
                older = await a2.ok("history", ch=ch, before=history["messages"][0]["seq"], limit=100)
                history["messages"] = older["messages"] + history["messages"]
                history["more"] = older["more"]
            stored = {m["cid"]: m["seq"] for m in history["messages"]}
            for cid, seq in acked.items():
                assert stored.get(cid) == seq
            # The client retries everything it has no ack for, with the same cid.
            for cid, body in sent.items():
                if cid not in acked:
                    ack = await a2.send_message(ch, body, cid)
                    assert ack["op"] == "ack"
        async with connect(srv2, bob, resume=[[ch, last_seen]]) as b2:
            caught = await b2.wait_push("caughtup", ch=ch)
            replay = b2.msgs(ch)
            assert [m["seq"] for m in replay] == list(range(last_seen + 1, caught["seq"] + 1))
    finally:
        assert proc2.terminate_and_wait() == 0
    # Exactly one row per cid the client ever sent, dense seqs.
    assert len(stored) + len([c for c in sent if c not in stored]) == len(sent)
    assert caught["seq"] == len(sent)


@pytest.fixture
async def own_cluster(aio_loop: None) -> AsyncIterator[EmbeddedCluster]:
    root = Path(tempfile.mkdtemp(prefix="chatd-res-pg-"))  # its own root: the server account enters it
    cluster = EmbeddedCluster(root)
    with cluster.running():
        async with open_database(cluster.dsn_for("postgres"), 2, 10) as admin:
            await admin.execute("t", "CREATE DATABASE chatd")
        async with open_database(cluster.dsn, 2, 10) as db:
            await apply_migrations(db)
            await ensure_default_channel(db)
        yield cluster
    shutil.rmtree(root, ignore_errors=True)


async def test_postgres_restart_under_a_running_chatd(own_cluster: EmbeddedCluster, data_dir: Path, nursery: trio.Nursery) -> None:
    cfg = load_config(env={}, overrides={"data_dir": str(data_dir), "port": 0, "database_url": own_cluster.dsn})
    async with open_database(own_cluster.dsn, 4, 10) as db, run_test_server(cfg, db, nursery) as server:
        alice, bob = await register(server, "alice"), await register(server, "bob")
        async with connect(server, alice) as a, connect(server, bob) as b:
            ch = general_id(a)
            assert (await a.send_message(ch, "before"))["seq"] == 1
            await trio.to_thread.run_sync(own_cluster.stop)
            err = await a.send_message(ch, "while down")
            assert err["op"] == "error" and err["code"] == "unavailable" and err["retry"] is True
            assert (await server.get("/healthz")).status == 503
            await trio.to_thread.run_sync(own_cluster.start)
            with trio.fail_after(30):
                while True:
                    reply = await a.send_message(ch, "after", b"\x01" * 16)
                    if reply["op"] == "ack":
                        break
                    assert reply["code"] == "unavailable"
                    await trio.sleep(0.2)
            assert reply["seq"] == 2
            msgs = await b.wait_msgs(ch, 2)
            assert [m["body"] for m in msgs] == ["before", "after"]
            assert (await server.get("/healthz")).status == 200
            # The NOTIFY listener reconnected too: a commit by another writer appears live.
            from chatd.admin.post import post_as

            with trio.fail_after(30):
                await server.state.events.connected.wait()
            await post_as(db, "general", "alice", "posted by the CLI", 1000)
            with trio.fail_after(10):
                msgs = await b.wait_msgs(ch, 3)
            assert msgs[-1]["body"] == "posted by the CLI"


def _raw_upgrade(url: str, origin: str, cookie: str, rcvbuf: int = 0) -> ssl.SSLSocket:
    parts = urlsplit(url)
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:  # a small receive window: a peer that stops reading backs up fast
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    raw.connect((parts.hostname, parts.port))
    tls = insecure_ssl_context().wrap_socket(raw, server_hostname=parts.hostname)
    key = base64.b64encode(os.urandom(16)).decode()
    tls.sendall(
        (
            f"GET /ws HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n"
            f"Cookie: __Host-chatd_session={cookie}\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += tls.recv(4096)
    assert head.startswith(b"HTTP/1.1 101"), head
    return tls


@pytest.fixture
def server_config(data_dir: Path, db_dsn: str):  # type: ignore[no-untyped-def]
    """Fast liveness settings for this file's in-process servers."""
    return load_config(
        env={},
        overrides={
            "data_dir": str(data_dir), "port": 0, "database_url": db_dsn, "shutdown_grace_secs": 2,
            "ws_ping_secs": 0.5, "ws_timeout_secs": 1.5,
        },
    )


async def test_a_silent_peer_is_dropped(server: RunningServer) -> None:
    acct = await register(server, "ghost")
    tls = await trio.to_thread.run_sync(_raw_upgrade, server.url, server.origin, acct.token)
    tls.settimeout(10)
    started = trio.current_time()

    def read_until_closed() -> None:
        while True:
            try:
                if not tls.recv(4096):
                    return
            except (ConnectionError, ssl.SSLError, OSError):
                return

    await trio.to_thread.run_sync(read_until_closed)
    elapsed = trio.current_time() - started
    assert elapsed < 5, f"silent peer kept for {elapsed:.1f} s"
    tls.close()


async def test_a_live_peer_answering_pings_stays(server: RunningServer) -> None:
    acct = await register(server, "alive")
    async with connect(server, acct) as c:
        await trio.sleep(3)  # two timeouts' worth: trio-websocket answers the pings
        assert c.closed is None
        assert (await c.request("ping"))["op"] == "ok"


def _masked_binary_frame(payload: bytes) -> bytes:
    """One client→server WebSocket binary frame (clients must mask)."""
    mask = os.urandom(4)
    head = bytearray([0x82])
    n = len(payload)
    if n < 126:
        head.append(0x80 | n)
    elif n < 65536:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    return bytes(head) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


@pytest.fixture
def slow_config(data_dir: Path, db_dsn: str):  # type: ignore[no-untyped-def]
    return load_config(
        env={},
        overrides={"data_dir": str(data_dir), "port": 0, "database_url": db_dsn, "outbound_queue_frames": 16},
    )


async def test_a_slow_consumer_is_closed_and_the_channel_never_waits(
    slow_config, db, nursery: trio.Nursery  # type: ignore[no-untyped-def]
) -> None:
    from chatd.wire import encode_client_frame

    async with run_test_server(slow_config, db, nursery) as server:
        sloth, alice = await register(server, "sloth"), await register(server, "alice")
        tls = await trio.to_thread.run_sync(_raw_upgrade, server.url, server.origin, sloth.token, 4096)
        try:
            await trio.to_thread.run_sync(tls.sendall, _masked_binary_frame(encode_client_frame({"op": "hello", "rid": 1, "v": 1})))
            with trio.fail_after(10):
                while not server.state.connections.of_user(sloth.user_id):
                    await trio.testing.wait_all_tasks_blocked(0.05)
            # The sloth never reads. Alice keeps sending big messages: acks must keep coming.
            async with connect(server, alice) as a:
                ch = general_id(a)
                with trio.fail_after(60):
                    for i in range(400):
                        ack = await a.send_message(ch, f"{i} " + "x" * 15000)
                        assert ack["op"] == "ack"
                        if not server.state.connections.of_user(sloth.user_id):
                            break
                assert not server.state.connections.of_user(sloth.user_id), "the slow consumer was never dropped"
        finally:
            tls.close()
