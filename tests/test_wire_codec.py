"""The wire codec: strict CBOR, client frame validation, server frame encoding. No event loop."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatd import wire
from chatd.wire import (
    BAD_FRAME,
    BAD_LIMIT,
    CID_BYTES,
    CLIENT_FRAME_TYPES,
    DEFAULT_LIMIT,
    EMPTY_BODY,
    ERROR_CODES,
    MAX_BODY_BYTES,
    MAX_DEPTH,
    MAX_FRAME_BYTES,
    MAX_SAFE_INT,
    SERVER_FRAME_TYPES,
    TOO_LARGE,
    UNKNOWN_OP,
    UNSUPPORTED_VERSION,
    Ack,
    Around,
    Browse,
    CaughtUp,
    ChannelAdded,
    ChannelCreate,
    ChannelInfo,
    ChannelInvite,
    ChannelJoin,
    ChannelLeave,
    ChannelNotify,
    ChannelRemoved,
    Channels,
    ClientFrame,
    Delete,
    DmOpen,
    Edit,
    Error,
    FileInfo,
    FrameTooLarge,
    Hello,
    History,
    MemberInfo,
    MemberJoined,
    MemberLeft,
    Members,
    Msg,
    Ok,
    Ping,
    PresencePush,
    PresenceSet,
    ProtocolError,
    Read,
    ReadMarker,
    Resync,
    Send,
    ServerFrame,
    SessionExpired,
    StoragePush,
    Typing,
    TypingPush,
    Users,
    Versions,
    decode_client_frame,
    decode_item,
    decode_server_frame,
    encode_client_frame,
    encode_item,
    encode_map,
    encode_server_frame,
)
from chatd.wire import cbor as wire_cbor

VECTORS_DIR = Path(__file__).resolve().parent.parent / "protocol" / "cbor-test-vectors"
APPENDIX_A: list[dict[str, Any]] = json.loads((VECTORS_DIR / "appendix_a.json").read_text())
FAIL: list[dict[str, Any]] = json.loads((VECTORS_DIR / "fail.json").read_text())
CID = bytes(range(16))


def same(a: object, b: object) -> bool:
    """Equality that tells bool from int, 0.0 from -0.0, and NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        assert isinstance(b, float)
        if math.isnan(a):
            return math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, list):
        assert isinstance(b, list)
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


def refused(data: bytes, **kwargs: Any) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        decode_client_frame(data, **kwargs)
    return info.value


# --- RFC 8949 Appendix A ------------------------------------------------------------------------

# Items of Appendix A outside the allowed subset, and the words the refusal must contain.
REFUSED_APPENDIX_A = {
    "1bffffffffffffffff": "int64",  # 2^64 - 1
    "3bffffffffffffffff": "int64",  # -2^64
    "c249010000000000000000": "tag 2",
    "c349010000000000000000": "tag 3",
    "f7": "undefined",
    "f0": "simple value 16",
    "f820": "simple value 32",
    "f8ff": "simple value 255",
    "c074323031332d30332d32315432303a30343a30305a": "tag 0",
    "c11a514b67b0": "tag 1",
    "c1fb41d452d9ec200000": "tag 1",
    "d74401020304": "tag 23",
    "d818456449455446": "tag 24",
    "d82076687474703a2f2f7777772e6578616d706c652e636f6d": "tag 32",
    "a201020304": "only text keys",
    "5f42010243030405ff": "indefinite-length byte string",
    "7f657374726561646d696e67ff": "indefinite-length text string",
    "9fff": "indefinite-length array",
    "9f018202039f0405ffff": "indefinite-length array",
    "9f01820203820405ff": "indefinite-length array",
    "83018202039f0405ff": "indefinite-length array",
    "83019f0203ff820405": "indefinite-length array",
    "9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff": "indefinite-length array",
    "bf61610161629f0203ffff": "indefinite-length map",
    "826161bf61626163ff": "indefinite-length map",
    "bf6346756ef563416d7421ff": "indefinite-length map",
}


def _expected(entry: dict[str, Any]) -> object:
    if "decoded" in entry:
        return entry["decoded"]
    d = entry["diagnostic"]
    specials = {"Infinity": math.inf, "-Infinity": -math.inf, "NaN": math.nan}
    if d in specials:
        return specials[d]
    assert d.startswith("h'") and d.endswith("'"), d
    return bytes.fromhex(d[2:-1])


def test_refusal_table_matches_appendix_a() -> None:
    assert set(REFUSED_APPENDIX_A) <= {e["hex"] for e in APPENDIX_A}


