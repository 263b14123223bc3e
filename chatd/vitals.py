"""The process's vital signs in the log, now and then: memory, file descriptors, tasks, sockets.

A server meant to run for months should show in its journal whether anything creeps:
``event=server.vitals rss_kb=… fds=… tasks=… connections=… sockets=… actors=…`` every
``vitals_log_secs`` (10 minutes by default; bench S12 asks for every 10 s). Reading them costs a
walk over the task tree and two small /proc reads.

Ownership: ``log_vitals`` is started in the service nursery (``chatd.services``).
"""

from __future__ import annotations

import logging
import os
from typing import Any

import trio

from chatd.state import DaemonState

log = logging.getLogger("chatd.vitals")

_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def count_tasks() -> int:
    """Every live Trio task of this run (a walk from the root task)."""
    count = 0
    root = trio.lowlevel.current_root_task()
    stack = [] if root is None else [root]
    while stack:
        task = stack.pop()
        count += 1
        for nursery in task.child_nurseries:
            stack.extend(nursery.child_tasks)
    return count


def vitals(state: DaemonState) -> dict[str, int]:
    """The figures of one vitals line (RSS and descriptors from /proc; -1 where unreadable)."""
    try:
        with open("/proc/self/statm") as f:
            rss_kb = int(f.read().split()[1]) * _PAGE_KB
        fds = len(os.listdir("/proc/self/fd"))
    except OSError:
        rss_kb = fds = -1
    hub = state.hub.statistics()
    return {
        "rss_kb": rss_kb, "fds": fds, "tasks": count_tasks(), "connections": len(state.connections),
        "sockets": state.sockets.total(), "actors": hub["actors"],
    }


async def log_vitals(state: DaemonState, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
    """Log the vitals every ``vitals_log_secs`` until cancelled (never, if that is 0)."""
    task_status.started()
    interval = state.config.vitals_log_secs
    if interval <= 0:
        return
    while True:
        await trio.sleep(interval)
        v = vitals(state)
        log.info(
            "event=server.vitals rss_kb=%d fds=%d tasks=%d connections=%d sockets=%d actors=%d",
            v["rss_kb"], v["fds"], v["tasks"], v["connections"], v["sockets"], v["actors"],
        )
