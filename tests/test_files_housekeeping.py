"""Housekeeping of the file store: uploads never sent expire, files without rows go, a deleted
message's files go unless another message shares them, and ``chatd files report|gc``."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
import trio

from chatd.cli import main
from chatd.files import housekeeping
from chatd.store import files as file_store
from tests.helpers.client import Account, connect, general_id, register
from tests.helpers.files import download, sha256, tus_create, tus_patch, upload
from tests.helpers.server import RunningServer

HOUR = 3600.0


def _age(path: Path, secs: float) -> None:
    then = time.time() - secs
    os.utime(path, (then, then))


async def _send(server: RunningServer, account: Account, files: list[str]) -> dict[str, Any]:
    async with connect(server, account) as c:
        ack = await c.request("send", ch=general_id(c), cid=os.urandom(16), body="", files=files)
    assert ack["op"] == "ack", ack
    return ack


async def test_uploads_never_sent_expire_and_sent_ones_stay(server: RunningServer) -> None:
    alice = await register(server, "alice")
    files = server.state.files
    kept = await upload(server, alice, b"sent with a message", "kept.txt")
    await _send(server, alice, [kept["id"]])
    unsent = await upload(server, alice, b"never sent", "unsent.txt")
    unfinished = (await tus_create(server, alice, 100)).headers["location"]
    assert (await tus_patch(server, alice, unfinished, 0, b"x" * 10)).status == 204
    assert len(list(files.blobs.scan("partial"))) == 1
    # Not yet: everything is younger than files_unattached_secs.
    nothing = await housekeeping.sweep(files, now=time.time())
    assert (nothing.uploads_expired, nothing.blobs_released, nothing.orphan_files) == (0, 0, [])
    report = await housekeeping.sweep(files, now=time.time() + server.config.files_unattached_secs + 1)
    assert (report.uploads_expired, report.blobs_released) == (2, 1)
    keys = {r["key"] for r in await server.db.fetch("t", "SELECT key FROM attachments")}
    assert keys == {kept["id"]}
    assert list(files.blobs.scan("partial")) == []  # the unfinished one's bytes are gone too
    assert len(list(files.blobs.scan("blobs"))) == 1  # only the sent file's content is left
    assert (await download(server, alice, unsent["id"])).status == 404
    assert (await download(server, alice, kept["id"])).body == b"sent with a message"


async def test_files_without_rows_are_removed_after_the_grace_period(server: RunningServer) -> None:
    alice = await register(server, "alice")
    files = server.state.files
    real = await upload(server, alice, b"a real file")
    stray_sha = bytes(range(32))
    stray = files.blobs.blob_path(stray_sha)
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"left behind by a crash between rename and row")
    young = files.blobs.blob_path(bytes(range(1, 33)))
    young.parent.mkdir(parents=True, exist_ok=True)
    young.write_bytes(b"an upload writing its row right now")
    thumb = files.blobs.thumb_dest(stray_sha)
    thumb.write_bytes(b"RIFF")
    temp = files.blobs.new_temp_path()
    temp.write_bytes(b"a one-request upload that died")
    for path in (stray, thumb, temp):
        _age(path, 2 * HOUR)
    for found in files.blobs.scan("blobs"):  # the real one is old too, but has its row
        if found.path != young:
            _age(found.path, 2 * HOUR)
    dry = await housekeeping.sweep(files, now=time.time(), dry_run=True)
    assert len(dry.orphan_files) == 3 and stray.exists()  # a dry run deletes nothing
    report = await housekeeping.sweep(files, now=time.time())
    assert sorted(report.orphan_files) == sorted(
        str(p.relative_to(files.blobs.root)) for p in (stray, thumb, temp)
    )
    assert not stray.exists() and not thumb.exists() and not temp.exists()
    assert young.exists()  # within the grace period
    assert (await download(server, alice, real["id"])).body == b"a real file"


async def test_deleting_a_message_releases_files_no_other_message_shares(server: RunningServer) -> None:
    """The hook for edits/deletes (issue 13): ``release_message_files`` in the delete's
    transaction; the contents no other upload shares lose their rows (and, at once with
    ``discard_blobs`` or at the next sweep, their files)."""
    alice = await register(server, "alice")
    files = server.state.files
    shared1, shared2 = await upload(server, alice, b"shared bytes"), await upload(server, alice, b"shared bytes")
    own = await upload(server, alice, b"only in the first message")
    first = await _send(server, alice, [shared1["id"], own["id"]])
    await _send(server, alice, [shared2["id"]])
    async with server.db.transaction("t.delete_message") as tx:
        released = await file_store.release_message_files(tx, message_id=first["id"])
        await tx.execute("t", "DELETE FROM messages WHERE id = $1", first["id"])
    assert [sha.hex() for sha in released] == [sha256(b"only in the first message")]
    await files.discard_blobs(released)
    assert len(list(files.blobs.scan("blobs"))) == 1
    assert (await download(server, alice, shared2["id"])).body == b"shared bytes"
    assert (await download(server, alice, own["id"])).status == 404


def _cli(server: RunningServer, *args: str) -> int:
    return main(["files", *args, "--database-url", server.db.dsn, "--data-dir", str(server.config.data_dir)])


async def test_cli_report_and_gc(server: RunningServer, capsys: pytest.CaptureFixture[str]) -> None:
    alice, bob = await register(server, "alice"), await register(server, "bob")
    sent = await upload(server, alice, b"x" * 3000, "a.bin")
    await _send(server, alice, [sent["id"]])
    await upload(server, bob, b"y" * 500, "b.bin")
    stray = server.state.files.blobs.new_temp_path()
    stray.write_bytes(b"z" * 100)
    _age(stray, 2 * HOUR)
    with trio.fail_after(60):
        assert await trio.to_thread.run_sync(_cli, server, "report", "--json") == 0
        report = json.loads(capsys.readouterr().out)
        assert report["by_channel"] == [{"channel": "general", "files": 1, "bytes": 3000}]
        assert report["by_user"] == [{"user": "alice", "files": 1, "bytes": 3000}, {"user": "bob", "files": 1, "bytes": 500}]
        assert (report["contents"], report["content_bytes"]) == (2, 3500)
        assert report["gc"]["orphan_files"] == 1 and report["gc"]["orphan_bytes"] == 100
        assert await trio.to_thread.run_sync(_cli, server, "report") == 0
        text = capsys.readouterr().out
        assert "general" in text and "alice" in text and "1 file(s) without a row" in text
        assert await trio.to_thread.run_sync(_cli, server, "gc", "--dry-run") == 0
        assert stray.exists()
        assert await trio.to_thread.run_sync(_cli, server, "gc") == 0
        assert "1 file(s) without a row" in capsys.readouterr().out
    assert not stray.exists()
