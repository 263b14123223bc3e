"""The dispatch table: each client frame type → its handler and its access rule.

The access rule is checked HERE, in one place, before the handler runs; a handler finds its
rule in the row below that names its frame. Rules:

- ``NONE``: no channel involved;
- ``VISIBLE``: the channel exists and the user may know it (public, or a member);
- ``MEMBER``: the user is a member of the channel;
- ``INVITER``: a member — and, for a private channel, its owner.

A channel the user may not see answers ``not_found`` exactly like a missing one (nothing of a
private channel leaks); a public one the user has not joined answers ``not_member``. Membership
is read from the connection's subscriptions (no query on the hot path); a channel not among them
is looked up, so a membership committed by another connection or process is honoured at once.
"""

# ruff: noqa: E701  (the table below is one row per line: frame type → handler, rule)

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, assert_never

from chatd.handlers import changes, channels, dms, messages, presence, search
from chatd.handlers.base import Grant, Peer, Refuse
from chatd.store import channels as channel_store
from chatd.wire import (
    Around,
    Browse,
    ChannelCreate,
    ChannelInvite,
    ChannelJoin,
    ChannelLeave,
    ChannelNotify,
    Channels,
    ClientFrame,
    Delete,
    DmOpen,
    Edit,
    Hello,
    History,
    Members,
    Ping,
    PresenceSet,
    Read,
    Search,
    Send,
    Typing,
    Users,
    Versions,
)
from chatd.wire.errors import BAD_FRAME, FORBIDDEN, NOT_FOUND, NOT_MEMBER


class Rule(enum.Enum):
    NONE = "none"
    VISIBLE = "visible"
    MEMBER = "member"
    INVITER = "inviter"


F = TypeVar("F", bound=ClientFrame)


@dataclass(frozen=True, slots=True)
class Route(Generic[F]):
    handler: Callable[[Peer, F, Grant | None], Awaitable[None]]
    rule: Rule


async def _hello_again(peer: Peer, frame: Hello, _: Grant | None) -> None:
    raise Refuse(BAD_FRAME, "hello was already sent")


def route(frame: ClientFrame) -> Route[Any]:
    """The table: the handler and access rule of ``frame``'s type."""
    match frame:
        case Ping():          return Route(presence.ping, Rule.NONE)
        case Hello():         return Route(_hello_again, Rule.NONE)
        case Channels():      return Route(channels.list_mine, Rule.NONE)
        case Browse():        return Route(channels.browse, Rule.NONE)
        case ChannelCreate(): return Route(channels.create, Rule.NONE)
        case ChannelJoin():   return Route(channels.join, Rule.VISIBLE)
        case ChannelLeave():  return Route(channels.leave, Rule.MEMBER)
        case ChannelInvite(): return Route(channels.invite, Rule.INVITER)
        case Members():       return Route(channels.members, Rule.MEMBER)
        case Send():          return Route(messages.send, Rule.MEMBER)
        case History():       return Route(messages.history, Rule.MEMBER)
        case Around():        return Route(messages.around, Rule.MEMBER)
        case Read():          return Route(messages.read, Rule.MEMBER)
        case Typing():        return Route(presence.typing, Rule.MEMBER)
        case PresenceSet():   return Route(presence.presence_set, Rule.NONE)
        case Search():        return Route(search.search, Rule.NONE)  # visibility is in its SQL
        case Edit():          return Route(changes.edit, Rule.MEMBER)
        case Delete():        return Route(changes.delete, Rule.MEMBER)
        case Versions():      return Route(changes.versions, Rule.MEMBER)
        case DmOpen():        return Route(dms.dm_open, Rule.NONE)  # names people, not a channel
        case Users():         return Route(dms.users, Rule.NONE)
        case ChannelNotify(): return Route(channels.notify, Rule.MEMBER)
        case _:               assert_never(frame)


class Subscriptions(Protocol):
    def grant(self, ch: int) -> Grant | None:
        """The user's standing in ``ch`` if this connection is subscribed to it."""
        ...


async def dispatch(peer: Peer, subscriptions: Subscriptions, frame: ClientFrame) -> None:
    """Check ``frame``'s access rule, then run its handler (raises ``Refuse`` on refusal)."""
    r = route(frame)
    grant = None if r.rule is Rule.NONE else await _check(peer, subscriptions, r.rule, channel_of(frame))
    await r.handler(peer, frame, grant)


def channel_of(frame: ClientFrame) -> int:
    """The channel a frame with a channel rule is about (its ``ch``)."""
    ch = getattr(frame, "ch", None)
    if type(ch) is not int:  # a row of the table gave a channel rule to a frame without ch
        raise TypeError(f"{frame.op} has no channel")
    return ch


async def _check(peer: Peer, subscriptions: Subscriptions, rule: Rule, ch: int) -> Grant:
    grant = subscriptions.grant(ch)
    if grant is None:
        access = await channel_store.get_access(peer.state.db, user_id=peer.user_id, channel_id=ch)
        if access is None or not access.visible:
            raise Refuse(NOT_FOUND, "no such channel")
        grant = access
    if rule is Rule.VISIBLE:
        return grant
    if grant.role is None:
        raise Refuse(NOT_MEMBER, "join the channel first")
    if rule is Rule.INVITER and grant.dm:
        raise Refuse(FORBIDDEN, "the people of a conversation are fixed: nobody can be invited")
    if rule is Rule.INVITER and grant.private and grant.role != "owner":
        raise Refuse(FORBIDDEN, "only the channel's owner can invite to a private channel")
    return grant
