"""Bad input on the WebSocket: each gets its documented error or close code, while the server
and other clients carry on and nothing stored is lost."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import trio

from chatd.gateway.session import PROTOCOL_ERRORS_MAX
from tests.helpers.client import connect, general_id, register
from tests.helpers.memory import MemoryDaemon
from tests.helpers.server import RunningServer

FAIL_VECTORS = [bytes.fromhex(v["hex"]) for v in json.loads(
    (Path(__file__).resolve().parents[1] / "protocol" / "cbor-test-vectors" / "fail.json").read_text()
)]


@pytest.fixture
async def pair(daemon: MemoryDaemon):  # type: ignore[no-untyped-def]
    alice, bob = await register(daemon, "alice"), await register(daemon, "bob")
    async with connect(daemon, alice) as a, connect(daemon, bob) as b:
        yield a, b, general_id(a)


@pytest.fixture
async def server_pair(server: RunningServer):  # type: ignore[no-untyped-def]
    """Two clients of the real stack (TLS, Hypercorn), for what the transport itself answers."""
    alice, bob = await register(server, "alice"), await register(server, "bob")
    async with connect(server, alice) as a, connect(server, bob) as b:
        yield a, b, general_id(a)


async def test_text_frame_closes_1003(server: RunningServer, server_pair) -> None:  # type: ignore[no-untyped-def]
    a, b, ch = server_pair
    await a.send_message(ch, "before")
    async with connect(server, await register(server, "mallory")) as m:
        await m.send_raw('{"op": "hello"}')
        closed = await m.wait_closed()
        assert closed.code == 1003
    ack = await a.send_message(ch, "after")
    assert ack["seq"] == 2
    await b.wait_msgs(ch, 2)


async def test_oversized_frame_closes_1009(server: RunningServer, server_pair) -> None:  # type: ignore[no-untyped-def]
    a, _b, ch = server_pair
    async with connect(server, await register(server, "mallory")) as m:
        await m.send_raw(b"\xa1" + b"\x61x" + b"\x5a" + (10**6).to_bytes(4, "big") + b"\0" * 10**6)
        closed = await m.wait_closed()
        assert closed.code == 1009
    assert (await a.send_message(ch, "fine"))["op"] == "ack"


async def test_every_malformed_cbor_item_gets_bad_frame(daemon: MemoryDaemon, pair) -> None:  # type: ignore[no-untyped-def]
    a, _b, ch = pair
    async with connect(daemon, await register(daemon, "mallory")) as m:
        for i, data in enumerate(FAIL_VECTORS):
            await m.send_raw(data)
            err = await m.wait_push("error")
            assert err["code"] == "bad_frame", (data.hex(), err)
            if i % 15 == 14:
                await m.ok("ping")  # resets the consecutive-error count; the socket stays usable
        await m.ok("ping")
    assert (await a.send_message(ch, "after the garbage"))["op"] == "ack"


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (b"\xa2\x62op\x64ping\x63rid\x01\xff", "bad_frame"),  # trailing bytes
        (b"\xbf\x62op\x64ping\x63rid\x01\xff", "bad_frame"),  # indefinite-length map
        (b"\xc1\xa2\x62op\x64ping\x63rid\x01", "bad_frame"),  # a tag
        (b"\xa2\x01\x02\x62op\x64ping", "bad_frame"),  # non-text key
        (b"\x81" * 40 + b"\x00", "bad_frame"),  # deep nesting
        (b"\x83\x01\x02\x03", "bad_frame"),  # not a map
    ],
)
async def test_malformed_frames(daemon: MemoryDaemon, frame: bytes, code: str) -> None:
    async with connect(daemon, await register(daemon, "mallory")) as m:
        await m.send_raw(frame)
        err = await m.wait_push("error")
        assert err["code"] == code
        assert (await m.request("ping"))["op"] == "ok"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"op": "frobnicate"}, "unknown_op"),
        ({"op": "send", "ch": "general", "cid": b"0" * 16, "body": "x"}, "bad_frame"),
        ({"op": "send", "ch": 1, "cid": b"short", "body": "x"}, "bad_frame"),
        ({"op": "send", "ch": 1, "body": "x"}, "bad_frame"),
        ({"op": "send", "ch": 2**53, "cid": b"0" * 16, "body": "x"}, "bad_frame"),
        ({"op": "send", "ch": -1, "cid": b"0" * 16, "body": "x"}, "bad_frame"),
        ({"op": "send", "ch": 1, "cid": b"0" * 16, "body": "   \n\t"}, "empty_body"),
        ({"op": "send", "ch": 1, "cid": b"0" * 16, "body": "x" * 16385}, "too_large"),
        ({"op": "history", "ch": 1, "limit": 0}, "bad_limit"),
        ({"op": "history", "ch": 1, "limit": 101}, "bad_limit"),
        ({"op": "history", "ch": 1, "limit": -5}, "bad_limit"),
        ({"op": "history", "ch": 1, "limit": 10**18}, "bad_limit"),
        ({"op": "history", "ch": 1, "before": 5, "after": 1}, "bad_frame"),
        ({"op": "browse", "limit": "ten"}, "bad_frame"),
        ({"op": "channel.create"}, "bad_frame"),
        ({"op": "channel.create", "name": 7}, "bad_frame"),
    ],
)
async def test_bad_fields_get_their_code_with_the_rid(daemon: MemoryDaemon, fields: dict[str, object], code: str) -> None:
    async with connect(daemon, await register(daemon, "mallory")) as m:
        reply = await m.request(**fields)  # type: ignore[arg-type]
        assert reply["op"] == "error" and reply["code"] == code, reply
        assert (await m.request("ping"))["op"] == "ok"


async def test_integer_beyond_int64_is_bad_frame_without_rid(daemon: MemoryDaemon) -> None:
    async with connect(daemon, await register(daemon, "mallory")) as m:
        await m.send("send", ch=2**64 - 1, cid=b"0" * 16, body="x")
        err = await m.wait_push("error")  # the frame is not decodable: its rid cannot be read
        assert err["code"] == "bad_frame" and "rid" not in err
        assert (await m.request("ping"))["op"] == "ok"


async def test_send_to_missing_channel_and_to_public_channel_not_joined(daemon: MemoryDaemon, pair) -> None:  # type: ignore[no-untyped-def]
    a, b, _ch = pair
    other = (await a.ok("channel.create", name="not-joined-by-bob"))["channel"]["id"]
    err = await b.request("send", ch=10**9, cid=os.urandom(16), body="x")
    assert err["code"] == "not_found"
    err = await b.request("send", ch=other, cid=os.urandom(16), body="x")
    assert err["code"] == "not_member"
    assert await daemon.db.fetchval("t", "SELECT count(*) FROM messages WHERE channel_id = $1", other) == 0


async def test_requests_before_hello(daemon: MemoryDaemon) -> None:
    acct = await register(daemon, "mallory")
    async with connect(daemon, acct, hello=False) as m:
        err = await m.request("channels")
        assert err["code"] == "hello_required"
        reply = await m.request("hello", v=1)
        assert reply["op"] == "ok"
        err = await m.request("hello", v=1)
        assert err["code"] == "bad_frame"


async def test_unsupported_version_closes_4400(daemon: MemoryDaemon) -> None:
    acct = await register(daemon, "mallory")
    async with connect(daemon, acct, hello=False) as m:
        err = await m.request("hello", v=2)
        assert err["code"] == "unsupported_version"
        assert (await m.wait_closed()).code == 4400


async def test_many_malformed_frames_in_a_row_close_4400(daemon: MemoryDaemon) -> None:
    async with connect(daemon, await register(daemon, "mallory")) as m:
        for _ in range(PROTOCOL_ERRORS_MAX):
            await m.send_raw(b"\xff")
        assert (await m.wait_closed()).code == 4400


async def test_a_flood_is_rate_limited_not_fatal_to_others(daemon: MemoryDaemon, pair, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from chatd.gateway import session as gateway

    # A small bucket, so the flood outruns the refill however slowly this machine sends it.
    monkeypatch.setattr(gateway, "RATE_PER_SEC", 20.0)
    monkeypatch.setattr(gateway, "RATE_BURST", 40.0)
    a, b, ch = pair
    async with connect(daemon, await register(daemon, "mallory")) as m:
        rids = [await m.send("ping") for _ in range(400)]
        replies = [await m.reply(rid) for rid in rids]
        limited = [r for r in replies if r["op"] == "error"]
        assert limited and all(r["code"] == "rate_limited" and r["retry"] is True for r in limited)
        ack = await a.send_message(ch, "unaffected")
        await b.wait_msgs(ch, 1)
        assert ack["op"] == "ack"


async def test_nothing_stored_is_lost_by_bad_input(daemon: MemoryDaemon, pair) -> None:  # type: ignore[no-untyped-def]
    a, b, ch = pair
    for i in range(3):
        await a.send_message(ch, f"keep {i}")
    async with connect(daemon, await register(daemon, "mallory")) as m:
        for data in FAIL_VECTORS[: PROTOCOL_ERRORS_MAX - 1]:
            await m.send_raw(data)
        await m.send_raw("text")
        assert (await m.wait_closed()).code == 1003
    rows = await daemon.db.fetch("t", "SELECT body FROM messages WHERE channel_id = $1 ORDER BY seq", ch)
    assert [r["body"] for r in rows] == ["keep 0", "keep 1", "keep 2"]
    with trio.fail_after(5):
        await b.wait_msgs(ch, 3)
