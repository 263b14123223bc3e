"""The session keeper: live sockets whose session expired or was revoked are closed.

Revocations by this process end sockets at once (the registry), and those by the CLI through
NOTIFY (``chatd.auth.events``); this sweep catches expiry and anything missed, with one query per
``KEEPER_BATCH`` sessions instead of one per socket. It also refreshes each live socket's
principal, so an open socket counts as use of its session.
"""

from __future__ import annotations

import logging
from typing import Any

import trio

from chatd.auth.sessions import Sessions
from chatd.connections import ConnectionRegistry
from chatd.store import StoreError
from chatd.wire.errors import CLOSE_UNAUTHENTICATED

log = logging.getLogger("chatd.auth")

KEEPER_BATCH = 1000  # session ids per re-check query


async def keep_sessions(
    sessions: Sessions, connections: ConnectionRegistry, interval_secs: float,
    task_status: Any = trio.TASK_STATUS_IGNORED,
) -> None:
    """Every ``interval_secs``: re-check the sessions of all live sockets; those that ended get
    ``session.expired`` and close 4001. Runs until cancelled (owned by the service nursery)."""
    task_status.started()
    while True:
        await trio.sleep(interval_secs)
        ids = connections.session_ids()
        for start in range(0, len(ids), KEEPER_BATCH):
            chunk = ids[start : start + KEEPER_BATCH]
            try:
                valid = await sessions.revalidate_many(chunk)
            except StoreError as exc:
                log.warning("event=ws.session_check_failed error=%s", str(exc))
                break  # the database is away; check again next time
            for sid in chunk:
                fresh = valid.get(sid)
                for conn in connections.of_session(sid):
                    if fresh is None:
                        conn.end(CLOSE_UNAUTHENTICATED, "session expired", True)
                    else:
                        conn.refresh(fresh)
