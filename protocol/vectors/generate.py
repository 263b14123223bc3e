"""Write protocol/vectors/vectors.json: example frames of chatd protocol v1.

Run from the repository root: ``python protocol/vectors/generate.py``. It needs only cbor2 (not
chatd), so the vectors stay an independent check of chatd's codec. vectors.json is the product;
a test checks it matches this script, so edit here, regenerate, and commit both.

Valid frames are built as Python maps and encoded by cbor2 (definite lengths, shortest
arguments, keys in the order written here, which is the order the server writes them). Invalid
frames are written byte by byte where the defect is in the encoding itself.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import cbor2

HERE = Path(__file__).resolve().parent
CID = bytes(range(0x10, 0x20))  # a fixed "random" client id, easy to spot in hex dumps
MAX_FRAME_BYTES = 65536
MAX_BODY_BYTES = 16384
MAX_FILE_BYTES = 104857600
FILE_ID = "m3Y1b2t8Q0qW9cXz4H7a2g"  # an upload's id (feature "files")
FILE_ID_2 = "Xo0_f3-Lk2PqRw8sTu9vYz"


def diag(value: Any) -> str:
    """RFC 8949 §8 diagnostic notation of a value of the allowed subset."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bytes):
        return f"h'{value.hex()}'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(diag(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{diag(k)}: {diag(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def short_diag(value: Any) -> str:
    """Diagnostic notation, with long text strings abbreviated (informative only)."""
    if isinstance(value, str) and len(value) > 64:
        return f'<text of {len(value.encode())} bytes: "{value[:8]}…">'
    if isinstance(value, dict):
        return "{" + ", ".join(f"{diag(k)}: {short_diag(v)}" for k, v in value.items()) + "}"
    return diag(value)


VECTORS: list[dict[str, Any]] = []


def valid(name: str, direction: str, frame: dict[str, Any]) -> None:
    VECTORS.append(
        {
            "name": name,
            "direction": direction,
            "hex": cbor2.dumps(frame).hex(),
            "diagnostic": short_diag(frame),
            "valid": True,
        }
    )


def invalid(
    name: str,
    direction: str,
    data: bytes | dict[str, Any],
    diagnostic: str | None,
    error: str,
    rid: int | None = None,
    close: int | None = None,
) -> None:
    if isinstance(data, dict):
        diagnostic = diagnostic or short_diag(data)
        data = cbor2.dumps(data)
    assert diagnostic is not None
    entry: dict[str, Any] = {
        "name": name,
        "direction": direction,
        "hex": data.hex(),
        "diagnostic": diagnostic,
        "valid": False,
        "error": error,
    }
    if direction == "c2s":
        entry["rid"] = rid
    if close is not None:
        entry["close"] = close
    VECTORS.append(entry)


