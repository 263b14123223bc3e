"""One WebSocket session over a memory transport: deadlines, refusals, the crash policy, dispatch.

Time-based behaviour runs under Trio's ``mock_clock`` (time moves only when a test jumps it), so
nothing here sleeps for real. The session is the production ``chatd.gateway.session.Session``;
only the transport is memory instead of Hypercorn's WebSocket.
"""

from __future__ import annotations

import dataclasses
import os

import pytest
import trio
import trio.testing

from chatd.auth.sessions import Principal
from chatd.gateway import dispatch, resume
from chatd.gateway import session as session_module
from chatd.handlers import presence as presence_handlers
from chatd.handlers.base import Grant, Peer
from chatd.wire import CLIENT_FRAME_TYPES, Ping
from chatd.wire.errors import CLOSE_INTERNAL_ERROR
from tests.helpers.client import connect, general_id, register
from tests.helpers.memory import MemoryDaemon


async def settle() -> None:
    """Let every task run until it blocks (the database counts as blocked: no time passes)."""
    await trio.testing.wait_all_tasks_blocked()


# --- the hello deadline (mock clock: the deadline passes only when the test says) ---


async def test_a_socket_that_never_says_hello_is_closed_4001(
    daemon: MemoryDaemon, mock_clock: trio.testing.MockClock
) -> None:
    alice = await register(daemon, "alice")
    async with connect(daemon, alice, hello=False) as a:
        await settle()
        mock_clock.jump(session_module.HELLO_TIMEOUT_SECS - 0.5)
        await settle()
        assert a.closed is None  # not yet
        mock_clock.jump(1)
        reason = await a.wait_closed()
        assert (reason.code, reason.reason) == (4001, "no hello in time")


