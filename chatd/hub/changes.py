"""Edits and deletes in a channel's actor (feature "edits"): a ``ChangeRequest`` is queued on the
actor like a send, in arrival order; ``apply_change`` commits it (its own transaction: the checks,
the new stream position, the versions or the purge — chatd.store.stream.change_message), then
fans out the ``msg.changed`` event with the message as it is now, and the ``counts`` of the
readers whose counts it moved, each right after the event on that reader's connections.

A request's ``on_done`` runs in the actor's task (it must not block or raise): the handler that
queued it waits for it, then answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from chatd import render
from chatd.store import Database, StoreError
from chatd.store.stream import Changed, change_message, message_at
from chatd.wire import Counts, MsgChanged, encode_server_frame

log = logging.getLogger("chatd.hub")


class _Reader(Protocol):
    @property
    def user_id(self) -> int: ...

    def deliver_note(self, ch: int, seq: int, frame: bytes) -> None: ...


class _Actor(Protocol):
    """What a change needs of the channel's actor (chatd.hub.actor.ChannelActor)."""

    ch: int

    @property
    def readers(self) -> Iterable[_Reader]: ...

    async def fill_gap_before(self, db: Database, pos: int) -> None: ...

    def fan_out(self, seq: int, frame: bytes) -> None: ...


@dataclass(slots=True, eq=False)
class ChangeRequest:
    """An edit (``body``, ``mentions``, ``mention_all``) or a ``delete`` of message ``seq`` by
    ``user_id``; ``moderator``: the user may delete anyone's message (owner, admin);
    ``window_secs``: how long after posting its author may change it (0: always).

    ``on_done(request)`` is called in the actor's task once ``result`` holds the ``Changed``
    outcome (after the commit and the broadcast) or the ``StoreError`` that stopped it.
    """

    user_id: int
    seq: int
    delete: bool
    on_done: Callable[[ChangeRequest], None]
    body: str = ""
    mentions: tuple[int, ...] = ()
    mention_all: bool = False
    moderator: bool = False
    window_secs: int = 0
    result: Changed | StoreError | None = None

    def finish(self, result: Changed | StoreError) -> None:
        """Record the outcome and tell the requester."""
        self.result = result
        self.on_done(self)


async def apply_change(actor: _Actor, db: Database, req: ChangeRequest) -> None:
    """Commit ``req``, then broadcast its event and the counts it moved (in the actor's task)."""
    ch = actor.ch
    readers = sorted({r.user_id for r in actor.readers})
    try:
        changed = await change_message(
            db, channel_id=ch, seq=req.seq, user_id=req.user_id, delete=req.delete, body=req.body,
            mentions=req.mentions, mention_all=req.mention_all, moderator=req.moderator,
            window_secs=req.window_secs, readers=readers,
        )
    except StoreError as exc:
        log.warning("event=hub.change_failed ch=%d seq=%d error=%s", ch, req.seq, str(exc))
        req.finish(exc)
        return
    if changed.status == "ok" and changed.pos is not None:
        pos = changed.pos
        await actor.fill_gap_before(db, pos)
        try:
            row = await message_at(db, channel_id=ch, seq=req.seq)
        except StoreError as exc:  # committed: the NOTIFY of the change makes the actor read it back
            log.warning("event=hub.change_read_failed ch=%d pos=%d error=%s", ch, pos, str(exc))
            row = None
        if row is not None:
            actor.fan_out(pos, encode_server_frame(MsgChanged(ch, pos, render.msg(row).info())))
            for c in changed.counts:
                note = encode_server_frame(Counts(ch, pos, c.unread, c.mentions, req.seq if c.newly_mentioned else None))
                for reader in list(actor.readers):
                    if reader.user_id == c.user_id:
                        reader.deliver_note(ch, pos, note)
    req.finish(changed)
