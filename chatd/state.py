"""The daemon's state: one typed object, built once at start-up and passed down.

Everything a route, a WebSocket session or a handler uses is a field here — no service is looked
up by a string key. Building it starts nothing: the long-lived tasks (``hub.run``,
``presence_push.run``, ``membership.run``, ``events.run``, the files' housekeeping…) are
started by ``chatd.services`` in the service nursery, their one owner.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import trio

from chatd.auth.runtime import AuthRuntime
from chatd.auth.sessions import Sessions
from chatd.clock import Clock
from chatd.config import Config
from chatd.connections import ConnectionRegistry, SocketsByAddress
from chatd.events import EventBus
from chatd.files.service import Files, storage_push
from chatd.flusher import Flusher
from chatd.hub import Hub
from chatd.membership import Membership
from chatd.presence import PresenceTracker
from chatd.presence_push import PresencePusher
from chatd.store import Database
from chatd.wire import encode_server_frame


@dataclass(eq=False)
class DaemonState:
    """What the daemon's parts share. Owned by the server; built by ``build_state``."""

    config: Config
    db: Database
    clock: Clock
    sessions: Sessions
    auth: AuthRuntime
    hub: Hub
    connections: ConnectionRegistry
    presence: PresenceTracker
    presence_push: PresencePusher
    membership: Membership
    events: EventBus
    files: Files
    flusher: Flusher = field(default_factory=Flusher)  # writes what fan-out queued, once per round
    # Open WebSockets per client address (the per-address connection cap), on both upgrade paths.
    sockets: SocketsByAddress = field(default_factory=SocketsByAddress)
    # Set when the server begins its graceful shutdown: sockets close with 1001, health says 503.
    draining: trio.Event = field(default_factory=trio.Event)
    # The public origins WebSocket upgrades and state-changing requests must come from; known
    # once the listener is bound (port 0 picks the port).
    origins: tuple[str, ...] = ()
    started_at: float = field(default_factory=time.time)


def build_state(config: Config, db: Database, clock: Clock | None = None) -> DaemonState:
    """The daemon's state for ``config`` over ``db`` (its services not yet running)."""
    clock = clock or Clock()
    hub = Hub(db)
    connections = ConnectionRegistry()
    presence = PresenceTracker()
    files = Files(
        config, db, on_space_change=lambda report: connections.push_to_admins(encode_server_frame(storage_push(report)))
    )
    return DaemonState(
        config=config,
        db=db,
        clock=clock,
        sessions=Sessions(db, clock, float(config.session_idle_secs)),
        auth=AuthRuntime.for_config(config),
        hub=hub,
        connections=connections,
        presence=presence,
        presence_push=PresencePusher(hub, presence),
        membership=Membership(db, hub, connections),
        events=EventBus(),
        files=files,
    )
