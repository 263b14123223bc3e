"""A full disk: the file store on a small tmpfs of its own (mounted here; the tests run as root).

Uploads are refused early with 507 when there is no room for them plus the reserve; a write
that hits ENOSPC half-way leaves no partial file and no row; text messages keep flowing; the
admins are told (a WARNING in the log, ``/healthz``, the ``storage`` push).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio

from chatd.config import Config
from tests.helpers.client import Account, connect, general_id, register
from tests.helpers.files import (
    TUS,
    RawHTTPS,
    auth,
    declare_only,
    fill,
    post_chunked,
    small_filesystem,
    tus_create,
    tus_offset,
    upload_sync,
)
from tests.helpers.server import RunningServer

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")

DISK_BYTES = 24 * 1024 * 1024
MiB = 1024 * 1024
CEILING_SECS = 60


@pytest.fixture
def files_mount(data_dir: Path) -> Iterator[Path]:
    """``DATA_DIR/files`` on its own 24 MiB tmpfs, unmounted after the server has stopped."""
    with small_filesystem(data_dir / "files", DISK_BYTES) as mount:
        yield mount


@pytest.fixture
def server_config(server_config: Config, files_mount: Path, request: pytest.FixtureRequest) -> Config:
    return dataclasses.replace(server_config, files_max_bytes=16 * MiB, **request.param)


def _leftovers(mount: Path) -> list[str]:
    return sorted(str(p.relative_to(mount)) for p in (mount / "partial").rglob("*"))


async def _admin(server: RunningServer, name: str) -> Account:
    account = await register(server, name)
    await server.db.execute("t", "UPDATE users SET is_admin = true WHERE id = $1", account.user_id)
    return account


@pytest.mark.parametrize("server_config", [{"files_reserve_bytes": MiB}], indirect=True)
async def test_no_room_is_a_507_at_once_and_the_admins_are_told(
    server: RunningServer, files_mount: Path, caplog: pytest.LogCaptureFixture
) -> None:
    admin, alice = await _admin(server, "root"), await register(server, "alice")
    caplog.set_level(logging.WARNING, logger="chatd.files")
    with trio.fail_after(CEILING_SECS):
        async with connect(server, admin) as a:
            assert not [p for p in a.pushes if p["op"] == "storage"]  # fine so far
            fill(files_mount, "filler", 10 * MiB)
            # 14 MiB would fit the disk, but not with the 1 MiB reserve.
            refused = await trio.to_thread.run_sync(declare_only, server.url, alice, 14 * MiB)
            assert refused.status == 507 and refused.json["error"] == "insufficient_storage"
            assert "text messages still work" in refused.json["message"]
            notice = await a.wait_push("storage")
            assert notice["state"] == "low" and notice["reserve_bytes"] == MiB
            assert 13 * MiB < notice["free_bytes"] <= 14 * MiB
            ack = await a.send_message(general_id(a), "the chat goes on")  # text is unaffected
            assert ack["op"] == "ack"
        assert any("event=files.storage_low" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
        health = await server.get("/healthz")
        assert health.status == 200 and health.json["files"] == "low_space"
        async with connect(server, admin) as again:  # an admin connecting later learns it at once
            assert (await again.wait_push("storage"))["state"] == "low"
        async with connect(server, alice) as not_admin:
            await not_admin.ok("ping")
            assert not [p for p in not_admin.pushes if p["op"] == "storage"]
        # A small file still fits.
        small = await trio.to_thread.run_sync(upload_sync, server.url, alice, b"s" * 1000)
        assert small.status == 201
    assert _leftovers(files_mount) == []
    assert await server.db.fetchval("t", "SELECT count(*) FROM attachments") == 1


@pytest.mark.parametrize("server_config", [{"files_reserve_bytes": 0}], indirect=True)
async def test_a_disk_filling_up_mid_upload_leaves_no_file_no_row_and_text_flows(
    server: RunningServer, files_mount: Path
) -> None:
    alice = await register(server, "alice")
    fill(files_mount, "filler", 14 * MiB)  # 10 MiB left
    with trio.fail_after(CEILING_SECS):
        async with connect(server, alice) as a:
            ch = general_id(a)
            acks: list[dict[str, Any]] = []
            result: list[Any] = []

            async def uploader() -> None:  # no declared size: the check up front cannot catch it
                result.append(await trio.to_thread.run_sync(
                    post_chunked, server.url, alice, "/api/files?name=huge.bin", os.urandom(12 * MiB), 256 * 1024
                ))

            async with trio.open_nursery() as nursery:
                nursery.start_soon(uploader)
                while not result:  # messages sent while the upload fills the disk
                    acks.append(await a.send_message(ch, f"still here {len(acks)}"))
            refused = result[0]
            assert refused.status == 507 and refused.json["error"] == "insufficient_storage"
            acks.append(await a.send_message(ch, "and after"))
            assert all(x["op"] == "ack" for x in acks) and len(acks) >= 2
        assert _leftovers(files_mount) == []  # the partial file was removed
        assert await server.db.fetchval("t", "SELECT count(*) FROM attachments") == 0
        assert list(server.state.files.blobs.scan("blobs")) == []
        # The space came back: the same upload with a fitting size goes through.
        ok = await trio.to_thread.run_sync(upload_sync, server.url, alice, os.urandom(4 * MiB))
        assert ok.status == 201


@pytest.mark.parametrize("server_config", [{"files_reserve_bytes": 0}], indirect=True)
async def test_a_resumable_upload_hitting_a_full_disk_is_deleted(server: RunningServer, files_mount: Path) -> None:
    alice = await register(server, "alice")
    size, first = 6 * MiB, 2 * MiB
    fill(files_mount, "filler", 14 * MiB)  # 10 MiB left
    data = os.urandom(size)
    with trio.fail_after(CEILING_SECS):
        created = await tus_create(server, alice, size)
        assert created.status == 201
        location = created.headers["location"]
        c = await trio.to_thread.run_sync(RawHTTPS, server.url)
        try:
            await trio.to_thread.run_sync(c.send_head, "PATCH", location, {
                **auth(alice), **TUS, "Upload-Offset": "0", "Content-Length": str(size),
                "Content-Type": "application/offset+octet-stream"})
            await trio.to_thread.run_sync(c.send, data[:first])
            # The server is writing the first part. It writes in pieces of at least
            # STREAM_PIECE_BYTES and holds a smaller rest until more arrives, so its offset may
            # stop short of ``first``: any progress shows the write is under way.
            while await tus_offset(server, alice, location) == 0:
                pass
            # Meanwhile something else takes the room the upload was counting on.
            fill(files_mount, "filler2", 5 * MiB)
            with contextlib.suppress(OSError):  # the server may answer and close first
                await trio.to_thread.run_sync(c.send, data[first:])
            resp = await trio.to_thread.run_sync(c.response)
        finally:
            c.close()
        assert resp.status == 507 and resp.json["error"] == "insufficient_storage"
        gone = await server.get(location, headers=auth(alice))
        assert gone.status == 404  # nothing kept: no row …
    assert _leftovers(files_mount) == []  # … and no partial file
    assert await server.db.fetchval("t", "SELECT count(*) FROM attachments") == 0
