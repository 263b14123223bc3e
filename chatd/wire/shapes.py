"""The maps nested in server frames (TypedDicts): users, channels, members, messages, limits.

Their keys are listed in the documented order (protocol/PROTOCOL.md §4, protocol/chatd.cddl).
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict


class UserInfo(TypedDict):
    """User = {id, name, display}: ``name`` is the username, ``display`` the display name."""

    id: int
    name: str
    display: str


class ChannelInfo(TypedDict):
    """Channel as its member sees it (in hello/channels replies and channel pushes). ``unread`` and
    ``mentions`` are as of ``last_seq`` (PROTOCOL.md §10.3); ``dm`` (the other people) marks a
    direct message conversation."""

    id: int
    name: str
    description: str
    private: bool
    role: Literal["owner", "member"]
    last_seq: int
    read_seq: int
    unread: int
    mentions: int
    notify: Literal["all", "mentions", "nothing"]
    muted: bool
    dm: NotRequired[list[UserInfo]]


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


class FileInfo(TypedDict):
    """A file a message carries (feature "files"): ``id`` names it in ``/files/<id>``; ``type``
    is what its bytes are (sniffed); ``kind`` "image" has a thumbnail and ``w``×``h``, its
    displayed size; "video"/"audio" play in browsers; "file" downloads."""

    id: str
    name: str
    size: int
    type: str
    kind: Literal["image", "video", "audio", "file"]
    w: NotRequired[int]
    h: NotRequired[int]


class MessageRef(TypedDict):
    """Where a message is and who wrote it: the first keys of a Message and of a SearchHit."""

    ch: int
    seq: int
    id: int
    ts: int
    user: int
    name: str
    display: str


class MessageInfo(MessageRef):
    """A message as it is now (history/around replies, ``msg.changed``): the msg push without its
    op. A tombstone (``deleted``) has no body, files or mentions."""

    body: NotRequired[str]
    cid: bytes
    files: NotRequired[list[FileInfo]]
    v: int
    edited: NotRequired[int]
    deleted: NotRequired[bool]
    mentions: NotRequired[list[int]]
    all: NotRequired[bool]


class VersionInfo(TypedDict):
    """A previous version of an edited message (``versions`` reply): written at ``ts``."""

    v: int
    body: str
    ts: int
    mentions: NotRequired[list[int]]
    all: NotRequired[bool]


class Limits(TypedDict):
    """The limits the server announces in the hello reply."""

    body_bytes: int
    frame_bytes: int
    file_bytes: NotRequired[int]
    edit_secs: NotRequired[int]
    away_secs: NotRequired[int]


class SearchHitInfo(MessageRef):
    """A search result: where the message is, who wrote it, and a snippet of it with the
    matches as [start, length] pairs in code points of the snippet."""

    snippet: str
    hl: list[list[int]]


class SuggestionInfo(TypedDict):
    """Another query worth a click when a search found nothing: ``kind`` says why
    (``spelling``, ``without``, ``all_channels``, ``any_date``); ``removed`` is the part of the
    query left out (``without``); ``count`` its matches, up to 1000 (``capped``: more)."""

    kind: Literal["spelling", "without", "all_channels", "any_date"]
    q: str
    count: int
    capped: bool
    removed: NotRequired[str]