@pytest.mark.parametrize(
    "entry", [e for e in APPENDIX_A if e["hex"] not in REFUSED_APPENDIX_A], ids=lambda e: e["hex"]
)
def test_appendix_a_allowed_item_decodes(entry: dict[str, Any]) -> None:
    value = decode_item(bytes.fromhex(entry["hex"]))
    expected = _expected(entry)
    if isinstance(expected, int | float) and not isinstance(expected, bool):
        # JSON cannot tell 1.0 from 1: the first byte can (major type 7 is a float).
        if entry["hex"][0] in "fF":
            expected = float(expected)
    assert same(value, expected), (value, expected)


@pytest.mark.parametrize("hex_", sorted(REFUSED_APPENDIX_A))
def test_appendix_a_disallowed_item_is_refused_with_a_clear_error(hex_: str) -> None:
    with pytest.raises(ProtocolError) as info:
        decode_item(bytes.fromhex(hex_))
    assert info.value.code == BAD_FRAME
    assert REFUSED_APPENDIX_A[hex_] in info.value.message


def test_every_fail_json_item_is_refused() -> None:
    assert len(FAIL) == 679
    for entry in FAIL:
        data = bytes.fromhex(entry["hex"])
        try:
            value = decode_item(data)
        except ProtocolError as exc:
            assert exc.code == BAD_FRAME
            assert exc.message.startswith("invalid CBOR at byte ")
        else:
            pytest.fail(f"{entry['hex']} decoded to {value!r}")


# --- Strict decoding, item by item -----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"\x01\x02", "1 trailing byte"),
        (b"\xa1\x61a\x01\xa1\x61a\x01", "trailing"),
        (b"\x1a\x00\x01", "truncated"),
        (b"\x62a", "truncated"),
        (b"\x83\x01", "truncated"),
        (b"\xa2\x61a\x01\x61a\x02", "duplicate map key 'a'"),
        (b"\xa1\x41a\x01", "only text keys"),
        (b"\xa1\xf6\x01", "only text keys"),
        (b"\xa1\x7f\x61a\xff\x01", "indefinite-length text string"),
        (b"\x62\xc3\x28", "UTF-8"),
        (b"\x63\xed\xa0\x80", "UTF-8"),  # a UTF-16 surrogate, encoded as if UTF-8
        (b"\x62\xc0\x80", "UTF-8"),  # overlong NUL
        (b"\xf8\x10", "two bytes is malformed"),
        (b"\xff", "break"),
        (b"\x1c", "reserved"),
        (b"\xd9\xd9\xf7\x01", "tag 55799"),
        (b"\x9b" + b"\xff" * 8, "truncated"),  # a 2^64-item array in 9 bytes: no allocation
        (b"\xbb" + b"\x7f" + b"\xff" * 7, "truncated"),
        (b"\x5b" + b"\x00\x00\x00\x01\x00\x00\x00\x00", "truncated"),
    ],
)
def test_decode_item_refuses(data: bytes, words: str) -> None:
    with pytest.raises(ProtocolError) as info:
        decode_item(data)
    assert info.value.code == BAD_FRAME
    assert words in info.value.message
    assert info.value.rid is None


def test_int64_bounds() -> None:
    assert decode_item(cbor2.dumps(2**63 - 1)) == 2**63 - 1
    assert decode_item(cbor2.dumps(-(2**63))) == -(2**63)
    with pytest.raises(ProtocolError, match="int64"):
        decode_item(cbor2.dumps(2**63))
    with pytest.raises(ProtocolError, match="int64"):
        decode_item(cbor2.dumps(-(2**63) - 1))


def _nested(levels: int) -> bytes:
    return b"\x81" * (levels - 1) + b"\x80"


def test_nesting_limit() -> None:
    assert MAX_DEPTH == 16
    decode_item(_nested(16))
    with pytest.raises(ProtocolError, match="nested deeper than 16"):
        decode_item(_nested(17))
    maps = b"\xa1\x61k" * 16 + b"\x00"
    assert decode_item(maps) is not None
    with pytest.raises(ProtocolError, match="nested deeper"):
        decode_item(b"\xa1\x61k" * 17 + b"\x00")
    with pytest.raises(ProtocolError, match="nested deeper than 3"):
        decode_item(_nested(4), max_depth=3)


def test_non_shortest_arguments_are_accepted() -> None:
    assert decode_item(b"\x1b\x00\x00\x00\x00\x00\x00\x00\x05") == 5
    assert decode_item(b"\x79\x00\x01a") == "a"
    assert decode_item(b"\xf9\x3c\x00") == 1.0


def test_decode_item_takes_bytes_like() -> None:
    assert decode_item(bytearray(b"\x82\x01\x02")) == [1, 2]
    assert decode_item(memoryview(b"\x43abc")) == b"abc"


def test_byte_strings_decode_to_bytes() -> None:
    value = decode_item(b"\x43abc")
    assert type(value) is bytes


# --- Property tests -----------------------------------------------------------------------------

