"""The daemon side of account events: handlers for notifications from the CLI, and upkeep.

The admin CLI runs in another process; when it revokes a session or disables a user it sends
``session_revoked`` (``session``: id) or ``user_disabled`` (``user``: id) over LISTEN/NOTIFY.
``run`` installs handlers that end the matching live WebSockets through the connection registry
(push ``session.expired``, close 4001), then deletes long-dead session rows once an hour.
"""

from __future__ import annotations

import logging
from typing import Any

import trio

from chatd.clock import Clock
from chatd.connections import ConnectionRegistry
from chatd.events import EventBus
from chatd.store import Database, StoreError
from chatd.store import sessions as session_store

log = logging.getLogger("chatd.auth")

SESSION_REVOKED = "session_revoked"
USER_DISABLED = "user_disabled"
SWEEP_SECS = 3600.0  # dead rows cost only disk; an hourly DELETE keeps the table small
KEEP_DEAD_SECS = 30 * 86400.0  # revoked/expired rows stay a month (sessions list history, audits)


def install_handlers(events: EventBus, connections: ConnectionRegistry) -> None:
    """Register the ``session_revoked`` and ``user_disabled`` handlers on ``events``."""

    async def on_session_revoked(payload: dict[str, Any]) -> None:
        session_id = payload.get("session")
        if isinstance(session_id, int) and not isinstance(session_id, bool):
            ended = connections.end_session(session_id, "session revoked")
            log.info("event=auth.session_revoked_notified session_id=%d sockets=%d", session_id, ended)

    async def on_user_disabled(payload: dict[str, Any]) -> None:
        user_id = payload.get("user")
        if isinstance(user_id, int) and not isinstance(user_id, bool):
            ended = connections.end_user(user_id, "account disabled")
            log.info("event=auth.user_disabled_notified user_id=%d sockets=%d", user_id, ended)

    events.on(SESSION_REVOKED, on_session_revoked)
    events.on(USER_DISABLED, on_user_disabled)


async def run(
    events: EventBus, connections: ConnectionRegistry, db: Database, clock: Clock, idle_secs: float,
    task_status: Any = trio.TASK_STATUS_IGNORED,
) -> None:
    """Install the handlers, report started, then sweep dead sessions hourly until cancelled."""
    install_handlers(events, connections)
    task_status.started()
    while True:
        await trio.sleep(SWEEP_SECS)
        try:
            deleted = await session_store.delete_dead_sessions(db, clock.now(), idle_secs, KEEP_DEAD_SECS)
        except StoreError as exc:
            log.warning("event=auth.sweep_failed error=%s", str(exc))
            continue
        if deleted:
            log.info("event=auth.sweep deleted=%d", deleted)
