"""The daemon's long-lived services and first-start data, started by ``chatd.server``.

``start_services`` starts every background task in the server's service nursery (its one owner)
and hangs what routes need on ``state``. ``bootstrap`` creates what a fresh database needs.
"""

from __future__ import annotations

import trio

from chatd.auth import events as auth_events
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
    await nursery.start(state.events.run, state.db)
    await nursery.start(auth_events.run, state)
