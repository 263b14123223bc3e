"""What an idle WebSocket costs the server, in things that do not depend on the machine's speed:
tasks and Python objects per connection (S5's memory target is measured by bench/; this catches a
regression — a task or a buffer per socket coming back — in the test suite)."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
import trio
import trio.testing

from chatd.clock import FakeClock
from chatd.config import Config
from chatd.gateway.session import Session
from chatd.store import Database
from tests.helpers.client import register
from tests.helpers.raw import Raw, in_thread
from tests.helpers.server import RunningServer, run_test_server

SOCKETS = 40
TASKS_PER_SOCKET = 1  # the connection's reader (Session.serve); a writer only while backed up
OBJECTS_PER_SOCKET_MAX = 160  # measured 118 (TLS, after hello, one channel, the test's client included)


def _server_tasks() -> int:
    """Tasks of the process running chatd's or Hypercorn's code (the test's own are not)."""
    count, stack = 0, [trio.lowlevel.current_root_task()]
    while stack:
        task = stack.pop()
        if task.name.startswith(("chatd.", "hypercorn.")):
            count += 1
        stack.extend(child for nursery in task.child_nurseries for child in nursery.child_tasks)
    return count


def _gc_objects() -> int:
    gc.collect()
    return len(gc.get_objects())


@pytest.fixture
async def server(
    server_config: Config, db: Database, nursery: trio.Nursery, clock: FakeClock
) -> AsyncIterator[RunningServer]:
    """One user holds every socket here: no cap on a user's connections (their footprint is
    the point, not the cap; test_connection_caps tests it)."""
    async with run_test_server(replace(server_config, max_connections_per_user=0), db, nursery, clock) as running:
        yield running


async def test_an_idle_socket_costs_one_task_and_a_bounded_number_of_objects(server: RunningServer) -> None:
    alice = await register(server, "alice")

    def open_all(n: int) -> list[Raw]:
        conns: list[Raw] = []
        try:
            for _ in range(n):
                conns.append(Raw(server.url))
                assert conns[-1].upgrade(None, None) == 101
                assert conns[-1].hello(alice.token)["op"] == "ok"
        except BaseException:
            for c in conns:
                c.close()
            raise
        return conns

    # A first socket starts what is per channel, not per socket (the channel's actor).
    conns: list[Any] = await in_thread(open_all, 1)
    await trio.testing.wait_all_tasks_blocked(0.05)
    tasks_before, objects_before = _server_tasks(), _gc_objects()
    conns += await in_thread(open_all, SOCKETS)
    try:
        await trio.testing.wait_all_tasks_blocked(0.05)
        assert sum(isinstance(o, Session) for o in gc.get_objects()) == SOCKETS + 1
        tasks = _server_tasks() - tasks_before
        objects = (_gc_objects() - objects_before) / SOCKETS
        assert tasks == SOCKETS * TASKS_PER_SOCKET, tasks
        assert objects <= OBJECTS_PER_SOCKET_MAX, objects
    finally:
        for c in conns:
            c.close()