SCALARS = (
    st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.text()
    | st.binary()
    | st.booleans()
    | st.none()
    | st.floats()
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@settings(max_examples=300)
@given(VALUES)
def test_encode_then_decode_is_identity(value: Any) -> None:
    data = encode_item(value)
    if _depth(value) > MAX_DEPTH:
        with pytest.raises(ProtocolError):
            decode_item(data)
    else:
        assert same(decode_item(data), value)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=64))
def test_random_bytes_never_crash_and_agree_with_cbor2(data: bytes) -> None:
    try:
        value = decode_item(data)
    except ProtocolError as exc:
        assert exc.code == BAD_FRAME
        return
    # Whatever we accept, a general decoder reads the same way, and it is the whole input.
    assert same(value, cbor2.loads(data))


@settings(max_examples=200)
@given(VALUES.map(lambda v: encode_item(v)), st.integers(min_value=0, max_value=200))
def test_truncated_or_extended_input_is_refused(data: bytes, cut: int) -> None:
    if cut < len(data):
        with pytest.raises(ProtocolError):
            decode_item(data[:cut])
    with pytest.raises(ProtocolError, match="trailing"):
        decode_item(data + b"\x00")


# Client frames: one strategy per type, kept inside the limits a valid frame respects.
UINT = st.integers(min_value=0, max_value=MAX_SAFE_INT)
LIMIT = st.integers(min_value=1, max_value=100)
# Text of a valid client frame: anything but U+0000 (refused in every text field, §3.2).
TEXT_CHAR = st.characters(exclude_characters="\x00", exclude_categories=("Cs",))  # UTF-8 text: no surrogates
TEXT = st.text(TEXT_CHAR)
BODY = st.text(TEXT_CHAR, min_size=1, max_size=200).filter(lambda s: s.strip(wire.WHITE_SPACE) != "")
FILE_ID = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=64)
CLIENT_FRAMES: st.SearchStrategy[ClientFrame] = st.one_of(
    st.builds(Hello, rid=UINT, v=st.just(1), token=st.none() | TEXT,
              resume=st.dictionaries(UINT, UINT, max_size=5).map(lambda d: tuple(d.items()))),
    st.builds(Channels, rid=UINT),
    st.builds(Browse, rid=UINT, q=st.none() | TEXT, after=st.none() | TEXT,
              limit=LIMIT),
    st.builds(ChannelCreate, rid=UINT, name=TEXT, description=st.text(TEXT_CHAR, max_size=100),
              private=st.booleans()),
    st.builds(ChannelJoin, rid=UINT, ch=UINT),
    st.builds(ChannelLeave, rid=UINT, ch=UINT),
    st.builds(ChannelInvite, rid=UINT, ch=UINT, user=TEXT),
    st.builds(Members, rid=UINT, ch=UINT),
    st.builds(Send, rid=UINT, ch=UINT, cid=st.binary(min_size=16, max_size=16), body=BODY),
    st.builds(Send, rid=UINT, ch=UINT, cid=st.binary(min_size=16, max_size=16), body=BODY | st.just(""),
              files=st.lists(FILE_ID, min_size=1, max_size=10, unique=True).map(tuple)),
    st.builds(History, rid=UINT, ch=UINT, before=st.none() | UINT, limit=LIMIT),
    st.builds(History, rid=UINT, ch=UINT, after=st.none() | UINT, limit=LIMIT),
    st.builds(Around, rid=UINT, ch=UINT, seq=UINT, limit=LIMIT),
    st.builds(Read, rid=UINT, ch=UINT, seq=UINT),
    st.builds(Typing, rid=UINT, ch=UINT),
    st.builds(PresenceSet, rid=UINT, state=st.sampled_from(["active", "away"])),
    st.builds(Ping, rid=UINT),
    st.builds(Send, rid=UINT, ch=UINT, cid=st.binary(min_size=16, max_size=16), body=BODY,
              mentions=st.lists(UINT, min_size=1, max_size=50, unique=True).map(tuple), all=st.booleans()),
    st.builds(Edit, rid=UINT, ch=UINT, seq=UINT, body=BODY,
              mentions=st.lists(UINT, max_size=50, unique=True).map(tuple), all=st.booleans()),
    st.builds(Delete, rid=UINT, ch=UINT, seq=UINT),
    st.builds(Versions, rid=UINT, ch=UINT, seq=UINT),
    st.builds(DmOpen, rid=UINT, users=st.lists(TEXT, min_size=1, max_size=7).map(tuple)),
    st.builds(Users, rid=UINT, q=st.none() | TEXT, limit=LIMIT),
    st.builds(ChannelNotify, rid=UINT, ch=UINT, notify=st.sampled_from(["all", "mentions", "nothing"]),
              muted=st.none() | st.booleans()),
    st.builds(ChannelNotify, rid=UINT, ch=UINT, muted=st.booleans()),
)


