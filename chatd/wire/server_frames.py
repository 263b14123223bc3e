"""One frozen dataclass per server frame (reply or push) of protocol v1, and their maps.

They are what :func:`chatd.wire.encode_server_frame` takes. Each has a ``to_map()`` giving the
CBOR map: ``"op"`` first, then the fields in declaration order, which is the documented order
(the order protocol/vectors/ and the CDDL list them in). Field names are the map keys. A field
declared optional (``X | None``) is left out while it is None; a field marked ``FLATTEN``
(``Ok.fields``) has its keys merged in. A new frame declares its fields and nothing else.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, Literal, TypeAlias, cast

from chatd.wire.shapes import ChannelInfo, FileInfo, MemberInfo, MessageInfo, UserInfo

#: Field metadata key: the field is a map whose keys are merged into the frame's map.
FLATTEN: Final = "chatd.wire.flatten"

_MapFn: TypeAlias = Callable[[Any], dict[str, object]]


class _ServerFrame:
    """What every server frame class has: its op, and ``to_map()``, which returns the frame as a
    CBOR-ready map (a new dict; see the module docstring for its keys)."""

    __slots__ = ()
    op: ClassVar[str]
    # Set on each class, once, by _compile_to_map below (a method: frame.to_map()).
    to_map: ClassVar[_MapFn]


@dataclass(frozen=True, slots=True)
class Ok(_ServerFrame):
    """ok reply to request ``rid``; ``fields`` are the op-specific keys (may be empty).

    ``fields`` is flattened into the frame's map, after ``rid``.
    """

    op: ClassVar[str] = "ok"
    rid: int
    fields: Mapping[str, object] = field(default_factory=dict, metadata={FLATTEN: True})

    def __post_init__(self) -> None:
        if "op" in self.fields or "rid" in self.fields:
            raise ValueError("Ok.fields must not contain 'op' or 'rid'")


@dataclass(frozen=True, slots=True)
class Error(_ServerFrame):
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


@dataclass(frozen=True, slots=True)
class Ack(_ServerFrame):
    """ack: the reply to send, once the message is committed."""

    op: ClassVar[str] = "ack"
    rid: int
    ch: int
    seq: int
    id: int
    ts: int


@dataclass(frozen=True, slots=True)
class Msg(_ServerFrame):
    """msg push: a committed message (also sent to the sender's own connections), as it is now:
    ``body`` is None for a tombstone (``deleted``); ``v`` its version (feature "edits")."""

    op: ClassVar[str] = "msg"
    ch: int
    seq: int
    id: int
    ts: int
    user: int
    name: str
    display: str
    body: str | None
    cid: bytes
    files: list[FileInfo] | None = None
    v: int = 1
    edited: int | None = None
    deleted: bool | None = None
    mentions: list[int] | None = None
    all: bool | None = None

    def info(self) -> MessageInfo:
        """The message as it appears in history/around replies and ``msg.changed`` (no op)."""
        m = self.to_map()
        del m["op"]
        return cast(MessageInfo, m)


@dataclass(frozen=True, slots=True)
class MsgChanged(_ServerFrame):
    """msg.changed push (feature "edits"): an edit or delete took stream position ``seq``;
    ``message`` is the message as it is now."""

    op: ClassVar[str] = "msg.changed"
    ch: int
    seq: int
    message: MessageInfo


@dataclass(frozen=True, slots=True)
class Counts(_ServerFrame):
    """counts push (feature "mentions"), to one user: an edit or delete at ``seq`` moved their
    counts of ``ch``, which are as of ``seq``; ``mention``: a message that newly mentions them."""

    op: ClassVar[str] = "counts"
    ch: int
    seq: int
    unread: int
    mentions: int
    mention: int | None = None


@dataclass(frozen=True, slots=True)
class CaughtUp(_ServerFrame):
    """caughtup push: the resume replay of ``ch`` is complete up to ``seq``; live follows."""

    op: ClassVar[str] = "caughtup"
    ch: int
    seq: int


@dataclass(frozen=True, slots=True)
class Resync(_ServerFrame):
    """resync push: too many messages were missed in ``ch``; reload it with history."""

    op: ClassVar[str] = "resync"
    ch: int
    seq: int


@dataclass(frozen=True, slots=True)
class ChannelAdded(_ServerFrame):
    """channel.added push: I joined, created or was invited to a channel (on any device)."""

    op: ClassVar[str] = "channel.added"
    channel: ChannelInfo


@dataclass(frozen=True, slots=True)
class ChannelRemoved(_ServerFrame):
    """channel.removed push: I left ``ch`` (on any device)."""

    op: ClassVar[str] = "channel.removed"
    ch: int


@dataclass(frozen=True, slots=True)
class MemberJoined(_ServerFrame):
    """member.joined push: someone joined ``ch``."""

    op: ClassVar[str] = "member.joined"
    ch: int
    member: MemberInfo


@dataclass(frozen=True, slots=True)
class MemberLeft(_ServerFrame):
    """member.left push: user ``user`` left ``ch``."""

    op: ClassVar[str] = "member.left"
    ch: int
    user: int


@dataclass(frozen=True, slots=True)
class ReadMarker(_ServerFrame):
    """read push: my read marker of ``ch`` moved (on another of my devices); with feature
    "mentions" my counts, as of ``last_seq``."""

    op: ClassVar[str] = "read"
    ch: int
    seq: int
    unread: int | None = None
    mentions: int | None = None
    last_seq: int | None = None


@dataclass(frozen=True, slots=True)
class ChannelUpdated(_ServerFrame):
    """channel.updated push (feature "notify"): my settings of a channel changed."""

    op: ClassVar[str] = "channel.updated"
    channel: ChannelInfo


@dataclass(frozen=True, slots=True)
class UserUpdated(_ServerFrame):
    """user.updated push (feature "profile"): someone I share a channel with renamed themselves."""

    op: ClassVar[str] = "user.updated"
    user: UserInfo


@dataclass(frozen=True, slots=True)
class TypingPush(_ServerFrame):
    """typing push: ``user`` is typing in ``ch``; expire it after 5 s without a repeat."""

    op: ClassVar[str] = "typing"
    ch: int
    user: int
    display: str


@dataclass(frozen=True, slots=True)
class PresencePush(_ServerFrame):
    """presence push: ``user`` (who shares a channel with me) changed state."""

    op: ClassVar[str] = "presence"
    user: int
    state: Literal["online", "away", "offline"]


@dataclass(frozen=True, slots=True)
class StoragePush(_ServerFrame):
    """storage push (feature "files", admins only): the file store's space became low (uploads
    may be refused) or is fine again."""

    op: ClassVar[str] = "storage"
    state: Literal["low", "ok"]
    free_bytes: int
    reserve_bytes: int


@dataclass(frozen=True, slots=True)
class SessionExpired(_ServerFrame):
    """session.expired push: the session ended; the server closes with 4001 right after."""

    op: ClassVar[str] = "session.expired"
    reason: str


#: Any server frame (what encode_server_frame takes).
ServerFrame: TypeAlias = (
    Ok | Error | Ack | Msg | MsgChanged | Counts | CaughtUp | Resync | ChannelAdded | ChannelRemoved
    | ChannelUpdated | MemberJoined | MemberLeft | ReadMarker | TypingPush | PresencePush | StoragePush
    | SessionExpired | UserUpdated
)


def _compile_to_map(cls: type[ServerFrame]) -> _MapFn:
    """Build the map function of ``cls`` from its fields (as dataclasses builds ``__init__``).

    For Msg it is ``lambda f: {"op": "msg", "ch": f.ch, …, "cid": f.cid}``. Generated once
    rather than a loop over a tuple of field names at each call: this is the hot path (every
    message's push), and such a loop took encode_server_frame(Msg) from 1.27 to 1.57 µs.
    """
    hints = typing.get_type_hints(cls)
    items = [f"'op': {cls.op!r}"]  # the leading dict display, while no field is optional
    stmts: list[str] = []  # the statements after it, from the first optional field on
    for f in dataclasses.fields(cls):
        name = f.name
        assert name.isidentifier() and name != "op", name
        if type(None) in typing.get_args(hints[name]):
            stmts.append(f"if f.{name} is not None: m[{name!r}] = f.{name}")
        elif stmts:
            stmts.append(f"m.update(f.{name})" if f.metadata.get(FLATTEN) else f"m[{name!r}] = f.{name}")
        else:
            items.append(f"**f.{name}" if f.metadata.get(FLATTEN) else f"{name!r}: f.{name}")
    source = "\n    ".join([f"def to_map(f):\n    m = {{{', '.join(items)}}}", *stmts, "return m"])
    namespace: dict[str, Any] = {}
    exec(source, namespace)  # safe: the source holds only our own fields' identifiers
    fn: _MapFn = namespace["to_map"]
    fn.__qualname__ = f"{cls.__name__}.to_map"
    fn.__doc__ = "The frame as a CBOR-ready map (a new dict; see chatd.wire.server_frames)."
    return fn


#: op → dataclass, for the server frames.
SERVER_FRAME_TYPES: Final[Mapping[str, type[ServerFrame]]] = {
    cls.op: cls
    for cls in (Ok, Error, Ack, Msg, MsgChanged, Counts, CaughtUp, Resync, ChannelAdded, ChannelRemoved,
                ChannelUpdated, MemberJoined, MemberLeft, ReadMarker, TypingPush, PresencePush, StoragePush,
                SessionExpired, UserUpdated)
}
for _cls in SERVER_FRAME_TYPES.values():
    _cls.to_map = _compile_to_map(_cls)
