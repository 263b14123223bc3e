"""Fuzzing real sessions (issue 16): random and mutated frames, before and after hello.

Every frame gets a documented answer — a reply or an error frame whose code PROTOCOL.md §8
lists (the test client checks every server frame against the CDDL), or a close with a code §9
documents — never a close 1000 or 1011 and never a crash logged; and a fresh connection works
afterwards. Hypothesis draws the frames in a worker thread and each example runs in the test's
Trio loop (``trio.from_thread``), so one daemon serves thousands of examples; a failing example
is shrunk like any other.

The memory transport (``daemon``) carries 5,000 examples in well under a minute; a smaller run
goes over real TLS and chatd's own WebSocket path (``server``).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cbor2
import pytest
import trio
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from trio_websocket import ConnectionClosed

from chatd.wire import CLIENT_FRAME_TYPES, encode_client_frame
from chatd.wire.errors import ERROR_CODES
from tests.helpers.client import Account, Client, connect, register
from tests.helpers.memory import MemoryDaemon
from tests.helpers.server import RunningServer
from tests.test_wire_codec import CLIENT_FRAMES, client_map

# Close codes a fuzzed frame may earn (PROTOCOL.md §9): a text message (1003), a frame over the
# limit (1009), hello without valid credentials or none in time (4001), a bad version or a run
# of undecodable frames (4400).
DOCUMENTED_CLOSES = frozenset({1003, 1009, 4001, 4400})
SENTINEL_RIDS = itertools.count(2**53 - 1, -1)  # rids no generated frame is likely to use

# --- strategies ---

FIELDS = ["rid", "v", "token", "resume", "ch", "cid", "body", "name", "description", "private", "q", "after",
          "before", "limit", "seq", "user", "state"]
SCALARS = (
    st.none() | st.booleans() | st.integers(min_value=-(2**65), max_value=2**65) | st.floats()
    | st.text(max_size=12) | st.binary(max_size=20)
)
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=8,
)
OPS = st.sampled_from(sorted(CLIENT_FRAME_TYPES)) | st.sampled_from(["ok", "msg", "error", ""]) | st.text(max_size=8)


def _structured(op: str, fields: dict[str, Any]) -> bytes:
    return bytes(cbor2.dumps({"op": op, **fields}))


STRUCTURED = st.builds(_structured, OPS, st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), VALUES,
                                                        max_size=5))
VALID = CLIENT_FRAMES.map(lambda f: encode_client_frame(client_map(f)))


def _mutate(frame: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    data = bytearray(frame)
    for kind, pos, byte in edits:
        at = pos % (len(data) + 1)
        if kind == 0 and data:  # replace a byte
            data[at % len(data)] = byte
        elif kind == 1:  # insert one
            data.insert(at, byte)
        elif kind == 2 and data:  # delete one
            del data[at % len(data)]
        else:  # truncate
            del data[at:]
    return bytes(data)


MUTATED = st.builds(
    _mutate, VALID | STRUCTURED,
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 400), st.integers(0, 255)), min_size=1, max_size=4),
)
RAW = st.binary(max_size=48)
ONE = st.one_of(RAW, STRUCTURED, VALID, MUTATED, MUTATED)
# Rarer shapes: a text message (close 1003), a frame over the limit (close 1009), a run of
# undecodable frames long enough to be closed for it (4400).
RARE = st.one_of(
    st.text(max_size=8).map(lambda s: [s]),
    st.just([b"\xa1" + b"\x00" * 70_000]),
    st.lists(RAW.map(lambda b: b"\xff" + b), min_size=20, max_size=21),
)
BATCHES = st.one_of(st.lists(ONE, min_size=1, max_size=4), st.lists(ONE, min_size=1, max_size=4), RARE)
PHASES = st.sampled_from(["before", "after"])


# --- the harness ---


@dataclass
class _Held:
    client: Client
    release: trio.Event


@dataclass
class Fuzzer:
    """Keeps one connection per phase open (re-opened when the server closes it) and feeds them."""

    open_connection: Callable[[Account | None, bool], Any]  # connect(server, account, hello=…)
    account: Account
    nursery: trio.Nursery
    held: dict[str, _Held] = field(default_factory=dict)
    frames: int = 0
    closes: dict[int, int] = field(default_factory=dict)

    async def _hold(self, phase: str, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        after = phase == "after"
        async with self.open_connection(self.account if after else None, after) as client:
            release = trio.Event()
            task_status.started(_Held(client, release))
            await release.wait()

    async def connection(self, phase: str) -> Client:
        held = self.held.get(phase)
        if held is None or held.client.closed is not None:
            if held is not None:
                held.release.set()
            held = self.held[phase] = await self.nursery.start(self._hold, phase)
        return held.client

    async def exchange(self, phase: str, batch: list[bytes | str]) -> None:
        """Send ``batch``, then a ping; wait for the ping's reply (or a close) and check."""
        client = await self.connection(phase)
        start = len(client.received)
        for data in batch:
            if client.closed is not None:
                break
            try:
                await client.send_raw(data)
            except ConnectionClosed:  # the server closed meanwhile: checked below
                await client.wait_closed()  # the client's reader task records why
                break
            self.frames += 1
        if client.closed is None:
            rid = next(SENTINEL_RIDS)
            try:
                await client.send_raw(encode_client_frame({"op": "ping", "rid": rid}))
                await client.reply(rid)
            except ConnectionClosed:
                # The WebSocket saw the server's close before the client's reader task did.
                await client.wait_closed()
            except AssertionError:  # reply() asserts when closed first
                assert client.closed is not None, "no reply to the ping and no close"
        for frame in client.received[start:]:
            if frame["op"] == "error":
                assert frame["code"] in ERROR_CODES, frame
        if client.closed is not None:
            code = client.closed.reason.code
            assert code in DOCUMENTED_CLOSES, f"closed {code} ({client.closed.reason.reason}) after {batch!r:.300}"
            self.closes[code] = self.closes.get(code, 0) + 1

    async def aclose(self) -> None:
        for held in self.held.values():
            held.release.set()