def client_map(frame: ClientFrame) -> dict[str, object]:
    """The map a client sends for ``frame`` (optional fields at None are left out)."""
    m: dict[str, object] = {"op": frame.op}
    for f in dataclasses.fields(frame):
        value = getattr(frame, f.name)
        if value is None or (f.name in ("files", "mentions") and not value):
            continue
        if f.name in ("resume", "files", "mentions", "users"):
            value = [list(pair) for pair in value] if f.name == "resume" else list(value)
        m[f.name] = value
    return m


@given(CLIENT_FRAMES)
def test_client_frame_round_trip(frame: ClientFrame) -> None:
    assert decode_client_frame(encode_client_frame(client_map(frame))) == frame


@given(CLIENT_FRAMES, st.randoms(use_true_random=False))
def test_client_frame_key_order_does_not_matter(frame: ClientFrame, rnd: Any) -> None:
    items = list(client_map(frame).items())
    rnd.shuffle(items)
    assert decode_client_frame(encode_client_frame(dict(items))) == frame


CHANNEL_INFO: st.SearchStrategy[ChannelInfo] = st.fixed_dictionaries(
    {"id": UINT, "name": st.text(), "description": st.text(), "private": st.booleans(),
     "role": st.sampled_from(["owner", "member"]), "last_seq": UINT, "read_seq": UINT,
     "unread": UINT}
)  # type: ignore[assignment]
MEMBER_INFO: st.SearchStrategy[MemberInfo] = st.fixed_dictionaries(
    {"id": UINT, "name": st.text(), "display": st.text(),
     "role": st.sampled_from(["owner", "member"])}
)  # type: ignore[assignment]
FILE_INFO: st.SearchStrategy[FileInfo] = st.fixed_dictionaries(
    {"id": FILE_ID, "name": st.text(), "size": UINT, "type": st.text(),
     "kind": st.sampled_from(["image", "video", "audio", "file"])},
    optional={"w": UINT, "h": UINT},
)  # type: ignore[assignment]
SERVER_FRAMES: st.SearchStrategy[ServerFrame] = st.one_of(
    st.builds(Ok, rid=UINT, fields=st.dictionaries(
        st.text().filter(lambda k: k not in ("op", "rid")),
        VALUES.filter(lambda v: _depth(v) < MAX_DEPTH), max_size=4)),
    st.builds(Error, rid=st.none() | UINT, code=st.sampled_from(sorted(ERROR_CODES)),
              message=st.text(), retry=st.none() | st.booleans(), existing=st.none() | UINT),
    st.builds(Ack, rid=UINT, ch=UINT, seq=UINT, id=UINT, ts=UINT),
    st.builds(Msg, ch=UINT, seq=UINT, id=UINT, ts=UINT, user=UINT, name=st.text(),
              display=st.text(), body=st.text(), cid=st.binary(min_size=16, max_size=16),
              files=st.none() | st.lists(FILE_INFO, min_size=1, max_size=3)),
    st.builds(CaughtUp, ch=UINT, seq=UINT),
    st.builds(Resync, ch=UINT, seq=UINT),
    st.builds(ChannelAdded, channel=CHANNEL_INFO),
    st.builds(ChannelRemoved, ch=UINT),
    st.builds(MemberJoined, ch=UINT, member=MEMBER_INFO),
    st.builds(MemberLeft, ch=UINT, user=UINT),
    st.builds(ReadMarker, ch=UINT, seq=UINT),
    st.builds(TypingPush, ch=UINT, user=UINT, display=st.text()),
    st.builds(PresencePush, user=UINT, state=st.sampled_from(["online", "away", "offline"])),
    st.builds(StoragePush, state=st.sampled_from(["low", "ok"]), free_bytes=UINT, reserve_bytes=UINT),
    st.builds(SessionExpired, reason=st.text()),
)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(SERVER_FRAMES)
def test_server_frame_round_trip(frame: ServerFrame) -> None:
    data = encode_server_frame(frame)
    decoded = decode_server_frame(data)
    assert same(decoded, frame.to_map())
    assert decoded["op"] == frame.op
    assert SERVER_FRAME_TYPES[frame.op] is type(frame)


# --- Size limit ---------------------------------------------------------------------------------


def test_oversized_frame_is_refused_without_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def must_not_decode(data: bytes, **_: object) -> None:
        raise AssertionError("the decoder ran on an oversized frame")

    monkeypatch.setattr(wire_cbor, "decode_item", must_not_decode)
    ten_mb = b"\xa1" + b"\x00" * (10 * 1024 * 1024)
    with pytest.raises(FrameTooLarge) as info:
        decode_client_frame(ten_mb)
    assert info.value.code == TOO_LARGE
    assert info.value.close_code == 1009
    assert info.value.rid is None
    assert info.value.size == len(ten_mb)
    with pytest.raises(FrameTooLarge):
        decode_server_frame(b"\x00" * (4 * 1024 * 1024 + 1))
    # At the limit, the frame is decoded (here: by the stub).
    with pytest.raises(AssertionError, match="decoder ran"):
        decode_client_frame(b"\x00" * MAX_FRAME_BYTES)


