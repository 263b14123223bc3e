"""The daemon's long-lived services, started by ``chatd.server`` in its service nursery.

``start_services`` starts every background task of ``state`` in ``nursery`` (their one owner)
and returns once they are ready: the hub (channel actors), the presence pusher, the member-event
pusher, the account-event handlers and the dead-session sweep, the session keeper, the file
store's housekeeping (its folders exist once it is started), the LISTEN loop (after every handler
is in place, so none misses the first notification), the vitals log and the heap trim.
"""

from __future__ import annotations

from typing import Any

import trio

from chatd.auth import events as auth_events
from chatd.auth.keeper import keep_sessions
from chatd.events import RESYNC
from chatd.files import housekeeping
from chatd.state import DaemonState
from chatd.vitals import log_vitals, return_free_memory


async def start_services(nursery: trio.Nursery, state: DaemonState) -> None:
    """Start the background services of ``state`` in ``nursery``; returns once they are ready."""
    hub = state.hub
    await nursery.start(hub.run)
    await nursery.start(state.presence_push.run)
    await nursery.start(state.membership.run)

    async def on_msg(event: dict[str, Any]) -> None:
        ch, seq = event.get("ch"), event.get("seq")
        if isinstance(ch, int) and isinstance(seq, int):
            hub.notify_committed(ch, seq)

    async def on_resync(_: dict[str, Any]) -> None:
        hub.resync_all()

    state.events.on("msg", on_msg)
    state.events.on(RESYNC, on_resync)
    cfg = state.config
    await nursery.start(
        auth_events.run, state.events, state.connections, state.db, state.clock, float(cfg.session_idle_secs)
    )
    await nursery.start(keep_sessions, state.sessions, state.connections, float(cfg.session_check_secs))
    await nursery.start(housekeeping.run, state.files, state.clock)
    await nursery.start(state.events.run, state.db)
    await nursery.start(log_vitals, state)
    await nursery.start(return_free_memory)