async def test_a_slow_authentication_is_not_a_missing_hello(
    daemon: MemoryDaemon, mock_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client sent hello in time; that the server took long to check its token (a storm of
    reconnects queued on the database) must not close it with 4001, which means "log in again"."""
    alice = await register(daemon, "alice")
    entered, release = trio.Event(), trio.Event()
    real = daemon.state.sessions.authenticate

    async def slow_authenticate(token: str) -> Principal | None:
        entered.set()
        await release.wait()
        return await real(token)

    monkeypatch.setattr(daemon.state.sessions, "authenticate", slow_authenticate)
    async with connect(daemon, None, hello=False) as a:
        rid = await a.send("hello", v=1, token=alice.token)
        await entered.wait()
        mock_clock.jump(session_module.HELLO_TIMEOUT_SECS * 3)
        await settle()
        release.set()
        ok = await a.reply(rid)
        assert ok["op"] == "ok" and ok["user"]["name"] == "alice"
        assert (await a.send_message(general_id_of(ok), "still here"))["op"] == "ack"
        assert a.closed is None


async def test_a_slow_replay_is_not_a_missing_hello(
    daemon: MemoryDaemon, mock_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a reconnect storm replays wait for each other; the hello deadline must not fire."""
    alice = await register(daemon, "alice")
    async with connect(daemon, alice) as a:
        ch = general_id(a)
        await a.send_message(ch, "one")
        await a.send_message(ch, "two")
    entered, release = trio.Event(), trio.Event()
    real_replay = resume.replay

    async def slow_replay(*args, **kwargs):  # type: ignore[no-untyped-def]
        entered.set()
        await release.wait()
        await real_replay(*args, **kwargs)

    monkeypatch.setattr(resume, "replay", slow_replay)
    async with connect(daemon, alice, resume=[[ch, 0]]) as again:
        await entered.wait()
        mock_clock.jump(session_module.HELLO_TIMEOUT_SECS * 3)
        await settle()
        release.set()
        caught = await again.wait_push("caughtup", ch=ch)
        assert caught["seq"] == 2 and again.closed is None
        assert [m["body"] for m in again.msgs(ch)] == ["one", "two"]


def general_id_of(hello_ok: dict[str, object]) -> int:
    channels = hello_ok["channels"]
    assert isinstance(channels, list)
    return next(c["id"] for c in channels if c["name"] == "general")


# --- refusals that keep the connection, and those that close it ---


async def test_an_empty_binary_message_is_a_bad_frame_and_the_socket_stays(daemon: MemoryDaemon) -> None:
    async with connect(daemon, await register(daemon, "alice")) as a:
        await a.send_raw(b"")
        err = await a.wait_push("error")
        assert err["code"] == "bad_frame" and "rid" not in err
        assert (await a.request("ping"))["op"] == "ok" and a.closed is None


async def test_a_text_message_closes_1003(daemon: MemoryDaemon) -> None:
    async with connect(daemon, await register(daemon, "alice")) as a:
        await a.send_raw("hello")
        assert (await a.wait_closed()).code == 1003


async def test_a_second_hello_of_another_version_is_bad_frame_and_the_socket_stays(daemon: MemoryDaemon) -> None:
    """PROTOCOL.md §2.3: a second hello is bad_frame — whatever its v (not unsupported_version)."""
    async with connect(daemon, await register(daemon, "alice")) as a:
        for v in (1, 2):
            err = await a.request("hello", v=v)
            assert (err["op"], err["code"]) == ("error", "bad_frame")
        assert (await a.request("ping"))["op"] == "ok" and a.closed is None


async def test_a_client_that_ignores_rate_limited_is_closed_4400(
    daemon: MemoryDaemon, mock_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clock does not move, so the bucket never refills: after the burst every frame is
    refused; FLOOD_FRAMES_MAX refusals in a row close the socket."""
    monkeypatch.setattr(session_module, "RATE_BURST", 5.0)
    monkeypatch.setattr(session_module, "FLOOD_FRAMES_MAX", 10)
    async with connect(daemon, await register(daemon, "alice"), hello=False) as a:
        for _ in range(5 + 10):
            await a.send("ping")
        reason = await a.wait_closed()
        assert reason.code == 4400
        codes = [f["code"] for f in a.received if f["op"] == "error"]
        assert codes == ["hello_required"] * 5 + ["rate_limited"] * 9


# --- the crash policy: a bug in one request closes that connection only ---


async def test_a_bug_in_a_handler_closes_that_connection_1011_and_nothing_else(
    daemon: MemoryDaemon, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken_ping(peer: Peer, frame: Ping, _: Grant | None) -> None:
        raise RuntimeError("a bug in a handler")

    alice, bob = await register(daemon, "alice"), await register(daemon, "bob")
    async with connect(daemon, alice) as a, connect(daemon, bob) as b:
        ch = general_id(a)
        monkeypatch.setattr(presence_handlers, "ping", broken_ping)
        await a.send("ping")
        reason = await a.wait_closed()
        assert (reason.code, reason.reason) == (CLOSE_INTERNAL_ERROR, "internal error")
        assert "event=ws.request_crashed op=ping" in caplog.text and "RuntimeError: a bug in a handler" in caplog.text
        # The other connection, the daemon and the channel carry on.
        ack = await b.send_message(ch, "still fine")
        assert ack["op"] == "ack"
    async with connect(daemon, alice) as again:
        assert (await again.send_message(ch, "back"))["op"] == "ack"


# --- the dispatch table ---


def test_every_client_frame_has_a_row_and_channel_rules_name_a_channel() -> None:
    for op, cls in CLIENT_FRAME_TYPES.items():
        names = [f.name for f in dataclasses.fields(cls)]
        frame = cls(**{n: (1 if n in ("rid", "ch", "seq", "v") else _sample(cls, n)) for n in names})
        row = dispatch.route(frame)
        if row.rule is not dispatch.Rule.NONE:
            assert "ch" in names, f"{op} has a channel rule but no ch"
            assert dispatch.channel_of(frame) == 1
        else:
            assert "ch" not in names or op == "hello", f"{op} names a channel but has no access rule"


def _sample(cls: type, name: str) -> object:
    field = next(f for f in dataclasses.fields(cls) if f.name == name)
    if field.default is not dataclasses.MISSING:
        return field.default
    return {"cid": os.urandom(16), "body": "x", "name": "x", "user": "x", "state": "away", "q": "x", "users": ("x",)}[name]


# --- behaviour fixed with the restructure (issue 10 item 8, issue 16 item 5) ---


async def test_around_with_limit_1_is_the_target_itself(daemon: MemoryDaemon) -> None:
    async with connect(daemon, await register(daemon, "alice")) as a:
        ch = general_id(a)
        for i in range(1, 6):
            await a.send_message(ch, f"m{i}")
        for seq in (1, 3, 5):
            page = await a.ok("around", ch=ch, seq=seq, limit=1)
            assert [m["seq"] for m in page["messages"]] == [seq]
            assert (page["more_before"], page["more_after"]) == (seq > 1, seq < 5)
        two = await a.ok("around", ch=ch, seq=3, limit=2)
        assert [m["seq"] for m in two["messages"]] == [2, 3]


async def test_a_body_of_information_separators_is_not_empty(daemon: MemoryDaemon) -> None:
    """U+001C..U+001F are not White_Space (PROTOCOL.md §5.9), although Python's str.isspace
    says they are: such a body is a message."""
    async with connect(daemon, await register(daemon, "alice")) as a:
        ch = general_id(a)
        ack = await a.send_message(ch, "\x1c\x1d\x1e\x1f")
        assert ack["op"] == "ack"
        [msg] = await a.wait_msgs(ch, 1)
        assert msg["body"] == "\x1c\x1d\x1e\x1f"


async def test_an_invitee_can_use_a_private_channel_as_soon_as_the_invite_is_acked(daemon: MemoryDaemon) -> None:
    owner, guest = await register(daemon, "owner"), await register(daemon, "guest")
    for round_ in range(10):
        async with connect(daemon, owner) as o, connect(daemon, guest) as g:
            made = await o.ok("channel.create", name=f"secret{round_}", private=True)
            ch = made["channel"]["id"]
            await o.ok("channel.invite", ch=ch, user="guest")
            ack = await g.send_message(ch, "thanks for the invite")  # no wait for channel.added
            assert ack["op"] == "ack", ack
            assert (await g.ok("members", ch=ch))["ch"] == ch