def test_size_limit_is_a_parameter() -> None:
    frame = encode_client_frame({"op": "channels", "rid": 1})
    assert decode_client_frame(frame, max_bytes=len(frame)) == Channels(rid=1)
    with pytest.raises(FrameTooLarge):
        decode_client_frame(frame, max_bytes=len(frame) - 1)


def test_frame_too_large_is_a_protocol_error() -> None:
    """Servers catch FrameTooLarge first (close 1009), then ProtocolError (error frame)."""
    assert issubclass(FrameTooLarge, ProtocolError)


# --- Client frames: every codec error code ----------------------------------------------------


def test_bad_frame_without_rid_when_the_map_is_unreadable() -> None:
    exc = refused(b"\xa2\x62op\x68channels\x63rid\x01\x00")  # trailing byte
    assert (exc.code, exc.rid) == (BAD_FRAME, None)
    exc = refused(encode_item([1, 2]))
    assert (exc.code, exc.rid) == (BAD_FRAME, None)
    assert "must be a map" in exc.message


@pytest.mark.parametrize("rid", [-1, 2**53, "7", 1.0, True, None, b"\x07", [7]])
def test_bad_frame_for_an_invalid_rid(rid: object) -> None:
    exc = refused(encode_map({"op": "channels", "rid": rid}))
    assert (exc.code, exc.rid) == (BAD_FRAME, None)
    assert "rid" in exc.message


def test_bad_frame_for_a_missing_rid() -> None:
    exc = refused(encode_map({"op": "channels"}))
    assert (exc.code, exc.rid) == (BAD_FRAME, None)
    assert "missing field 'rid'" in exc.message


def test_rid_bounds() -> None:
    assert decode_client_frame(encode_map({"op": "channels", "rid": 0})) == Channels(rid=0)
    big = MAX_SAFE_INT
    assert decode_client_frame(encode_map({"op": "channels", "rid": big})) == Channels(rid=big)


def test_bad_frame_keeps_the_rid_when_it_could_be_read() -> None:
    exc = refused(encode_map({"rid": 9, "ch": 1}))
    assert (exc.code, exc.rid) == (BAD_FRAME, 9)
    assert "op" in exc.message
    exc = refused(encode_map({"op": ["send"], "rid": 9}))
    assert (exc.code, exc.rid) == (BAD_FRAME, 9)


def test_unknown_op() -> None:
    exc = refused(encode_map({"op": "frobnicate", "rid": 4, "q": "x"}))
    assert (exc.code, exc.rid) == (UNKNOWN_OP, 4)
    assert "'frobnicate'" in exc.message
    exc = refused(encode_map({"op": "x" * 10_000, "rid": 4}))
    assert exc.code == UNKNOWN_OP
    assert len(exc.message) < 100, "client text quoted in a message is clipped"
    for op in SERVER_FRAME_TYPES:
        if op not in CLIENT_FRAME_TYPES:
            assert refused(encode_map({"op": op, "rid": 1})).code == UNKNOWN_OP


