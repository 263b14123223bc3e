"""One frozen dataclass per client frame (request) of protocol v1.

They are what :func:`chatd.wire.decode_client_frame` returns; every one has a ``rid``, and its
field names are the map keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Final, Literal, TypeAlias

#: Page size of browse/history/around when the request has no "limit".
DEFAULT_LIMIT: Final = 50
#: Largest "limit" a request may ask for (and the smallest is 1).
MAX_LIMIT: Final = 100


@dataclass(frozen=True, slots=True)
class Hello:
    """hello: must be the first frame. ``resume`` holds (ch, last_seq) pairs, each ch once."""

    op: ClassVar[str] = "hello"
    rid: int
    v: int
    token: str | None = None
    resume: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Channels:
    """channels: list the channels I am a member of."""

    op: ClassVar[str] = "channels"
    rid: int


@dataclass(frozen=True, slots=True)
class Browse:
    """browse: page through public channels; ``after`` is the opaque cursor of the last reply."""

    op: ClassVar[str] = "browse"
    rid: int
    q: str | None = None
    after: str | None = None
    limit: int = DEFAULT_LIMIT


@dataclass(frozen=True, slots=True)
class ChannelCreate:
    """channel.create: the creator becomes its owner."""

    op: ClassVar[str] = "channel.create"
    rid: int
    name: str
    description: str = ""
    private: bool = False


@dataclass(frozen=True, slots=True)
class ChannelJoin:
    """channel.join: join a public channel."""

    op: ClassVar[str] = "channel.join"
    rid: int
    ch: int


@dataclass(frozen=True, slots=True)
class ChannelLeave:
    """channel.leave."""

    op: ClassVar[str] = "channel.leave"
    rid: int
    ch: int


@dataclass(frozen=True, slots=True)
class ChannelInvite:
    """channel.invite: add the user named ``user`` (a username) to channel ``ch``."""

    op: ClassVar[str] = "channel.invite"
    rid: int
    ch: int
    user: str


@dataclass(frozen=True, slots=True)
class Members:
    """members: list a channel's members."""

    op: ClassVar[str] = "members"
    rid: int
    ch: int


@dataclass(frozen=True, slots=True)
class Send:
    """send: post ``body`` to ``ch``; ``cid`` (16 bytes) makes retries idempotent; ``files``
    (feature "files") are the ids of finished uploads the message carries; ``mentions`` and
    ``all`` (feature "mentions") whom it mentions."""

    op: ClassVar[str] = "send"
    rid: int
    ch: int
    cid: bytes
    body: str
    files: tuple[str, ...] = ()
    mentions: tuple[int, ...] = ()
    all: bool = False


@dataclass(frozen=True, slots=True)
class Edit:
    """edit (feature "edits"): replace the text and mentions of my message ``seq`` of ``ch``."""

    op: ClassVar[str] = "edit"
    rid: int
    ch: int
    seq: int
    body: str
    mentions: tuple[int, ...] = ()
    all: bool = False


@dataclass(frozen=True, slots=True)
class Delete:
    """delete (feature "edits"): delete message ``seq`` of ``ch`` (a tombstone stays)."""

    op: ClassVar[str] = "delete"
    rid: int
    ch: int
    seq: int


@dataclass(frozen=True, slots=True)
class Versions:
    """versions (feature "edits"): the previous versions of message ``seq`` of ``ch``."""

    op: ClassVar[str] = "versions"
    rid: int
    ch: int
    seq: int


@dataclass(frozen=True, slots=True)
class DmOpen:
    """dm.open (feature "dms"): the conversation of me and ``users`` (usernames), made if new."""

    op: ClassVar[str] = "dm.open"
    rid: int
    users: tuple[str, ...]


#: Page size of users when the request has no "limit".
USERS_DEFAULT_LIMIT: Final = 20


@dataclass(frozen=True, slots=True)
class Users:
    """users (feature "dms"): active users whose name contains ``q`` (a picker of people)."""

    op: ClassVar[str] = "users"
    rid: int
    q: str | None = None
    limit: int = USERS_DEFAULT_LIMIT


@dataclass(frozen=True, slots=True)
class ChannelNotify:
    """channel.notify (feature "notify"): my notification level and/or mute of ``ch``."""

    op: ClassVar[str] = "channel.notify"
    rid: int
    ch: int
    notify: Literal["all", "mentions", "nothing"] | None = None
    muted: bool | None = None


@dataclass(frozen=True, slots=True)
class History:
    """history: a page of messages with seq < before, or > after, or the latest (neither)."""

    op: ClassVar[str] = "history"
    rid: int
    ch: int
    before: int | None = None
    after: int | None = None
    limit: int = DEFAULT_LIMIT


@dataclass(frozen=True, slots=True)
class Around:
    """around: a page of messages centred on ``seq`` (jump to a search hit or a link)."""

    op: ClassVar[str] = "around"
    rid: int
    ch: int
    seq: int
    limit: int = DEFAULT_LIMIT


@dataclass(frozen=True, slots=True)
class Read:
    """read: move my read marker of ``ch`` forward to ``seq``."""

    op: ClassVar[str] = "read"
    rid: int
    ch: int
    seq: int


@dataclass(frozen=True, slots=True)
class Typing:
    """typing: I am composing in ``ch`` (at most every 3 s)."""

    op: ClassVar[str] = "typing"
    rid: int
    ch: int


@dataclass(frozen=True, slots=True)
class Ping:
    """ping: an application-level liveness probe (browsers cannot see WebSocket pings)."""

    op: ClassVar[str] = "ping"
    rid: int


@dataclass(frozen=True, slots=True)
class PresenceSet:
    """presence.set: the client reports being active or away."""

    op: ClassVar[str] = "presence.set"
    rid: int
    state: Literal["active", "away"]


#: Page size of search when the request has no "limit".
SEARCH_DEFAULT_LIMIT: Final = 20
#: The orders of search: by relevance (blended with recency), or newest first.
SEARCH_ORDERS: Final = ("relevance", "newest")


@dataclass(frozen=True, slots=True)
class Search:
    """search (feature "search"): messages of my channels matching ``q`` (PROTOCOL.md §5.16).

    ``tz`` is the IANA time zone dates in ``q`` are in; ``after`` the ``next`` cursor of the
    previous page.
    """

    op: ClassVar[str] = "search"
    rid: int
    q: str
    order: Literal["relevance", "newest"] = "relevance"
    tz: str | None = None
    after: str | None = None
    limit: int = SEARCH_DEFAULT_LIMIT


#: Any client frame (what decode_client_frame returns).
ClientFrame: TypeAlias = (
    Hello | Channels | Browse | ChannelCreate | ChannelJoin | ChannelLeave | ChannelInvite
    | Members | Send | History | Around | Read | Typing | PresenceSet | Ping | Search
    | Edit | Delete | Versions | DmOpen | Users | ChannelNotify
)

#: op → dataclass, for the client frames.
CLIENT_FRAME_TYPES: Final[Mapping[str, type[ClientFrame]]] = {
    cls.op: cls
    for cls in (Hello, Channels, Browse, ChannelCreate, ChannelJoin, ChannelLeave, ChannelInvite,
                Members, Send, History, Around, Read, Typing, PresenceSet, Ping, Search,
                Edit, Delete, Versions, DmOpen, Users, ChannelNotify)
}
