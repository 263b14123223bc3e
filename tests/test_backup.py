"""Backup and restore, verified: clients send while a backup runs; the archive restores into a
fresh data directory with every message acked before the backup began, at its seq; stored files
hash equal; the restored server starts and a client that is ahead of it gets ``resync``. Also:
the refusals (non-empty target, a tampered archive) and ``chatd export``."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

from chatd.backup import create_backup
from chatd.pgcluster import EmbeddedCluster
from chatd.store import open_database
from tests.helpers.client import Client, connect, general_id, register
from tests.helpers.proc import ChatdProcess, run_cli
from tests.helpers.server import Endpoint, RunningServer

pytestmark = pytest.mark.slow
CEILING_SECS = 180


@pytest.fixture
def restore_root() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="chatd-test-restore-"))
    path.chmod(0o711)  # as root, the restored cluster's account must pass through
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _store_file(data_dir: Path, content: bytes) -> str:
    """A file as a content-addressed store keeps it: files/<2 hex>/<sha256>."""
    digest = hashlib.sha256(content).hexdigest()
    path = data_dir / "files" / digest[:2] / digest
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return digest


async def _send_until(client: Client, ch: int, stop: trio.Event, acked: list[tuple[int, str]]) -> None:
    i = 0
    while not stop.is_set():
        body = f"during {i}"
        ack = await client.send_message(ch, body)
        acked.append((ack["seq"], body))
        i += 1


async def test_verified_restore_of_a_backup_taken_while_clients_send(
    server: RunningServer, restore_root: Path
) -> None:
    with trio.fail_after(CEILING_SECS):
        data_dir = server.config.data_dir
        stored = {_store_file(data_dir, os.urandom(n)) for n in (0, 1, 70_000, 1_500_000)}
        (data_dir / "files" / "tmp").mkdir()
        (data_dir / "files" / "tmp" / "upload-in-progress").write_bytes(b"partial")
        alice, bob = await register(server, "alice"), await register(server, "bob")
        async with connect(server, alice) as a, connect(server, bob) as b:
            ch = general_id(a)
            before = [(int((await a.send_message(ch, f"before {i}"))["seq"]), f"before {i}") for i in range(30)]
            during_a: list[tuple[int, str]] = []
            during_b: list[tuple[int, str]] = []
            stop = trio.Event()
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_send_until, a, ch, stop, during_a)
                nursery.start_soon(_send_until, b, ch, stop, during_b)
                await trio.sleep(0.2)  # sends in flight when the snapshot is taken
                result = await create_backup(server.db, data_dir, restore_root / "backup.tar")
                stop.set()
            ahead = int((await a.send_message(ch, "after the backup"))["seq"])
        manifest = result.manifest
        assert len(during_a) + len(during_b) > 0
        snapshot_end = manifest["channels"][str(ch)]["last_seq"]
        assert before[-1][0] <= snapshot_end < ahead
        assert {m for m in manifest["members"] if m.startswith("files/")} == {
            f"files/{d[:2]}/{d}" for d in stored
        }  # tmp/ (uploads being written) is left out

        target = restore_root / "restored"
        restored = await trio.to_thread.run_sync(
            lambda: run_cli("restore", str(result.path), "--data-dir", str(target), timeout=300))
        assert restored.returncode == 0, restored.stdout + restored.stderr
        assert "verified" in restored.stdout
        for digest in stored:
            path = target / "files" / digest[:2] / digest
            assert hashlib.sha256(path.read_bytes()).hexdigest() == digest

        chatd = ChatdProcess(target)
        await trio.to_thread.run_sync(chatd.start)
        try:
            async with open_database(EmbeddedCluster(target).dsn, 2, 30) as rdb:
                rows = await rdb.fetch("t", "SELECT seq, body FROM messages WHERE channel_id = $1", ch)
                have = {(r["seq"], r["body"]) for r in rows}
                assert set(before) <= have  # every message acked before the backup, at its seq
                assert max(s for s, _ in have) == snapshot_end
                assert {(s, body) for s, body in during_a + during_b if s <= snapshot_end} <= have
            # Sessions came back too: alice's token still logs her in; she is ahead of the server.
            front = Endpoint(chatd.url)
            async with connect(front, alice, resume=[[ch, ahead]]) as a2:
                push = await a2.wait_push("resync", ch=ch)
                assert push["seq"] == snapshot_end
        finally:
            assert await trio.to_thread.run_sync(chatd.terminate_and_wait) == 0


async def test_restore_refuses_a_non_empty_target_and_a_tampered_archive(
    server: RunningServer, restore_root: Path
) -> None:
    _store_file(server.config.data_dir, b"precious")
    result = await create_backup(server.db, server.config.data_dir, restore_root / "b.tar")
    busy = restore_root / "busy"
    busy.mkdir()
    (busy / "something").write_text("x")
    refused = await trio.to_thread.run_sync(lambda: run_cli("restore", str(result.path), "--data-dir", str(busy)))
    assert refused.returncode == 1 and "is not empty" in refused.stderr

    tampered = restore_root / "tampered.tar"
    with tarfile.open(result.path) as src, tarfile.open(tampered, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name.startswith("files/"):
                data = b"Precious"
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    target = restore_root / "t"
    refused = await trio.to_thread.run_sync(lambda: run_cli("restore", str(tampered), "--data-dir", str(target)))
    assert refused.returncode == 1 and "does not match its SHA-256" in refused.stderr
    assert not (target / "pg").exists()  # refused before any database was made


async def test_export_writes_a_channel_as_json_lines(server: RunningServer, db_dsn: str, restore_root: Path) -> None:
    alice = await register(server, "alice")
    async with connect(server, alice) as a:
        ch = general_id(a)
        acks = [await a.send_message(ch, body) for body in ("one", "zwei ü", "three\nlines")]
    out = restore_root / "general.jsonl"
    done = await trio.to_thread.run_sync(lambda: run_cli(
        "export", "--channel", "#General", "--out", str(out), "--database-url", db_dsn))
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(x["seq"], x["body"], x["user"], x["channel"]) for x in lines] == [
        (ack["seq"], body, "alice", "general") for ack, body in zip(acks, ("one", "zwei ü", "three\nlines"), strict=True)
    ]
    assert all(x["id"] and x["ts"] > 1_600_000_000_000 and x["attachments"] == [] for x in lines)