@pytest.mark.parametrize(
    ("frame", "words"),
    [
        ({"op": "send", "rid": 3, "ch": 1, "cid": CID}, "missing field 'body'"),
        ({"op": "channels", "rid": 3, "ch": 1}, "unknown field 'ch'"),
        ({"op": "channel.join", "rid": 3, "ch": "1"}, "channel.join.ch"),
        ({"op": "channel.join", "rid": 3, "ch": 1.0}, "not float"),
        ({"op": "channel.join", "rid": 3, "ch": True}, "not bool"),
        ({"op": "channel.join", "rid": 3, "ch": 2**53}, "below 2^53"),
        ({"op": "channel.invite", "rid": 3, "ch": 1, "user": 5}, "channel.invite.user"),
        ({"op": "channel.create", "rid": 3, "name": "x", "private": 0}, "true or false"),
        ({"op": "channel.create", "rid": 3, "name": b"x"}, "text string"),
        ({"op": "send", "rid": 3, "ch": 1, "cid": CID[:15], "body": "x"}, "not 15 bytes"),
        ({"op": "send", "rid": 3, "ch": 1, "cid": CID + b"!", "body": "x"}, "not 17 bytes"),
        ({"op": "send", "rid": 3, "ch": 1, "cid": "x" * 16, "body": "x"}, "not text"),
        ({"op": "send", "rid": 3, "ch": 1, "cid": CID, "body": None}, "not null"),
        ({"op": "history", "rid": 3, "ch": 1, "before": 5, "after": 1}, "mutually exclusive"),
        ({"op": "history", "rid": 3, "ch": 1, "limit": "5"}, "limit must be an integer"),
        ({"op": "history", "rid": 3, "ch": 1, "limit": 5.0}, "limit must be an integer"),
        ({"op": "around", "rid": 3, "ch": 1}, "missing field 'seq'"),
        ({"op": "read", "rid": 3, "ch": 1, "seq": -1}, "read.seq"),
        ({"op": "presence.set", "rid": 3, "state": "online"}, '"active" or "away"'),
        ({"op": "presence.set", "rid": 3, "state": b"away"}, '"active" or "away"'),
        ({"op": "hello", "rid": 3}, "missing field 'v'"),
        ({"op": "hello", "rid": 3, "v": "1"}, "hello.v"),
        ({"op": "hello", "rid": 3, "v": -1}, "hello.v"),
        ({"op": "hello", "rid": 3, "v": 1, "token": 5}, "hello.token"),
        ({"op": "hello", "rid": 3, "v": 1, "resume": {"1": 2}}, "must be an array"),
        ({"op": "hello", "rid": 3, "v": 1, "resume": [[1, 2, 3]]}, "pairs"),
        ({"op": "hello", "rid": 3, "v": 1, "resume": [[1, -2]]}, "pairs"),
        ({"op": "hello", "rid": 3, "v": 1, "resume": [[1, True]]}, "pairs"),
        ({"op": "hello", "rid": 3, "v": 1, "resume": [[1, 2], [1, 3]]}, "twice"),
    ],
    ids=repr,
)
def test_bad_frame_for_schema_violations(frame: dict[str, object], words: str) -> None:
    exc = refused(encode_map(frame))
    assert (exc.code, exc.rid) == (BAD_FRAME, 3)
    assert words in exc.message


def test_unsupported_version_closes_4400() -> None:
    exc = refused(encode_map({"op": "hello", "rid": 1, "v": 2}))
    assert (exc.code, exc.rid, exc.close_code) == (UNSUPPORTED_VERSION, 1, 4400)
    assert refused(encode_map({"op": "hello", "rid": 1, "v": 0})).code == UNSUPPORTED_VERSION


@pytest.mark.parametrize("limit", [0, 101, -1, 2**63 - 1, -(2**63)])
def test_bad_limit(limit: int) -> None:
    for frame in (
        {"op": "browse", "rid": 2, "limit": limit},
        {"op": "history", "rid": 2, "ch": 1, "limit": limit},
        {"op": "around", "rid": 2, "ch": 1, "seq": 1, "limit": limit},
    ):
        exc = refused(encode_map(frame))
        assert (exc.code, exc.rid) == (BAD_LIMIT, 2)


def test_limit_bounds_and_default() -> None:
    for limit in (1, 100):
        frame = decode_client_frame(encode_map({"op": "browse", "rid": 1, "limit": limit}))
        assert isinstance(frame, Browse) and frame.limit == limit
    assert decode_client_frame(encode_map({"op": "history", "rid": 1, "ch": 2})) == History(
        rid=1, ch=2, before=None, after=None, limit=DEFAULT_LIMIT
    )
    assert DEFAULT_LIMIT == 50


def _send(body: str) -> bytes:
    return encode_map({"op": "send", "rid": 5, "ch": 1, "cid": CID, "body": body})


