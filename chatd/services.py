"""The daemon's long-lived services and first-start data, started by ``chatd.server``.

``start_services`` starts every background task in the server's service nursery (its one owner)
and hangs what routes need on ``state``. ``bootstrap`` creates what a fresh database needs.
"""

from __future__ import annotations

from typing import Any

import trio

from chatd.auth import events as auth_events
from chatd.events import RESYNC
from chatd.gateway import keep_sessions
from chatd.hub import Hub
from chatd.presence_push import PresencePusher
from chatd.store import Database
from chatd.web.app import AppState

DEFAULT_CHANNEL = "general"
DEFAULT_CHANNEL_DESCRIPTION = "Everyone is here. Say hello!"


async def bootstrap(db: Database) -> None:
    """Create the default public channel ``#general`` if it does not exist (idempotent)."""
    await db.execute(
        "bootstrap.general",
        """INSERT INTO channels (name, name_key, description, private)
           VALUES ($1, $1, $2, false) ON CONFLICT (name_key) DO NOTHING""",
        DEFAULT_CHANNEL,
        DEFAULT_CHANNEL_DESCRIPTION,
    )


async def start_services(nursery: trio.Nursery, state: AppState) -> None:
    """Start the background services in ``nursery``; returns once they are ready."""
    hub = Hub(state.db)
    await nursery.start(hub.run)
    state.extras["hub"] = hub
    presence_push = PresencePusher(hub, state.presence)
    await nursery.start(presence_push.run)
    state.extras["presence_push"] = presence_push
    # Small follow-up tasks of requests (member.joined pushes) belong here, not to a request.
    state.extras["member_events"] = nursery

    async def on_msg(event: dict[str, Any]) -> None:
        ch, seq = event.get("ch"), event.get("seq")
        if isinstance(ch, int) and isinstance(seq, int):
            hub.notify_committed(ch, seq)

    async def on_resync(_: dict[str, Any]) -> None:
        hub.resync_all()

    state.events.on("msg", on_msg)
    state.events.on(RESYNC, on_resync)
    await nursery.start(auth_events.run, state)  # its handlers are in place before LISTEN starts
    await nursery.start(keep_sessions, state)
    await nursery.start(state.events.run, state.db)
