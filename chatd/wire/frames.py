"""One frozen dataclass per frame type of protocol v1, and TypedDicts for the nested shapes.

Client frames (requests) are what :func:`chatd.wire.decode_client_frame` returns; every one has a
``rid``. Server frames are what :func:`chatd.wire.encode_server_frame` takes; each has a
``to_map()`` giving the CBOR map with ``"op"`` first and the other keys in the documented order
(the order protocol/vectors/ and the CDDL list them in). Field names are the map keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Final, Literal, NotRequired, TypeAlias, TypedDict

#: Page size of browse/history/around when the request has no "limit".
DEFAULT_LIMIT: Final = 50
#: Largest "limit" a request may ask for (and the smallest is 1).
MAX_LIMIT: Final = 100

# --- Shapes nested in server frames ------------------------------------------------------------


class UserInfo(TypedDict):
    """User = {id, name, display}: ``name`` is the username, ``display`` the display name."""

    id: int
    name: str
    display: str


class ChannelInfo(TypedDict):
    """Channel as its member sees it (in hello/channels replies and channel pushes)."""

    id: int
    name: str
    description: str
    private: bool
    role: Literal["owner", "member"]
    last_seq: int
    read_seq: int
    unread: int


class PublicChannelInfo(TypedDict):
    """A public channel in a browse reply."""

    id: int
    name: str
    description: str
    members: int
    joined: bool


class MemberInfo(TypedDict):
    """A member of a channel (members reply, member.joined push)."""

    id: int
    name: str
    display: str
    role: Literal["owner", "member"]
    presence: NotRequired[Literal["online", "away", "offline"]]


class MessageInfo(TypedDict):
    """A message inside history/around replies: the msg push without its op."""

    ch: int
    seq: int
    id: int
    ts: int
    user: int
    name: str
    display: str
    body: str
    cid: bytes


class Limits(TypedDict):
    """The limits the server announces in the hello reply."""

    body_bytes: int
    frame_bytes: int


# --- Client → server ---------------------------------------------------------------------------


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
    """send: post ``body`` to ``ch``; ``cid`` (16 bytes) makes retries idempotent."""

    op: ClassVar[str] = "send"
    rid: int
    ch: int
    cid: bytes
    body: str


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


#: Any client frame (what decode_client_frame returns).
ClientFrame: TypeAlias = (
    Hello | Channels | Browse | ChannelCreate | ChannelJoin | ChannelLeave | ChannelInvite
    | Members | Send | History | Around | Read | Typing | PresenceSet | Ping
)

# --- Server → client ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ok:
    """ok reply to request ``rid``; ``fields`` are the op-specific keys (may be empty)."""

    op: ClassVar[str] = "ok"
    rid: int
    fields: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if "op" in self.fields or "rid" in self.fields:
            raise ValueError("Ok.fields must not contain 'op' or 'rid'")

    def to_map(self) -> dict[str, object]:
        """The frame as a CBOR-ready map."""
        return {"op": "ok", "rid": self.rid, **self.fields}


@dataclass(frozen=True, slots=True)
class Error:
    """error reply; ``rid`` is None when the request's rid could not be read.

    ``retry`` is set (true) with ``unavailable``; ``existing`` with ``name_taken`` when the
    existing channel is public.
    """

    op: ClassVar[str] = "error"
    rid: int | None
    code: str
    message: str
    retry: bool | None = None
    existing: int | None = None

    def to_map(self) -> dict[str, object]:
        """The frame as a CBOR-ready map (absent optional fields are left out)."""
        m: dict[str, object] = {"op": "error"}
        if self.rid is not None:
            m["rid"] = self.rid
        m["code"] = self.code
        m["message"] = self.message
        if self.retry is not None:
            m["retry"] = self.retry
        if self.existing is not None:
            m["existing"] = self.existing
        return m


@dataclass(frozen=True, slots=True)
class Ack:
    """ack: the reply to send, once the message is committed."""

    op: ClassVar[str] = "ack"
    rid: int
    ch: int
    seq: int
    id: int
    ts: int

    def to_map(self) -> dict[str, object]:
        """The frame as a CBOR-ready map."""
        return {"op": "ack", "rid": self.rid, "ch": self.ch, "seq": self.seq, "id": self.id,
                "ts": self.ts}


@dataclass(frozen=True, slots=True)
class Msg:
    """msg push: a committed message (also sent to the sender's own connections)."""

    op: ClassVar[str] = "msg"
    ch: int
    seq: int
    id: int
    ts: int
    user: int
    name: str
    display: str
    body: str
    cid: bytes

    def to_map(self) -> dict[str, object]:
        """The frame as a CBOR-ready map."""
        return {"op": "msg", "ch": self.ch, "seq": self.seq, "id": self.id, "ts": self.ts,
                "user": self.user, "name": self.name, "display": self.display,
                "body": self.body, "cid": self.cid}

    def info(self) -> MessageInfo:
        """The message as it appears in history/around replies (no op)."""
        return {"ch": self.ch, "seq": self.seq, "id": self.id, "ts": self.ts, "user": self.user,
                "name": self.name, "display": self.display, "body": self.body, "cid": self.cid}


@dataclass(frozen=True, slots=True)
class CaughtUp:
    """caughtup push: the resume replay of ``ch`` is complete up to ``seq``; live follows."""

    op: ClassVar[str] = "caughtup"
    ch: int
    seq: int

    def to_map(self) -> dict[str, object]:
        """The frame as a CBOR-ready map."""
        return {"op": "caughtup", "ch": self.ch, "seq": self.seq}


@dataclass(frozen=True, slots=True)
class Resync:
    """resync push: too many messages were missed in ``ch``; reload it with history."""

    op: ClassVar[str] = "resync"
    ch: int
    seq: int

    def to_map(self) -> dict[str, object]:
        """The frame as a CBOR-ready map."""
        return {"op": "resync", "ch": self.ch, "seq": self.seq}


@dataclass(frozen=True, slots=True)
class ChannelAdded:
    """channel.added push: I joined, created or was invited to a channel (on any device)."""

    op: ClassVar[str] = "channel.added"
    channel: ChannelInfo

    def to_map(self) -> dict[str, object]:
        """The frame as a CBOR-ready map."""
        return {"op": "channel.added", "channel": self.channel}


@dataclass(frozen=True, slots=True)
class ChannelRemoved:
    """channel.removed push: I left ``ch`` (on any device)."""

    op: ClassVar[str] = "channel.removed"
    ch: int

    def to_map(self) -> dict[str, object]:
        """The frame as a CBOR-ready map."""
        return {"op": "channel.removed", "ch": self.ch}


@dataclass(frozen=True, slots=True)
class ChannelUpdated:
    """channel.updated push: a channel's name, description or privacy changed."""

    op: ClassVar[str] = "channel.updated"
    channel: ChannelInfo

    def to_map(self) -> dict[str, object]:
        """The frame as a CBOR-ready map."""
        return {"op": "channel.updated", "channel": self.channel}


@dataclass(frozen=True, slots=True)
class MemberJoined:
    """member.joined push: someone joined ``ch``."""

    op: ClassVar[str] = "member.joined"
    ch: int
    member: MemberInfo

    def to_map(self) -> dict[str, object]:
        """The frame as a CBOR-ready map."""
        return {"op": "member.joined", "ch": self.ch, "member": self.member}


@dataclass(frozen=True, slots=True)
class MemberLeft:
    """member.left push: user ``user`` left ``ch``."""

    op: ClassVar[str] = "member.left"
    ch: int
    user: int

    def to_map(self) -> dict[str, object]:
        """The frame as a CBOR-ready map."""
        return {"op": "member.left", "ch": self.ch, "user": self.user}


@dataclass(frozen=True, slots=True)
class ReadMarker:
    """read push: my read marker of ``ch`` moved (on another of my devices)."""

    op: ClassVar[str] = "read"
    ch: int
    seq: int

    def to_map(self) -> dict[str, object]:
        """The frame as a CBOR-ready map."""
        return {"op": "read", "ch": self.ch, "seq": self.seq}


@dataclass(frozen=True, slots=True)
class TypingPush:
    """typing push: ``user`` is typing in ``ch``; expire it after 5 s without a repeat."""

    op: ClassVar[str] = "typing"
    ch: int
    user: int
    display: str

    def to_map(self) -> dict[str, object]:
        """The frame as a CBOR-ready map."""
        return {"op": "typing", "ch": self.ch, "user": self.user, "display": self.display}


@dataclass(frozen=True, slots=True)
class PresencePush:
    """presence push: ``user`` (who shares a channel with me) changed state."""

    op: ClassVar[str] = "presence"
    user: int
    state: Literal["online", "away", "offline"]

    def to_map(self) -> dict[str, object]:
        """The frame as a CBOR-ready map."""
        return {"op": "presence", "user": self.user, "state": self.state}


@dataclass(frozen=True, slots=True)
class SessionExpired:
    """session.expired push: the session ended; the server closes with 4001 right after."""

    op: ClassVar[str] = "session.expired"
    reason: str

    def to_map(self) -> dict[str, object]:
        """The frame as a CBOR-ready map."""
        return {"op": "session.expired", "reason": self.reason}


#: Any server frame (what encode_server_frame takes).
ServerFrame: TypeAlias = (
    Ok | Error | Ack | Msg | CaughtUp | Resync | ChannelAdded | ChannelRemoved | ChannelUpdated
    | MemberJoined | MemberLeft | ReadMarker | TypingPush | PresencePush | SessionExpired
)

#: op → dataclass, for the server frames.
SERVER_FRAME_TYPES: Final[Mapping[str, type[ServerFrame]]] = {
    cls.op: cls
    for cls in (Ok, Error, Ack, Msg, CaughtUp, Resync, ChannelAdded, ChannelRemoved,
                ChannelUpdated, MemberJoined, MemberLeft, ReadMarker, TypingPush, PresencePush,
                SessionExpired)
}

#: op → dataclass, for the client frames.
CLIENT_FRAME_TYPES: Final[Mapping[str, type[ClientFrame]]] = {
    cls.op: cls
    for cls in (Hello, Channels, Browse, ChannelCreate, ChannelJoin, ChannelLeave, ChannelInvite,
                Members, Send, History, Around, Read, Typing, PresenceSet, Ping)
}