def test_body_too_large_counts_utf8_bytes() -> None:
    assert MAX_BODY_BYTES == 16384
    at_limit = "€" * (MAX_BODY_BYTES // 3) + "a"  # 3-byte characters: 16384 bytes
    frame = decode_client_frame(_send(at_limit))
    assert isinstance(frame, Send) and frame.body == at_limit
    for body in (at_limit + "a", "a" * (MAX_BODY_BYTES + 1), "😀" * (MAX_BODY_BYTES // 4 + 1)):
        exc = refused(_send(body))
        assert (exc.code, exc.rid, exc.close_code) == (TOO_LARGE, 5, None)
        assert not isinstance(exc, FrameTooLarge)
    assert decode_client_frame(_send("😀" * (MAX_BODY_BYTES // 4)))


def test_body_limit_is_a_parameter() -> None:
    assert decode_client_frame(_send("abcd"), max_body_bytes=4)
    assert refused(_send("abcde"), max_body_bytes=4).code == TOO_LARGE
    assert refused(_send("ab€"), max_body_bytes=4).code == TOO_LARGE


def test_description_too_large() -> None:
    frame = {"op": "channel.create", "rid": 6, "name": "x", "description": "ü" * 512}
    assert decode_client_frame(encode_map(frame))
    frame["description"] = "ü" * 512 + "x"
    exc = refused(encode_map(frame))
    assert (exc.code, exc.rid) == (TOO_LARGE, 6)


@pytest.mark.parametrize("body", ["", " ", "\n\t\r\x0b\x0c ", "\u3000", "\u00a0\u2003\x85"])
def test_empty_body(body: str) -> None:
    exc = refused(_send(body))
    assert (exc.code, exc.rid) == (EMPTY_BODY, 5)


def test_white_space_is_the_unicode_property() -> None:
    import unicodedata

    assert unicodedata.unidata_version  # the table below is Unicode's White_Space list
    expected = {*range(0x09, 0x0E), 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028,
                0x2029, 0x202F, 0x205F, 0x3000}
    assert {ord(c) for c in wire.codec.WHITE_SPACE} == expected
    for not_blank in ("\x1c", "\u200b", "\ufeff", "\u180e"):  # str.isspace says yes to \x1c
        assert decode_client_frame(_send(not_blank))


def test_body_with_text_and_spaces_is_kept_verbatim() -> None:
    frame = decode_client_frame(_send("  hi  \n"))
    assert isinstance(frame, Send) and frame.body == "  hi  \n"


@pytest.mark.parametrize(
    ("frame", "field"),
    [
        ({"op": "hello", "v": 1, "token": "abc\x00"}, "hello.token"),
        ({"op": "browse", "q": "\x00"}, "browse.q"),
        ({"op": "browse", "after": "cursor\x00"}, "browse.after"),
        ({"op": "channel.create", "name": "a\x00b"}, "channel.create.name"),
        ({"op": "channel.create", "name": "ab", "description": "x\x00"}, "channel.create.description"),
        ({"op": "channel.invite", "ch": 1, "user": "\x00bob"}, "channel.invite.user"),
        ({"op": "send", "ch": 1, "cid": CID, "body": "hi\x00"}, "send.body"),
        ({"op": "send", "ch": 1, "cid": CID, "body": "\x00"}, "send.body"),  # not empty_body
        ({"op": "send", "ch": 1, "cid": CID, "body": "\x00" * (MAX_BODY_BYTES + 1)}, "send.body"),
    ],
)
def test_nul_in_any_text_field_is_bad_frame_naming_the_field(frame: dict[str, object], field: str) -> None:
    exc = refused(encode_map({"rid": 9, **frame}))
    assert (exc.code, exc.rid, exc.close_code) == (BAD_FRAME, 9, None)
    assert exc.message == f"{field} contains U+0000, which is not allowed in text"


def test_other_control_characters_in_text_are_kept() -> None:
    text = "".join(map(chr, range(1, 0x20))) + "\x7f\x85"
    frame = decode_client_frame(_send(text))
    assert isinstance(frame, Send) and frame.body == text
    create = decode_client_frame(encode_map({"op": "channel.create", "rid": 1, "name": "a\x01",
                                             "description": text}))
    assert isinstance(create, ChannelCreate) and create.description == text


def test_codec_raises_only_protocol_errors_with_known_codes() -> None:
    codes_seen = set()
    for frame in (
        b"\xff",
        encode_map({"op": "nope", "rid": 1}),
        encode_map({"op": "hello", "rid": 1, "v": 9}),
        encode_map({"op": "browse", "rid": 1, "limit": 0}),
        _send(""),
        _send("x" * (MAX_BODY_BYTES + 1)),
    ):
        codes_seen.add(refused(frame).code)
    assert codes_seen == {BAD_FRAME, UNKNOWN_OP, UNSUPPORTED_VERSION, BAD_LIMIT, EMPTY_BODY,
                          TOO_LARGE}
    assert codes_seen <= ERROR_CODES


def test_decoded_frames() -> None:
    hello = decode_client_frame(
        encode_map({"op": "hello", "rid": 1, "v": 1, "token": "t", "resume": [[3, 4], [5, 0]]})
    )
    assert hello == Hello(rid=1, v=1, token="t", resume=((3, 4), (5, 0)))
    assert decode_client_frame(encode_map({"op": "hello", "rid": 1, "v": 1})) == Hello(
        rid=1, v=1, token=None, resume=()
    )
    create = decode_client_frame(encode_map({"op": "channel.create", "rid": 2, "name": "n"}))
    assert create == ChannelCreate(rid=2, name="n", description="", private=False)
    send = decode_client_frame(_send("hi"))
    assert send == Send(rid=5, ch=1, cid=CID, body="hi")
    assert len(CID) == CID_BYTES
    with pytest.raises(dataclasses.FrozenInstanceError):
        send.body = "changed"  # type: ignore[misc]


# --- Server frames ------------------------------------------------------------------------------


def test_msg_encoding_is_the_documented_map() -> None:
    msg = Msg(ch=12, seq=340, id=90210, ts=1764067200000, user=7, name="alice",
              display="Alice", body="hi", cid=CID)
    data = encode_server_frame(msg)
    assert list(cbor2.loads(data).items()) == [
        ("op", "msg"), ("ch", 12), ("seq", 340), ("id", 90210), ("ts", 1764067200000),
        ("user", 7), ("name", "alice"), ("display", "Alice"), ("body", "hi"), ("cid", CID), ("v", 1),
    ]
    assert msg.info() == {k: v for k, v in cbor2.loads(data).items() if k != "op"}


def test_edited_message_and_tombstone_encode_their_documented_fields() -> None:
    edited = Msg(ch=12, seq=340, id=90210, ts=1764067200000, user=7, name="alice", display="Alice",
                 body="hi @bob", cid=CID, v=2, edited=1764067230000, mentions=[9], all=True)
    assert list(cbor2.loads(encode_server_frame(edited))) == [
        "op", "ch", "seq", "id", "ts", "user", "name", "display", "body", "cid", "v", "edited", "mentions", "all",
    ]
    tombstone = Msg(ch=12, seq=340, id=90210, ts=1764067200000, user=7, name="alice", display="Alice",
                    body=None, cid=CID, v=3, deleted=True)
    decoded = cbor2.loads(encode_server_frame(tombstone))
    assert "body" not in decoded and decoded["deleted"] is True and decoded["v"] == 3


def test_error_frame_leaves_out_absent_fields() -> None:
    data = encode_server_frame(Error(rid=None, code=BAD_FRAME, message="m"))
    assert cbor2.loads(data) == {"op": "error", "code": "bad_frame", "message": "m"}
    data = encode_server_frame(Error(rid=4, code="unavailable", message="m", retry=True))
    assert cbor2.loads(data) == {"op": "error", "rid": 4, "code": "unavailable",
                                 "message": "m", "retry": True}


def test_ok_frame() -> None:
    assert cbor2.loads(encode_server_frame(Ok(rid=3))) == {"op": "ok", "rid": 3}
    data = encode_server_frame(Ok(rid=3, fields={"ch": 1, "messages": [], "more": False}))
    assert list(cbor2.loads(data)) == ["op", "rid", "ch", "messages", "more"]
    with pytest.raises(ValueError, match="op"):
        Ok(rid=3, fields={"op": "x"})
    with pytest.raises(ValueError, match="rid"):
        Ok(rid=3, fields={"rid": 4})


def test_encode_map_is_definite_and_shortest() -> None:
    assert encode_map({"a": 1}) == b"\xa1\x61a\x01"
    assert encode_map({"n": 24}) == b"\xa1\x61n\x18\x18"
    assert encode_item([]) == b"\x80"


def test_decode_server_frame_is_strict() -> None:
    assert decode_server_frame(encode_map({"op": "future.push", "x": 1})) == {
        "op": "future.push", "x": 1,
    }, "unknown ops and fields pass through for the client to ignore"
    for data in (b"\xa1\x62op\x63msg\x00", b"\x81\x00", encode_map({"ch": 1}),
                 b"\xbf\x62op\x63msg\xff", encode_map({"op": 5})):
        with pytest.raises(ProtocolError) as info:
            decode_server_frame(data)
        assert info.value.code == BAD_FRAME


def test_public_api() -> None:
    for name in wire.__all__:
        assert hasattr(wire, name), name
    assert set(CLIENT_FRAME_TYPES) == {
        "hello", "channels", "browse", "channel.create", "channel.join", "channel.leave",
        "channel.invite", "members", "send", "history", "around", "read", "typing",
        "presence.set", "ping", "search", "edit", "delete", "versions", "dm.open", "users", "channel.notify",
    }
    assert set(SERVER_FRAME_TYPES) == {
        "ok", "error", "ack", "msg", "caughtup", "resync", "channel.added", "channel.removed",
        "member.joined", "member.left", "read", "typing", "presence", "storage",
        "session.expired", "msg.changed", "counts", "channel.updated", "user.updated",
    }


def test_codec_does_not_import_trio() -> None:
    import subprocess
    import sys

    code = "import sys, chatd.wire; sys.exit('trio' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_server_message_is_a_cbor_sequence_of_frames() -> None:
    from chatd.wire import decode_server_message

    one = encode_server_frame(Ok(1, {}))
    two = encode_server_frame(CaughtUp(5, 9))
    assert decode_server_message(one) == [{"op": "ok", "rid": 1}]
    assert decode_server_message(one + two) == [{"op": "ok", "rid": 1}, {"op": "caughtup", "ch": 5, "seq": 9}]
    for bad in (b"", one + two[:-1], one + b"\x01", one + b"\xff"):
        with pytest.raises(ProtocolError) as info:
            decode_server_message(bad)
        assert info.value.code == "bad_frame"
