"""A graceful shutdown with WebSockets connected ends when they are closed, not a ping later."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trio

from chatd.config import load_config
from chatd.server import ServeInfo, run_services
from chatd.store import Database
from tests.helpers.client import connect, register
from tests.helpers.server import RunningServer


async def test_shutdown_does_not_wait_for_a_ping_interval(data_dir: Path, db_dsn: str, db: Database, nursery: trio.Nursery) -> None:
    # A ping interval and a grace period far longer than the deadline below: Hypercorn 0.18 kept
    # each closed socket's ping task asleep until its next ping, and shutdown waited for it.
    cfg = load_config(env={}, overrides={
        "data_dir": str(data_dir), "port": 0, "database_url": db_dsn,
        "ws_ping_secs": 60, "ws_timeout_secs": 120, "shutdown_grace_secs": 120,
    })
    shutdown, stopped = trio.Event(), trio.Event()

    async def serve(task_status: Any) -> None:
        try:
            await run_services(cfg, db, shutdown=shutdown, task_status=task_status)
        finally:
            stopped.set()

    info: ServeInfo = await nursery.start(serve)
    server = RunningServer(info.urls[0], cfg, db, info, shutdown)
    alice, bob = await register(server, "alice"), await register(server, "bob")
    async with connect(server, alice) as a, connect(server, bob) as b:
        shutdown.set()
        assert (await a.wait_closed()).code == 1001
        assert (await b.wait_closed()).code == 1001
    with trio.fail_after(15):
        await stopped.wait()
