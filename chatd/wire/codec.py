"""The wire codec of protocol v1: bytes ↔ frame dataclasses. Pure: no I/O, no event loop.

Decoding a client frame goes: size limit (before reading a byte), strict CBOR
(:func:`chatd.wire.cbor.decode_item`), then the op's schema. Every refusal is a
:class:`ProtocolError` with a stable code; :class:`FrameTooLarge` (code ``too_large``,
``close_code`` 1009) for an oversized frame. Catch ``FrameTooLarge`` before ``ProtocolError``.

Encoding a server frame is one dict build plus cbor2's C encoder; a ``msg`` push is encoded
once and the bytes fanned out to every subscriber.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from chatd.wire import cbor
from chatd.wire.cbor import CBORValue, encode_map
from chatd.wire.client_frames import (
    SEARCH_DEFAULT_LIMIT,
    SEARCH_ORDERS,
    Around,
    Browse,
    ChannelCreate,
    ChannelInvite,
    ChannelJoin,
    ChannelLeave,
    Channels,
    ClientFrame,
    Hello,
    History,
    Members,
    Ping,
    PresenceSet,
    Read,
    Search,
    Send,
    Typing,
)
from chatd.wire.conversations import CONVERSATION_PARSERS, mention_fields
from chatd.wire.errors import (
    CLOSE_PROTOCOL_ERROR,
    TOO_LARGE,
    UNKNOWN_OP,
    UNSUPPORTED_VERSION,
    FrameTooLarge,
    ProtocolError,
    clip,
)
from chatd.wire.fields import (
    MAX_SAFE_INT,
    allowed_keys,
    bad,
    check_keys,
    describe,
    field_body,
    field_bool,
    field_limit,
    field_text,
    field_uint,
)
from chatd.wire.fields import (
    WHITE_SPACE as WHITE_SPACE,  # re-exported: chatd.wire.WHITE_SPACE
)
from chatd.wire.server_frames import ServerFrame

#: The protocol version this codec speaks (hello.v).
PROTOCOL_VERSION: Final = 1
#: The optional capabilities this server has beyond the v1 core, announced in the hello reply
#: (PROTOCOL.md §13): each names the ops and request fields a client may use with this server.
FEATURES: Final[tuple[str, ...]] = ("dms", "edits", "files", "mentions", "notify", "profile", "search")
#: Largest client frame, in bytes. Larger frames are refused unread (close 1009).
MAX_FRAME_BYTES: Final = 64 * 1024
#: Default largest message body, in UTF-8 bytes (the server may configure another value and
#: announces it in the hello reply).
MAX_BODY_BYTES: Final = 16 * 1024
#: Largest channel description, in UTF-8 bytes.
MAX_DESCRIPTION_BYTES: Final = 1024
#: Largest server frame a client must accept: a history page of 100 messages of the largest
#: body (100 × ~16.2 KiB) plus headroom; a v1 server stays below it.
MAX_SERVER_FRAME_BYTES: Final = 4 * 1024 * 1024
#: Length of a send's client id (random bytes chosen by the client).
CID_BYTES: Final = 16
#: Most files one message may carry (feature "files"), and the longest file id.
MAX_FILES_PER_MESSAGE: Final = 10
MAX_FILE_ID_CHARS: Final = 64
_FILE_ID_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


# --- One parser per op -------------------------------------------------------------------------

_HELLO_KEYS = allowed_keys("v", "token", "resume")


def _parse_hello(m: dict[str, CBORValue], rid: int, _max_body: int) -> Hello:
    check_keys(m, "hello", rid, ("v",), _HELLO_KEYS)
    v = m["v"]
    if type(v) is not int or v < 0:
        raise bad(f"hello.v must be an unsigned integer, not {describe(v)}", rid)
    if v != PROTOCOL_VERSION:
        raise ProtocolError(
            UNSUPPORTED_VERSION,
            f"protocol version {v} is not supported; this server speaks {PROTOCOL_VERSION}",
            rid,
            close_code=CLOSE_PROTOCOL_ERROR,
        )
    token = field_text(m, "token", "hello", rid) if "token" in m else None
    resume: tuple[tuple[int, int], ...] = ()
    if "resume" in m:
        entries = m["resume"]
        if type(entries) is not list:
            raise bad(f"hello.resume must be an array, not {describe(entries)}", rid)
        pairs: list[tuple[int, int]] = []
        seen: set[int] = set()
        for entry in entries:
            if (
                type(entry) is not list
                or len(entry) != 2
                or not all(type(x) is int and 0 <= x <= MAX_SAFE_INT for x in entry)
            ):
                raise bad("hello.resume entries must be [ch, seq] pairs of unsigned integers", rid)
            ch, seq = entry
            assert type(ch) is int and type(seq) is int
            if ch in seen:
                raise bad(f"hello.resume lists channel {ch} twice", rid)
            seen.add(ch)
            pairs.append((ch, seq))
        resume = tuple(pairs)
    return Hello(rid=rid, v=v, token=token, resume=resume)


def _rid_only(op: str, cls: type[Channels | Ping]) -> Callable[
    [dict[str, CBORValue], int, int], ClientFrame
]:
    keys = allowed_keys()

    def parse(m: dict[str, CBORValue], rid: int, _max_body: int) -> ClientFrame:
        check_keys(m, op, rid, (), keys)
        return cls(rid=rid)

    return parse


_BROWSE_KEYS = allowed_keys("q", "after", "limit")


def _parse_browse(m: dict[str, CBORValue], rid: int, _max_body: int) -> Browse:
    check_keys(m, "browse", rid, (), _BROWSE_KEYS)
    q = field_text(m, "q", "browse", rid) if "q" in m else None
    after = field_text(m, "after", "browse", rid) if "after" in m else None
    if "limit" in m:
        return Browse(rid=rid, q=q, after=after, limit=field_limit(m, "browse", rid))
    return Browse(rid=rid, q=q, after=after)


_CREATE_KEYS = allowed_keys("name", "description", "private")


def _parse_channel_create(m: dict[str, CBORValue], rid: int, _max_body: int) -> ChannelCreate:
    op = "channel.create"
    check_keys(m, op, rid, ("name",), _CREATE_KEYS)
    name = field_text(m, "name", op, rid)
    description = field_text(m, "description", op, rid) if "description" in m else ""
    if len(description) > MAX_DESCRIPTION_BYTES // 4 and (
        len(description.encode("utf-8")) > MAX_DESCRIPTION_BYTES
    ):
        raise ProtocolError(
            TOO_LARGE, f"description is longer than {MAX_DESCRIPTION_BYTES} UTF-8 bytes", rid
        )
    private = field_bool(m, "private", op, rid) if "private" in m else False
    return ChannelCreate(rid=rid, name=name, description=description, private=private)


def _ch_only(op: str, cls: type[ChannelJoin | ChannelLeave | Members | Typing]) -> Callable[
    [dict[str, CBORValue], int, int], ClientFrame
]:
    keys = allowed_keys("ch")

    def parse(m: dict[str, CBORValue], rid: int, _max_body: int) -> ClientFrame:
        check_keys(m, op, rid, ("ch",), keys)
        return cls(rid=rid, ch=field_uint(m, "ch", op, rid))

    return parse


_INVITE_KEYS = allowed_keys("ch", "user")


def _parse_channel_invite(m: dict[str, CBORValue], rid: int, _max_body: int) -> ChannelInvite:
    op = "channel.invite"
    check_keys(m, op, rid, ("ch", "user"), _INVITE_KEYS)
    return ChannelInvite(rid=rid, ch=field_uint(m, "ch", op, rid), user=field_text(m, "user", op, rid))


_SEND_KEYS = allowed_keys("ch", "cid", "body", "files", "mentions", "all")


def _file_ids(m: dict[str, CBORValue], rid: int) -> tuple[str, ...]:
    """send.files: 1 to MAX_FILES_PER_MESSAGE distinct file ids (URL-safe base64 characters)."""
    value = m["files"]
    if type(value) is not list or not 1 <= len(value) <= MAX_FILES_PER_MESSAGE:
        got = f"{len(value)} items" if type(value) is list else describe(value)
        raise bad(f"send.files must be an array of 1 to {MAX_FILES_PER_MESSAGE} file ids, not {got}", rid)
    ids: list[str] = []
    for item in value:
        if (type(item) is not str or not 1 <= len(item) <= MAX_FILE_ID_CHARS
                or not _FILE_ID_CHARS.issuperset(item)):
            raise bad("send.files items must be file ids (1 to 64 of A-Z a-z 0-9 - _)", rid)
        if item in ids:
            raise bad(f"send.files lists {item!r} twice", rid)
        ids.append(item)
    return tuple(ids)


def _parse_send(m: dict[str, CBORValue], rid: int, max_body: int) -> Send:
    check_keys(m, "send", rid, ("ch", "cid", "body"), _SEND_KEYS)
    ch = field_uint(m, "ch", "send", rid)
    cid = m["cid"]
    if type(cid) is not bytes or len(cid) != CID_BYTES:
        got = f"{len(cid)} bytes" if type(cid) is bytes else describe(cid)
        raise bad(f"send.cid must be a byte string of {CID_BYTES} bytes, not {got}", rid)
    files = _file_ids(m, rid) if "files" in m else ()
    body = field_body(m, "send", rid, max_body, may_be_blank=bool(files))  # files alone: no text needed
    mentions, everyone = mention_fields(m, "send", rid)
    return Send(rid=rid, ch=ch, cid=cid, body=body, files=files, mentions=mentions, all=everyone)


_HISTORY_KEYS = allowed_keys("ch", "before", "after", "limit")


def _parse_history(m: dict[str, CBORValue], rid: int, _max_body: int) -> History:
    check_keys(m, "history", rid, ("ch",), _HISTORY_KEYS)
    ch = field_uint(m, "ch", "history", rid)
    before = field_uint(m, "before", "history", rid) if "before" in m else None
    after = field_uint(m, "after", "history", rid) if "after" in m else None
    if before is not None and after is not None:
        raise bad("history: 'before' and 'after' are mutually exclusive", rid)
    if "limit" in m:
        return History(rid=rid, ch=ch, before=before, after=after, limit=field_limit(m, "history", rid))
    return History(rid=rid, ch=ch, before=before, after=after)


_AROUND_KEYS = allowed_keys("ch", "seq", "limit")


def _parse_around(m: dict[str, CBORValue], rid: int, _max_body: int) -> Around:
    check_keys(m, "around", rid, ("ch", "seq"), _AROUND_KEYS)
    ch = field_uint(m, "ch", "around", rid)
    seq = field_uint(m, "seq", "around", rid)
    if "limit" in m:
        return Around(rid=rid, ch=ch, seq=seq, limit=field_limit(m, "around", rid))
    return Around(rid=rid, ch=ch, seq=seq)


_READ_KEYS = allowed_keys("ch", "seq")


def _parse_read(m: dict[str, CBORValue], rid: int, _max_body: int) -> Read:
    check_keys(m, "read", rid, ("ch", "seq"), _READ_KEYS)
    return Read(rid=rid, ch=field_uint(m, "ch", "read", rid), seq=field_uint(m, "seq", "read", rid))


_PRESENCE_KEYS = allowed_keys("state")


def _parse_presence_set(m: dict[str, CBORValue], rid: int, _max_body: int) -> PresenceSet:
    check_keys(m, "presence.set", rid, ("state",), _PRESENCE_KEYS)
    state = m["state"]
    if state == "active" and type(state) is str:
        return PresenceSet(rid=rid, state="active")
    if state == "away" and type(state) is str:
        return PresenceSet(rid=rid, state="away")
    raise bad('presence.set.state must be "active" or "away"', rid)


_SEARCH_KEYS = allowed_keys("q", "order", "tz", "after", "limit")


def _parse_search(m: dict[str, CBORValue], rid: int, _max_body: int) -> Search:
    check_keys(m, "search", rid, ("q",), _SEARCH_KEYS)
    q = field_text(m, "q", "search", rid)
    order = m.get("order", "relevance")
    if type(order) is not str or order not in SEARCH_ORDERS:
        raise bad('search.order must be "relevance" or "newest"', rid)
    tz = field_text(m, "tz", "search", rid) if "tz" in m else None
    after = field_text(m, "after", "search", rid) if "after" in m else None
    limit = field_limit(m, "search", rid) if "limit" in m else SEARCH_DEFAULT_LIMIT
    return Search(rid=rid, q=q, order="newest" if order == "newest" else "relevance", tz=tz, after=after,
                  limit=limit)


_PARSERS: Final[Mapping[str, Callable[[dict[str, CBORValue], int, int], ClientFrame]]] = {
    "hello": _parse_hello,
    "channels": _rid_only("channels", Channels),
    "browse": _parse_browse,
    "channel.create": _parse_channel_create,
    "channel.join": _ch_only("channel.join", ChannelJoin),
    "channel.leave": _ch_only("channel.leave", ChannelLeave),
    "channel.invite": _parse_channel_invite,
    "members": _ch_only("members", Members),
    "send": _parse_send,
    "history": _parse_history,
    "around": _parse_around,
    "read": _parse_read,
    "typing": _ch_only("typing", Typing),
    "presence.set": _parse_presence_set,
    "ping": _rid_only("ping", Ping),
    "search": _parse_search,
    **CONVERSATION_PARSERS,
}


# --- Public API --------------------------------------------------------------------------------


def decode_client_frame(
    data: bytes, max_bytes: int = MAX_FRAME_BYTES, *, max_body_bytes: int = MAX_BODY_BYTES
) -> ClientFrame:
    """Decode and validate one client frame (the payload of one binary WebSocket message).

    Pure and non-blocking. The size check comes first: a frame longer than ``max_bytes`` raises
    :class:`FrameTooLarge` without being read. Otherwise raises :class:`ProtocolError` with a
    stable code (``bad_frame``, ``unknown_op``, ``unsupported_version``, ``bad_limit``,
    ``too_large``, ``empty_body``) and, when the frame was a map with a valid rid, that rid.
    ``max_body_bytes`` is the server's configured body limit (send.body, in UTF-8 bytes).
    """
    if len(data) > max_bytes:
        raise FrameTooLarge(len(data), max_bytes)
    m = cbor.decode_item(data)  # looked up at call time: tests check it is never reached
    if type(m) is not dict:
        raise bad(f"a frame must be a map, not {describe(m)}", None)
    rid = m.get("rid")
    if not (type(rid) is int and 0 <= rid <= MAX_SAFE_INT):
        rid = None
    op = m.get("op")
    if type(op) is not str:
        raise bad("frame has no text 'op' field", rid)
    parse = _PARSERS.get(op)
    if parse is None:
        raise ProtocolError(UNKNOWN_OP, f"unknown op {clip(op)!r}", rid)
    if rid is None:
        if "rid" in m:
            raise bad(f"rid must be an unsigned integer below 2^53, not {describe(m['rid'])}",
                       None)
        raise bad(f"{op}: missing field 'rid'", None)
    return parse(m, rid, max_body_bytes)


def encode_server_frame(frame: ServerFrame) -> bytes:
    """Encode one server frame to the bytes of one binary WebSocket message.

    Pure; about 2 µs for a typical msg push. Fields hold only the protocol's types (the dataclass
    annotations and the TypedDict shapes); nothing is re-validated here, this is the hot path.
    """
    return encode_map(frame.to_map())


def encode_client_frame(frame: Mapping[str, object]) -> bytes:
    """Encode a client frame given as a map (for test clients and the bench). Not validated,
    so tests can build invalid frames with it too."""
    return encode_map(frame)


def decode_server_message(data: bytes, max_bytes: int = MAX_SERVER_FRAME_BYTES
                          ) -> list[dict[str, CBORValue]]:
    """Decode one server WebSocket message: a CBOR sequence of one or more frames (§1).

    For tests and Python clients; each frame is checked like :func:`decode_server_frame`.
    """
    if len(data) > max_bytes:
        raise FrameTooLarge(len(data), max_bytes)
    return [_server_frame(m) for m in cbor.decode_sequence(data)]


def decode_server_frame(data: bytes, max_bytes: int = MAX_SERVER_FRAME_BYTES
                        ) -> dict[str, CBORValue]:
    """Decode one server frame to a map, with the same strictness as the server's decoder.

    For tests and Python clients. Checks the size, the CBOR, that the frame is a map and that it
    has a text "op"; the rest (unknown ops and fields included) is the caller's to interpret.
    Raises :class:`ProtocolError` (``bad_frame``), or :class:`FrameTooLarge`.
    """
    if len(data) > max_bytes:
        raise FrameTooLarge(len(data), max_bytes)
    return _server_frame(cbor.decode_item(data))


def _server_frame(m: CBORValue) -> dict[str, CBORValue]:
    if type(m) is not dict:
        raise bad(f"a frame must be a map, not {describe(m)}", None)
    if type(m.get("op")) is not str:
        raise bad("frame has no text 'op' field", None)
    return m