async def _fuzz(open_connection: Callable[[Account | None, bool], Any], account: Account, examples: int,
                caplog: pytest.LogCaptureFixture) -> Fuzzer:
    async with trio.open_nursery() as nursery:
        fuzzer = Fuzzer(open_connection, account, nursery)

        @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate, Phase.shrink],
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
        @given(PHASES, BATCHES)
        def run(phase: str, batch: list[bytes | str]) -> None:
            trio.from_thread.run(fuzzer.exchange, phase, batch)

        with caplog.at_level(logging.ERROR, logger="chatd"):
            await trio.to_thread.run_sync(run)
        await fuzzer.aclose()
    crashes = [r for r in caplog.records if "crashed" in r.getMessage()]
    assert crashes == []
    return fuzzer


async def _still_works(open_connection: Callable[[Account | None, bool], Any], account: Account) -> None:
    async with open_connection(account, True) as c:
        created = await c.ok("channel.create", name="after the fuzzing")  # the fuzz may have left #general
        ack = await c.send_message(created["channel"]["id"], "still here")
        assert ack["op"] == "ack"


@pytest.mark.slow
async def test_fuzzed_frames_over_memory_sessions(daemon: MemoryDaemon, caplog: pytest.LogCaptureFixture) -> None:
    alice = await register(daemon, "alice")

    def open_connection(account: Account | None, hello: bool) -> Any:
        return connect(daemon, account, hello=hello)

    with trio.fail_after(240):
        fuzzer = await _fuzz(open_connection, alice, 5000, caplog)
        await _still_works(open_connection, alice)
    assert fuzzer.frames >= 5000
    # The rare shapes were reached: each documented close was earned at least once.
    assert set(fuzzer.closes) == DOCUMENTED_CLOSES, fuzzer.closes


@pytest.mark.slow
async def test_fuzzed_frames_over_real_tls(server: RunningServer, caplog: pytest.LogCaptureFixture) -> None:
    alice = await register(server, "alice")

    def open_connection(account: Account | None, hello: bool) -> Any:
        return connect(server, account, hello=hello, use_cookie=account is not None)

    with trio.fail_after(240):
        await _fuzz(open_connection, alice, 300, caplog)
        await _still_works(open_connection, alice)

