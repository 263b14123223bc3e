"""Files in the WebSocket protocol (feature "files"): a send carries finished uploads, and the
message carries its files everywhere it appears — live pushes, history, around, resume replay.

The uploads are made through the file service itself (``state.files``), as the HTTP route does;
tests/test_files_http.py covers the routes.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import trio

from chatd.store.files import UploadRow
from tests.helpers.client import Account, connect, general_id, register
from tests.helpers.images import jpeg_bytes
from tests.helpers.memory import MemoryDaemon

CEILING_SECS = 30


async def _pieces(data: bytes) -> AsyncIterator[bytes]:
    for i in range(0, len(data), 65536):
        yield data[i:i + 65536]


async def stored(daemon: MemoryDaemon, account: Account, data: bytes, name: str = "notes.txt") -> dict[str, Any]:
    """A finished upload of ``account`` (the File a message would carry)."""
    row = await daemon.state.files.upload(_pieces(data), user_id=account.user_id, name=name, declared=len(data))
    return {"id": row.key, "name": row.name, "size": row.size, "type": row.mime, "kind": row.kind,
            **({"w": row.width, "h": row.height} if row.kind == "image" else {})}


async def test_hello_announces_files_and_the_file_limit(daemon: MemoryDaemon) -> None:
    alice = await register(daemon, "alice")
    async with connect(daemon, alice) as a:
        assert "files" in a.hello["features"]  # type: ignore[attr-defined]
        assert a.hello["limits"]["file_bytes"] == daemon.config.files_max_bytes  # type: ignore[attr-defined]


async def test_message_carries_its_files_in_pushes_history_around_and_resume(daemon: MemoryDaemon) -> None:
    alice, bob = await register(daemon, "alice"), await register(daemon, "bob")
    with trio.fail_after(CEILING_SECS):
        photo = await stored(daemon, alice, jpeg_bytes(1200, 900), "rack 🖥️.jpg")
        text = await stored(daemon, alice, b"plain words\n" * 50, "notes.txt")
        assert photo["kind"] == "image" and (photo["w"], photo["h"]) == (1200, 900)
        assert (text["kind"], text["type"]) == ("file", "text/plain")
        async with connect(daemon, alice) as a, connect(daemon, bob) as b:
            ch = general_id(a)
            await a.send_message(ch, "before")
            ack = await a.request("send", ch=ch, cid=os.urandom(16), body="", files=[photo["id"], text["id"]])
            assert ack["op"] == "ack", ack
            pushed = (await b.wait_msgs(ch, 2))[1]
            assert pushed["files"] == [photo, text]  # the live push, in the order sent
            assert "files" not in (await b.wait_msgs(ch, 2))[0]  # a message without files has none
            own = (await a.wait_msgs(ch, 2))[1]
            assert own["files"] == [photo, text]
            page = await b.ok("history", ch=ch)
            assert [m.get("files") for m in page["messages"]] == [None, [photo, text]]
            around = await b.ok("around", ch=ch, seq=ack["seq"], limit=1)
            assert around["messages"][0]["files"] == [photo, text]
        async with connect(daemon, bob, resume=[[ch, 1]]) as b2:  # the replay of what bob missed
            [replayed] = await b2.wait_msgs(ch, 1)
            assert replayed["seq"] == ack["seq"] and replayed["files"] == [photo, text]
        # Reads look files up only for messages flagged with them (the history page's cost).
        flags = await daemon.db.fetch("t", "SELECT has_files FROM messages WHERE channel_id = $1 ORDER BY seq", ch)
        assert [r["has_files"] for r in flags] == [False, True]


async def test_files_a_send_may_not_carry_are_refused_and_nothing_is_stored(daemon: MemoryDaemon) -> None:
    alice, bob = await register(daemon, "alice"), await register(daemon, "bob")
    with trio.fail_after(CEILING_SECS):
        bobs = await stored(daemon, bob, b"bob's bytes")
        mine = await stored(daemon, alice, b"alice's bytes")
        unfinished = await daemon.state.files.resumable.create(user_id=alice.user_id, name="big.bin", size=10_000)
        async with connect(daemon, alice) as a:
            ch = general_id(a)
            for files in (["NoSuchUploadAtAll0000000"], [bobs["id"]], [unfinished], [mine["id"], bobs["id"]]):
                err = await a.request("send", ch=ch, cid=os.urandom(16), body="look", files=files)
                assert err["op"] == "error" and err["code"] == "file_not_found", (files, err)
            first = await a.request("send", ch=ch, cid=os.urandom(16), body="", files=[mine["id"]])
            assert first["op"] == "ack"
            # Attached now: another message may not carry it too.
            err = await a.request("send", ch=ch, cid=os.urandom(16), body="again", files=[mine["id"]])
            assert err["code"] == "file_not_found"
        rows = await daemon.db.fetch("t", "SELECT body FROM messages WHERE channel_id = $1", ch)
        assert [r["body"] for r in rows] == [""]


async def test_a_retried_send_with_files_is_one_message(daemon: MemoryDaemon) -> None:
    alice = await register(daemon, "alice")
    with trio.fail_after(CEILING_SECS):
        f = await stored(daemon, alice, b"once")
        cid = os.urandom(16)
        async with connect(daemon, alice) as a:
            ch = general_id(a)
            first = await a.request("send", ch=ch, cid=cid, body="x", files=[f["id"]])
            again = await a.request("send", ch=ch, cid=cid, body="x", files=[f["id"]])
            assert again["op"] == "ack" and (again["seq"], again["id"]) == (first["seq"], first["id"])
        attached = await daemon.db.fetch("t", "SELECT message_id FROM attachments WHERE key = $1", f["id"])
        assert [r["message_id"] for r in attached] == [first["id"]]


async def test_two_messages_may_share_content_but_not_an_upload(daemon: MemoryDaemon) -> None:
    """The same bytes uploaded twice are one blob on disk, two uploads, two messages."""
    alice = await register(daemon, "alice")
    with trio.fail_after(CEILING_SECS):
        one, two = await stored(daemon, alice, b"same bytes", "a.txt"), await stored(daemon, alice, b"same bytes", "b.txt")
        assert one["id"] != two["id"]
        async with connect(daemon, alice) as a:
            ch = general_id(a)
            for f in (one, two):
                assert (await a.request("send", ch=ch, cid=os.urandom(16), body="", files=[f["id"]]))["op"] == "ack"
        assert await daemon.db.fetchval("t", "SELECT count(*) FROM file_blobs") == 1
        blobs = list(daemon.state.files.blobs.scan("blobs"))
        assert len(blobs) == 1


async def test_an_unfinished_upload_is_its_uploaders_alone_and_its_name_is_made_safe(daemon: MemoryDaemon) -> None:
    from chatd.store import files as file_store

    alice, bob = await register(daemon, "alice"), await register(daemon, "bob")
    key = await daemon.state.files.resumable.create(user_id=alice.user_id, name="../a/b\x00c.bin", size=5)
    row = await file_store.get_upload(daemon.db, key=key, user_id=alice.user_id)
    assert isinstance(row, UploadRow) and row.sha256 is None and row.size == 5
    assert row.name == ".._a_bc.bin"
    assert await file_store.get_upload(daemon.db, key=key, user_id=bob.user_id) is None
