"""What every handler shares: the refusal it raises, and the connection it serves (``Peer``).

A handler is ``async def handle(peer, frame, grant) -> None``. The dispatcher
(``chatd.gateway.dispatch``) has already checked the frame's access rule and passes the ``grant``
that satisfied it (the user's role in the frame's channel, or None for rules without a channel).
A handler answers by pushing exactly one reply (``ok`` or, for ``send``, the ``ack``), or by
raising ``Refuse`` (the session answers the error frame). Anything else it raises is a bug: the
session logs it with its traceback and closes that connection with 1011.
"""

from __future__ import annotations

from typing import Any, Protocol

import trio

from chatd.auth.sessions import Principal
from chatd.state import DaemonState
from chatd.wire import ServerFrame


class Refuse(Exception):
    """An error reply to the current request (a code of ``chatd.wire.errors`` and a message for
    humans); the connection stays open. ``extra`` holds the error frame's optional fields."""

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code, self.message, self.extra = code, message, extra


class Grant(Protocol):
    """The user's standing in a channel, as the access check found it (``dm``: a direct message
    conversation, whose people are fixed)."""

    @property
    def role(self) -> str | None: ...

    @property
    def private(self) -> bool: ...

    @property
    def dm(self) -> bool: ...


class Peer(Protocol):
    """The authenticated connection a request came from, as handlers see it."""

    state: DaemonState
    # Sends awaiting their ack; a handler takes one before submitting (backpressure on the reader).
    send_slots: trio.Semaphore
    # Channel → trio.current_time() of this connection's last relayed typing notice.
    typing_at: dict[int, float]

    @property
    def principal(self) -> Principal: ...

    @property
    def user_id(self) -> int: ...

    def push(self, frame: ServerFrame) -> None:
        """Queue a frame for this connection (never blocks)."""
        ...

    def channel_ids(self) -> list[int]:
        """The channels this connection is subscribed to."""
        ...
