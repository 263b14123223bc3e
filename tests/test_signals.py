"""Signal handling of ``chatd serve``: the first SIGTERM drains, a second one forces exit."""

from __future__ import annotations

import os
import signal

import trio
import trio.testing

from chatd.cli import _signals


async def test_first_signal_drains_second_forces() -> None:
    shutdown = trio.Event()
    forced = trio.CancelScope()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_signals, shutdown, forced)
        await trio.testing.wait_all_tasks_blocked()
        os.kill(os.getpid(), signal.SIGTERM)
        await shutdown.wait()
        assert not forced.cancel_called
        os.kill(os.getpid(), signal.SIGINT)
        with trio.fail_after(5):
            await trio.testing.wait_all_tasks_blocked(0.05)
    assert forced.cancel_called