def c2s_valid() -> None:
    v = "c2s"
    valid("hello", v, {"op": "hello", "rid": 1, "v": 1})
    valid("hello-token-resume", v, {"op": "hello", "rid": 1, "v": 1, "token": "tok_3q2+7w",
                                    "resume": [[12, 340], [15, 0]]})
    valid("channels", v, {"op": "channels", "rid": 2})
    valid("browse", v, {"op": "browse", "rid": 3})
    valid("browse-query-page", v, {"op": "browse", "rid": 4, "q": "home", "after": "b:lab",
                                   "limit": 20})
    valid("channel.create", v, {"op": "channel.create", "rid": 5, "name": "homelab"})
    valid("channel.create-full", v, {"op": "channel.create", "rid": 6, "name": "Garten",
                                     "description": "Beete, Bäume & Gießplan", "private": True})
    valid("channel.join", v, {"op": "channel.join", "rid": 7, "ch": 12})
    valid("channel.leave", v, {"op": "channel.leave", "rid": 8, "ch": 12})
    valid("channel.invite", v, {"op": "channel.invite", "rid": 9, "ch": 12, "user": "bob"})
    valid("members", v, {"op": "members", "rid": 10, "ch": 12})
    valid("send", v, {"op": "send", "rid": 11, "ch": 12, "cid": CID, "body": "hi 👋"})
    valid("send-body-at-limit", v, {"op": "send", "rid": 12, "ch": 12, "cid": CID,
                                    "body": "€" * (MAX_BODY_BYTES // 3) + "a"})
    # U+001C..U+001F are not Unicode White_Space: a body of them is not blank.
    valid("send-body-separators", v, {"op": "send", "rid": 24, "ch": 12, "cid": CID,
                                      "body": "\x1c\x1d\x1e\x1f"})
    # Feature "files": a message of files alone may have an empty body.
    valid("send-files", v, {"op": "send", "rid": 25, "ch": 12, "cid": CID, "body": "",
                            "files": [FILE_ID]})
    valid("send-files-text", v, {"op": "send", "rid": 26, "ch": 12, "cid": CID,
                                 "body": "the plans", "files": [FILE_ID, FILE_ID_2]})
    valid("history-latest", v, {"op": "history", "rid": 13, "ch": 12})
    valid("history-before", v, {"op": "history", "rid": 14, "ch": 12, "before": 301,
                                "limit": 100})
    valid("history-after", v, {"op": "history", "rid": 15, "ch": 12, "after": 340, "limit": 1})
    valid("around", v, {"op": "around", "rid": 16, "ch": 12, "seq": 77})
    valid("around-limit", v, {"op": "around", "rid": 17, "ch": 12, "seq": 77, "limit": 9})
    valid("read", v, {"op": "read", "rid": 18, "ch": 12, "seq": 340})
    valid("typing", v, {"op": "typing", "rid": 19, "ch": 12})
    valid("presence.set-active", v, {"op": "presence.set", "rid": 20, "state": "active"})
    valid("presence.set-away", v, {"op": "presence.set", "rid": 21, "state": "away"})
    valid("ping", v, {"op": "ping", "rid": 22})
    valid("search", v, {"op": "search", "rid": 25, "q": "deploy failed"})
    valid("search-full", v, {"op": "search", "rid": 26, "q": '"disk full" from:@bob in:#homelab -test',
                             "order": "newest", "tz": "Europe/Berlin", "after": "n.90210.1764067200000.1.0.88107",
                             "limit": 50})
    # Feature "mentions": whom a message mentions, by user id; @channel as a flag.
    valid("send-mentions", v, {"op": "send", "rid": 27, "ch": 12, "cid": CID, "body": "@bob @carol lunch?",
                               "mentions": [8, 9], "all": False})
    # Feature "edits".
    valid("edit", v, {"op": "edit", "rid": 28, "ch": 12, "seq": 340, "body": "rebooting the NAS now"})
    valid("edit-mentions", v, {"op": "edit", "rid": 29, "ch": 12, "seq": 340, "body": "@channel NAS is back",
                               "all": True})
    valid("delete", v, {"op": "delete", "rid": 30, "ch": 12, "seq": 340})
    valid("versions", v, {"op": "versions", "rid": 31, "ch": 12, "seq": 340})
    # Feature "dms".
    valid("dm.open", v, {"op": "dm.open", "rid": 32, "users": ["bob"]})
    valid("dm.open-group", v, {"op": "dm.open", "rid": 33, "users": ["bob", "carol", "dave"]})
    valid("users", v, {"op": "users", "rid": 34})
    valid("users-query", v, {"op": "users", "rid": 35, "q": "bo", "limit": 10})
    # Feature "notify".
    valid("channel.notify", v, {"op": "channel.notify", "rid": 36, "ch": 12, "notify": "all"})
    valid("channel.notify-mute", v, {"op": "channel.notify", "rid": 37, "ch": 12, "muted": True})
    valid("rid-max-safe", v, {"op": "channels", "rid": 2**53 - 1})
    valid("keys-in-any-order", v, {"ch": 12, "rid": 23, "op": "typing"})
    # Non-shortest arguments are well-formed CBOR (RFC 8949 §3): decoders accept them.
    VECTORS.append({
        "name": "rid-long-form-argument",
        "direction": v,
        "hex": "a2626f70686368616e6e656c73637269641b0000000000000017",
        "diagnostic": '{"op": "channels", "rid": 23_3}',
        "valid": True,
    })


def c2s_invalid() -> None:
    v = "c2s"
    channels = cbor2.dumps({"op": "channels", "rid": 1})  # a2 626f70 686368616e6e656c73 63726964 01
    ops_key = bytes.fromhex("626f70") + bytes.fromhex("686368616e6e656c73")  # "op": "channels"
    rid_key = bytes.fromhex("63726964")  # "rid"
    invalid("trailing-bytes", v, channels + b"\x00", '{"op": "channels", "rid": 1}, 0',
            "bad_frame")
    invalid("two-frames-in-one", v, channels + channels,
            '{"op": "channels", "rid": 1}, {"op": "channels", "rid": 1}', "bad_frame")
    invalid("indefinite-map", v, b"\xbf" + ops_key + rid_key + b"\x01\xff",
            '{_ "op": "channels", "rid": 1}', "bad_frame")
    invalid("indefinite-text", v, b"\xa2" + bytes.fromhex("626f70") + b"\x7f" +
            bytes.fromhex("646368616e") + bytes.fromhex("646e656c73") + b"\xff" + rid_key + b"\x01",
            '{"op": (_ "chan", "nels"), "rid": 1}', "bad_frame")
    invalid("tag-on-value", v, b"\xa2" + ops_key + rid_key + b"\xc1\x01",
            '{"op": "channels", "rid": 1(1)}', "bad_frame")
    invalid("self-describe-tag", v, b"\xd9\xd9\xf7" + channels,
            '55799({"op": "channels", "rid": 1})', "bad_frame")
    invalid("non-text-key", v, b"\xa3" + ops_key + rid_key + b"\x01\x01\x02",
            '{"op": "channels", "rid": 1, 1: 2}', "bad_frame")
    invalid("bytes-key", v, b"\xa3" + ops_key + rid_key + b"\x01\x41\x78\x02",
            '{"op": "channels", "rid": 1, h\'78\': 2}', "bad_frame")
    invalid("duplicate-key", v, b"\xa3" + ops_key + rid_key + b"\x01" + rid_key + b"\x02",
            '{"op": "channels", "rid": 1, "rid": 2}', "bad_frame")
    invalid("undefined", v, b"\xa2" + ops_key + rid_key + b"\xf7",
            '{"op": "channels", "rid": undefined}', "bad_frame")
    invalid("simple-value", v, b"\xa2" + ops_key + rid_key + b"\xf0",
            '{"op": "channels", "rid": simple(16)}', "bad_frame")
    invalid("invalid-utf8", v, b"\xa5" + bytes.fromhex("626f70") + cbor2.dumps("send")
            + rid_key + b"\x01" + cbor2.dumps("ch") + b"\x0c" + cbor2.dumps("cid")
            + cbor2.dumps(CID) + cbor2.dumps("body") + b"\x62\xc3\x28",
            '{"op": "send", "rid": 1, "ch": 12, "cid": h\'' + CID.hex()
            + '\', "body": <text h\'c328\', not UTF-8>}', "bad_frame")
    invalid("truncated", v, channels[:-1], '{"op": "channels", "rid": <missing>', "bad_frame")
    invalid("empty", v, b"", "<no bytes>", "bad_frame")
    invalid("not-a-map", v, cbor2.dumps(["channels", 1]), '["channels", 1]', "bad_frame")
    # 17 nested arrays: one level more than decoders accept (the top-level map is level 1).
    deep: Any = 0
    for _ in range(16):
        deep = [deep]
    invalid("nesting-too-deep", v, {"op": "channels", "rid": 1, "x": deep}, None, "bad_frame")
    invalid("huge-int", v, b"\xa2" + ops_key + rid_key + bytes.fromhex("1bffffffffffffffff"),
            '{"op": "channels", "rid": 18446744073709551615}', "bad_frame")
    invalid("huge-negative-int", v, b"\xa3" + ops_key + rid_key + b"\x01" + cbor2.dumps("x")
            + bytes.fromhex("3bffffffffffffffff"),
            '{"op": "channels", "rid": 1, "x": -18446744073709551616}', "bad_frame")
    invalid("bignum", v, b"\xa2" + ops_key + rid_key + bytes.fromhex("c249010000000000000000"),
            '{"op": "channels", "rid": 2(h\'010000000000000000\')}', "bad_frame")
    invalid("rid-not-safe", v, {"op": "channels", "rid": 2**53}, None, "bad_frame")
    invalid("rid-negative", v, {"op": "channels", "rid": -1}, None, "bad_frame")
    invalid("rid-text", v, {"op": "channels", "rid": "1"}, None, "bad_frame")
    invalid("rid-missing", v, {"op": "channels"}, None, "bad_frame")
    invalid("op-missing", v, {"rid": 1, "ch": 12}, None, "bad_frame", rid=1)
    invalid("op-not-text", v, {"op": 1, "rid": 1}, None, "bad_frame", rid=1)
    invalid("unknown-op", v, {"op": "frobnicate", "rid": 1, "q": "x"}, None, "unknown_op", rid=1)
    invalid("server-op-from-client", v, {"op": "ok", "rid": 1}, None, "unknown_op", rid=1)
    invalid("unknown-op-no-rid", v, {"op": "nope"}, None, "unknown_op")
    invalid("unknown-field", v, {"op": "channels", "rid": 1, "all": True}, None, "bad_frame",
            rid=1)
    invalid("missing-field", v, {"op": "send", "rid": 1, "ch": 12, "cid": CID}, None,
            "bad_frame", rid=1)
    invalid("wrong-type-ch-text", v, {"op": "channel.join", "rid": 1, "ch": "12"}, None,
            "bad_frame", rid=1)
    invalid("wrong-type-ch-float", v, {"op": "channel.join", "rid": 1, "ch": 12.0}, None,
            "bad_frame", rid=1)
    invalid("wrong-type-ch-bool", v, {"op": "channel.join", "rid": 1, "ch": True}, None,
            "bad_frame", rid=1)
    invalid("wrong-type-ch-null", v, {"op": "channel.join", "rid": 1, "ch": None}, None,
            "bad_frame", rid=1)
    invalid("ch-negative", v, {"op": "channel.join", "rid": 1, "ch": -12}, None, "bad_frame",
            rid=1)
    invalid("ch-not-safe", v, {"op": "channel.join", "rid": 1, "ch": 2**53}, None, "bad_frame",
            rid=1)
    invalid("private-not-bool", v, {"op": "channel.create", "rid": 1, "name": "x", "private": 1},
            None, "bad_frame", rid=1)
    invalid("cid-15-bytes", v, {"op": "send", "rid": 1, "ch": 12, "cid": CID[:15], "body": "hi"},
            None, "bad_frame", rid=1)
    invalid("cid-17-bytes", v, {"op": "send", "rid": 1, "ch": 12, "cid": CID + b"\x00",
                                "body": "hi"}, None, "bad_frame", rid=1)
    invalid("cid-text", v, {"op": "send", "rid": 1, "ch": 12, "cid": CID.hex(), "body": "hi"},
            None, "bad_frame", rid=1)
    invalid("body-bytes", v, {"op": "send", "rid": 1, "ch": 12, "cid": CID, "body": b"hi"},
            None, "bad_frame", rid=1)
    invalid("body-empty", v, {"op": "send", "rid": 1, "ch": 12, "cid": CID, "body": ""}, None,
            "empty_body", rid=1)
    invalid("body-blank", v, {"op": "send", "rid": 1, "ch": 12, "cid": CID, "body": " \n\t"},
            None, "empty_body", rid=1)
    # U+0000 in any text field (§3.2): bad_frame, also where another rule would apply too.
    nul_frames = {
        "body-nul": {"op": "send", "rid": 1, "ch": 12, "cid": CID, "body": "hi\x00there"},
        "body-only-nul": {"op": "send", "rid": 1, "ch": 12, "cid": CID, "body": "\x00"},
        "hello-token-nul": {"op": "hello", "rid": 1, "v": 1, "token": "tok\x00"},
        "browse-q-nul": {"op": "browse", "rid": 1, "q": "home\x00"},
        "browse-after-nul": {"op": "browse", "rid": 1, "after": "b:\x00"},
        "channel.create-name-nul": {"op": "channel.create", "rid": 1, "name": "lab\x00"},
        "channel.create-description-nul": {"op": "channel.create", "rid": 1, "name": "lab",
                                           "description": "\x00"},
        "channel.invite-user-nul": {"op": "channel.invite", "rid": 1, "ch": 12, "user": "bob\x00"},
    }
    for name, nul_frame in nul_frames.items():
        invalid(name, v, nul_frame, None, "bad_frame", rid=1)
    invalid("body-too-large", v, {"op": "send", "rid": 1, "ch": 12, "cid": CID,
                                  "body": "€" * (MAX_BODY_BYTES // 3) + "ab"}, None,
            "too_large", rid=1)
    invalid("description-too-large", v, {"op": "channel.create", "rid": 1, "name": "x",
                                         "description": "d" * 1025}, None, "too_large", rid=1)
    send = {"op": "send", "rid": 1, "ch": 12, "cid": CID, "body": ""}
    invalid("send-files-empty", v, {**send, "files": []}, None, "bad_frame", rid=1)
    invalid("send-files-eleven", v, {**send, "files": [f"f{i}" for i in range(11)]}, None,
            "bad_frame", rid=1)
    invalid("send-files-twice", v, {**send, "files": [FILE_ID, FILE_ID]}, None, "bad_frame",
            rid=1)
    invalid("send-files-bad-id", v, {**send, "files": ["../etc"]}, None, "bad_frame", rid=1)
    invalid("send-files-not-array", v, {**send, "files": FILE_ID}, None, "bad_frame", rid=1)
    invalid("send-no-files-body-empty", v, send, None, "empty_body", rid=1)
    for limit in (0, 101, -1):
        invalid(f"limit-{limit}", v, {"op": "history", "rid": 1, "ch": 12, "limit": limit}, None,
                "bad_limit", rid=1)
    invalid("limit-huge", v, {"op": "browse", "rid": 1, "limit": 2**63 - 1}, None, "bad_limit",
            rid=1)
    invalid("limit-text", v, {"op": "around", "rid": 1, "ch": 12, "seq": 5, "limit": "10"},
            None, "bad_frame", rid=1)
    invalid("before-and-after", v, {"op": "history", "rid": 1, "ch": 12, "before": 9,
                                    "after": 3}, None, "bad_frame", rid=1)
    invalid("hello-unsupported-version", v, {"op": "hello", "rid": 1, "v": 2}, None,
            "unsupported_version", rid=1, close=4400)
    invalid("hello-version-text", v, {"op": "hello", "rid": 1, "v": "1"}, None, "bad_frame",
            rid=1)
    invalid("hello-version-missing", v, {"op": "hello", "rid": 1}, None, "bad_frame", rid=1)
    invalid("hello-resume-not-pairs", v, {"op": "hello", "rid": 1, "v": 1, "resume": [[12]]},
            None, "bad_frame", rid=1)
    invalid("hello-resume-map", v, {"op": "hello", "rid": 1, "v": 1, "resume": {"12": 340}},
            None, "bad_frame", rid=1)
    invalid("hello-resume-duplicate-channel", v,
            {"op": "hello", "rid": 1, "v": 1, "resume": [[12, 340], [12, 341]]}, None,
            "bad_frame", rid=1)
    invalid("presence-state-unknown", v, {"op": "presence.set", "rid": 1, "state": "busy"},
            None, "bad_frame", rid=1)
    invalid("search-no-q", v, {"op": "search", "rid": 1}, None, "bad_frame", rid=1)
    invalid("search-order-unknown", v, {"op": "search", "rid": 1, "q": "x", "order": "oldest"},
            None, "bad_frame", rid=1)
    invalid("search-limit-0", v, {"op": "search", "rid": 1, "q": "x", "limit": 0}, None,
            "bad_limit", rid=1)
    invalid("send-mentions-empty", v, {"op": "send", "rid": 1, "ch": 12, "cid": CID, "body": "x",
                                       "mentions": []}, None, "bad_frame", rid=1)
    invalid("send-mentions-twice", v, {"op": "send", "rid": 1, "ch": 12, "cid": CID, "body": "x",
                                       "mentions": [8, 8]}, None, "bad_frame", rid=1)
    invalid("edit-blank", v, {"op": "edit", "rid": 1, "ch": 12, "seq": 340, "body": " \n"}, None,
            "empty_body", rid=1)
    invalid("edit-no-seq", v, {"op": "edit", "rid": 1, "ch": 12, "body": "x"}, None, "bad_frame", rid=1)
    invalid("dm.open-empty", v, {"op": "dm.open", "rid": 1, "users": []}, None, "bad_frame", rid=1)
    invalid("dm.open-nine-people", v, {"op": "dm.open", "rid": 1, "users": [f"u{i}" for i in range(8)]}, None,
            "bad_frame", rid=1)
    invalid("channel.notify-nothing-to-set", v, {"op": "channel.notify", "rid": 1, "ch": 12}, None,
            "bad_frame", rid=1)
    invalid("channel.notify-unknown-level", v, {"op": "channel.notify", "rid": 1, "ch": 12, "notify": "some"},
            None, "bad_frame", rid=1)
    # One byte over the frame limit: refused before decoding, the connection closes with 1009.
    body = "a" * (MAX_FRAME_BYTES - 100)
    while len(frame := cbor2.dumps({"op": "send", "rid": 1, "ch": 12, "cid": CID,
                                    "body": body})) <= MAX_FRAME_BYTES:
        body += "a"
    assert len(frame) == MAX_FRAME_BYTES + 1, len(frame)
    invalid("frame-too-large", v, frame, short_diag({"op": "send", "rid": 1, "ch": 12,
                                                     "cid": CID, "body": body})
            + f" (a frame of {len(frame)} bytes)", "too_large", close=1009)


USER = {"id": 7, "name": "alice", "display": "Alice"}
CHANNEL = {"id": 12, "name": "homelab", "description": "Racks, cables and regrets",
           "private": False, "role": "owner", "last_seq": 340, "read_seq": 338, "unread": 2,
           "mentions": 1, "notify": "mentions", "muted": False}
PRIVATE = {"id": 15, "name": "Garten", "description": "", "private": True, "role": "member",
           "last_seq": 0, "read_seq": 0, "unread": 0, "mentions": 0, "notify": "all", "muted": True}
# A direct message conversation (feature "dms"): its name is the other people's display names.
DM = {"id": 21, "name": "Bob B.", "description": "", "private": True, "role": "member", "last_seq": 4,
      "read_seq": 4, "unread": 0, "mentions": 0, "notify": "all", "muted": False,
      "dm": [{"id": 8, "name": "bob", "display": "Bob B."}]}
MESSAGE = {"ch": 12, "seq": 340, "id": 90210, "ts": 1764067200000, "user": 7, "name": "alice",
           "display": "Alice", "body": "rebooting the NAS ⏻", "cid": CID, "v": 1}
EDITED = {**MESSAGE, "body": "rebooting the NAS ⏻ @bob", "v": 2, "edited": 1764067230000, "mentions": [8]}
TOMBSTONE = {"ch": 12, "seq": 340, "id": 90210, "ts": 1764067200000, "user": 7, "name": "alice",
             "display": "Alice", "cid": CID, "v": 3, "deleted": True}
MEMBER = {"id": 8, "name": "bob", "display": "Bob B.", "role": "member"}


def s2c_valid() -> None:
    v = "s2c"
    valid("ok-hello", v, {"op": "ok", "rid": 1, "user": USER, "channels": [CHANNEL, PRIVATE],
                          "heartbeat_ms": 10000, "server_time": 1764067200123,
                          "limits": {"body_bytes": MAX_BODY_BYTES,
                                     "frame_bytes": MAX_FRAME_BYTES,
                                     "file_bytes": MAX_FILE_BYTES, "edit_secs": 900,
                                     "away_secs": 300},
                          "features": ["dms", "edits", "files", "mentions", "notify", "profile", "search"]})
    valid("ok-channels", v, {"op": "ok", "rid": 2, "channels": [CHANNEL]})
    valid("ok-channels-empty", v, {"op": "ok", "rid": 2, "channels": []})
    valid("ok-browse", v, {"op": "ok", "rid": 3, "channels": [
        {"id": 12, "name": "homelab", "description": "Racks, cables and regrets", "members": 4,
         "joined": True},
        {"id": 13, "name": "kitchen", "description": "", "members": 2, "joined": False}],
        "next": "b:kitchen"})
    valid("ok-browse-last-page", v, {"op": "ok", "rid": 4, "channels": []})
    valid("ok-channel", v, {"op": "ok", "rid": 5, "channel": CHANNEL})
    valid("ok-members", v, {"op": "ok", "rid": 10, "ch": 12,
                            "members": [{**USER, "role": "owner"}, MEMBER]})
    valid("ok-history", v, {"op": "ok", "rid": 14, "ch": 12, "messages": [MESSAGE],
                            "more": True})
    valid("ok-around", v, {"op": "ok", "rid": 16, "ch": 12, "messages": [MESSAGE],
                           "more_before": True, "more_after": False})
    valid("ok-search", v, {"op": "ok", "rid": 25, "count": 1000, "capped": True, "results": [
        {"ch": 12, "seq": 340, "id": 90210, "ts": 1764067200000, "user": 7, "name": "alice",
         "display": "Alice", "snippet": "the deploy failed: disk full", "hl": [[4, 6], [11, 6]]}],
        "next": "r.90210.1764067200000.1.61234.90210", "suggestions": []})
    valid("ok-search-none", v, {"op": "ok", "rid": 26, "count": 0, "capped": False, "results": [],
                                "suggestions": [
                                    {"kind": "spelling", "q": "deploy", "count": 12, "capped": False},
                                    {"kind": "without", "q": "deploy", "count": 3, "capped": False,
                                     "removed": "from:@bob"}]})
    valid("ok-empty", v, {"op": "ok", "rid": 8})
    valid("ok-read", v, {"op": "ok", "rid": 18, "seq": 340, "unread": 0, "mentions": 0, "last_seq": 342})
    valid("ok-edit", v, {"op": "ok", "rid": 28, "seq": 343, "v": 2})
    valid("ok-edit-unchanged", v, {"op": "ok", "rid": 28, "v": 2})
    valid("ok-versions", v, {"op": "ok", "rid": 31, "ch": 12, "seq": 340, "versions": [
        {"v": 1, "body": "rebooting the NAS ⏻", "ts": 1764067200000}]})
    valid("ok-users", v, {"op": "ok", "rid": 34, "users": [USER, {"id": 8, "name": "bob", "display": "Bob B."}]})
    valid("ok-dm", v, {"op": "ok", "rid": 32, "channel": DM})
    valid("error", v, {"op": "error", "rid": 7, "code": "not_member",
                       "message": "join the channel first"})
    valid("error-no-rid", v, {"op": "error", "code": "bad_frame",
                              "message": "invalid CBOR at byte 0: truncated item"})
    valid("error-retry", v, {"op": "error", "rid": 11, "code": "unavailable",
                             "message": "database unavailable", "retry": True})
    valid("error-name-taken", v, {"op": "error", "rid": 5, "code": "name_taken",
                                  "message": "a channel named homelab exists", "existing": 12})
    valid("ack", v, {"op": "ack", "rid": 11, "ch": 12, "seq": 341, "id": 90211,
                     "ts": 1764067201000})
    valid("msg", v, {"op": "msg", **MESSAGE})
    valid("msg-files", v, {"op": "msg", **{k: x for k, x in MESSAGE.items() if k != "v"}, "body": "", "files": [
        {"id": FILE_ID, "name": "rack 🖥️.jpg", "size": 2682616, "type": "image/jpeg",
         "kind": "image", "w": 4000, "h": 3000},
        {"id": FILE_ID_2, "name": "manual.pdf", "size": 48213, "type": "application/pdf",
         "kind": "file"}], "v": 1})
    valid("error-file-not-found", v, {"op": "error", "rid": 25, "code": "file_not_found",
                                      "message": "file 'm3Y1b2t8Q0qW9cXz4H7a2g' is not a finished upload of yours"})
    valid("storage-low", v, {"op": "storage", "state": "low", "free_bytes": 524288000,
                             "reserve_bytes": 1073741824})
    valid("storage-ok", v, {"op": "storage", "state": "ok", "free_bytes": 52428800000,
                            "reserve_bytes": 1073741824})
    valid("msg-edited", v, {"op": "msg", **EDITED})
    valid("msg-tombstone", v, {"op": "msg", **TOMBSTONE})
    valid("msg.changed", v, {"op": "msg.changed", "ch": 12, "seq": 343, "message": EDITED})
    valid("msg.changed-deleted", v, {"op": "msg.changed", "ch": 12, "seq": 344, "message": TOMBSTONE})
    valid("counts", v, {"op": "counts", "ch": 12, "seq": 343, "unread": 2, "mentions": 1, "mention": 340})
    valid("counts-cleared", v, {"op": "counts", "ch": 12, "seq": 344, "unread": 1, "mentions": 0})
    valid("read-counts", v, {"op": "read", "ch": 12, "seq": 340, "unread": 0, "mentions": 0, "last_seq": 342})
    valid("channel.updated", v, {"op": "channel.updated", "channel": PRIVATE})
    valid("user.updated", v, {"op": "user.updated", "user": {"id": 8, "name": "bob", "display": "Bobby"}})
    valid("caughtup", v, {"op": "caughtup", "ch": 12, "seq": 340})
    valid("resync", v, {"op": "resync", "ch": 15, "seq": 9001})
    valid("channel.added", v, {"op": "channel.added", "channel": PRIVATE})
    valid("channel.removed", v, {"op": "channel.removed", "ch": 15})
    valid("member.joined", v, {"op": "member.joined", "ch": 12, "member": MEMBER})
    valid("member.left", v, {"op": "member.left", "ch": 12, "user": 8})
    valid("read", v, {"op": "read", "ch": 12, "seq": 340})
    valid("typing", v, {"op": "typing", "ch": 12, "user": 8, "display": "Bob B."})
    for state in ("online", "away", "offline"):
        valid(f"presence-{state}", v, {"op": "presence", "user": 8, "state": state})
    valid("session.expired", v, {"op": "session.expired", "reason": "logged out"})


def s2c_invalid() -> None:
    v = "s2c"
    caughtup = cbor2.dumps({"op": "caughtup", "ch": 12, "seq": 340})
    invalid("trailing-bytes", v, caughtup + b"\xf6",
            '{"op": "caughtup", "ch": 12, "seq": 340}, null', "bad_frame")
    invalid("tag", v, b"\xd9\xd9\xf7" + caughtup, '55799({"op": "caughtup", "ch": 12, "seq": 340})',
            "bad_frame")
    invalid("indefinite-array", v, bytes.fromhex("a2626f7066726573796e63") + cbor2.dumps("x")
            + b"\x9f\x01\xff", '{"op": "resync", "x": [_ 1]}', "bad_frame")
    invalid("duplicate-key", v, bytes.fromhex("a2626f7066726573796e63626f7066726573796e63"),
            '{"op": "resync", "op": "resync"}', "bad_frame")
    invalid("not-a-map", v, cbor2.dumps(["msg"]), '["msg"]', "bad_frame")
    invalid("no-op", v, {"ch": 12, "seq": 340}, None, "bad_frame")
    invalid("truncated", v, caughtup[:-2], '{"op": "caughtup", "ch": 12, "seq": <missing>',
            "bad_frame")


def build() -> list[dict[str, Any]]:
    VECTORS.clear()
    c2s_valid()
    c2s_invalid()
    s2c_valid()
    s2c_invalid()
    names = [(x["direction"], x["name"]) for x in VECTORS]
    assert len(names) == len(set(names)), "vector names must be unique per direction"
    return list(VECTORS)


def render() -> str:
    """The text of vectors.json."""
    return json.dumps(build(), indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    out = HERE / "vectors.json"
    out.write_text(render(), encoding="utf-8")
    print(f"wrote {len(VECTORS)} vectors to {out}", file=sys.stderr)
