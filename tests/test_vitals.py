"""The vitals line: what an operator reads to see that nothing creeps (and bench S12 samples)."""

from __future__ import annotations

import logging
from contextlib import ExitStack
from dataclasses import replace
from functools import partial

import pytest
import trio
import trio.testing

from chatd import vitals
from chatd.auth.passwords import Passwords
from chatd.clock import FakeClock
from chatd.config import Config
from chatd.store import Database
from chatd.vitals import count_tasks
from tests.helpers.client import connect, register
from tests.helpers.memory import run_memory_daemon
from tests.helpers.raw import Raw, in_thread
from tests.helpers.server import RunningServer
from tests.test_auth_support import FAST_PARAMETERS
from tests.test_log_injection import format_line, parse_logfmt


async def test_vitals_are_logged_every_interval(
    server_config: Config, db: Database, clock: FakeClock, mock_clock: trio.testing.MockClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cfg = replace(server_config, vitals_log_secs=30)
    async with run_memory_daemon(cfg, db, Passwords(FAST_PARAMETERS), clock) as daemon:
        alice = await register(daemon, "alice")
        async with connect(daemon, alice) as a:
            await a.ok("ping")
            with caplog.at_level(logging.INFO, logger="chatd.vitals"):
                await trio.testing.wait_all_tasks_blocked()
                assert [r for r in caplog.records if r.name == "chatd.vitals"] == []
                mock_clock.jump(30)
                await trio.testing.wait_all_tasks_blocked()
                [record] = [r for r in caplog.records if r.name == "chatd.vitals"]
                tasks_now = count_tasks()
    fields = dict(parse_logfmt(format_line(str(record.msg), *record.args)))  # type: ignore[misc]
    assert fields["event"] == "server.vitals"
    assert int(fields["connections"]) == 1
    assert int(fields["rss_kb"]) > 10_000 and int(fields["fds"]) > 3
    assert 0 < int(fields["tasks"]) <= tasks_now + 5


async def test_free_heap_memory_is_returned_every_minute(
    monkeypatch: pytest.MonkeyPatch, mock_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    trimmed = trio.Event()
    pads: list[int] = []

    def fake_trim(pad: int) -> int:
        pads.append(pad)
        trio.from_thread.run_sync(trimmed.set)
        return 1

    assert vitals._malloc_trim() is not None  # glibc here: the real one exists
    monkeypatch.setattr(vitals, "_malloc_trim", lambda: fake_trim)
    await nursery.start(vitals.return_free_memory)
    mock_clock.jump(vitals.MEMORY_TRIM_SECS - 1)
    await trio.testing.wait_all_tasks_blocked()
    assert pads == []
    mock_clock.jump(1)
    with trio.fail_after(30):
        await trimmed.wait()
    assert pads == [0]


async def test_the_sockets_figure_counts_both_upgrade_paths(server: RunningServer) -> None:
    """chatd's own WebSocket path and Quart's fallback route both count in ``sockets``."""
    with ExitStack() as sockets:
        for after_a_request in (False, True, False):
            sockets.callback((await in_thread(partial(Raw.upgraded, server.url, after_a_request=after_a_request))).close)
        assert vitals.vitals(server.state)["sockets"] == 3
    await trio.testing.wait_all_tasks_blocked()
    assert vitals.vitals(server.state)["sockets"] == 0
