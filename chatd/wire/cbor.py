"""Strict CBOR (RFC 8949) for chatd frames: a decoder for the allowed subset, and the encoder.

The decoder is our own rather than ``cbor2.loads`` because a frame must be exactly one item of
the allowed subset, and ``cbor2.loads`` silently ignores trailing bytes, accepts tags, indefinite
lengths, undefined and simple values, non-text and duplicate map keys. Checking that afterwards
would mean walking every value twice; a small decoder over the bytes refuses them on the way.

Allowed: integers within int64, byte strings, text strings (valid UTF-8), arrays, maps whose keys
are text strings (no duplicates), false/true/null, and half/single/double floats — all of
definite length, nested at most :data:`MAX_DEPTH` containers deep. Arguments (lengths, integer
values) need not use the shortest encoding (RFC 8949 calls that well-formed); our encoder always
writes the shortest one.

Encoding goes through cbor2's C encoder (about 1.5 µs for a chat message), which writes exactly
the allowed subset for the Python types :data:`CBORValue` names, with map keys in insertion order.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Final, TypeAlias

import cbor2

from chatd.wire.errors import BAD_FRAME, ProtocolError, clip

#: A decoded CBOR value of the allowed subset.
CBORValue: TypeAlias = (
    int | float | str | bytes | bool | list["CBORValue"] | dict[str, "CBORValue"] | None
)

#: At most this many containers nested inside each other (the top-level map counts as one).
MAX_DEPTH: Final = 16
INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1

_u16 = struct.Struct(">H").unpack_from
_u32 = struct.Struct(">I").unpack_from
_u64 = struct.Struct(">Q").unpack_from
_f16 = struct.Struct(">e").unpack_from
_f32 = struct.Struct(">f").unpack_from
_f64 = struct.Struct(">d").unpack_from

_MAJOR_NAMES: Final = ("unsigned integer", "negative integer", "byte string", "text string",
                       "array", "map", "tag", "simple value or float")
_WITH_ARTICLE: Final = tuple(("an " if n[0] in "aeiou" else "a ") + n for n in _MAJOR_NAMES)


class _Truncated(Exception):
    """Internal: the item runs past the end of the buffer."""


def _bad(message: str, pos: int) -> ProtocolError:
    return ProtocolError(BAD_FRAME, f"invalid CBOR at byte {pos}: {message}")


def decode_item(data: bytes | bytearray | memoryview, *, max_depth: int = MAX_DEPTH) -> CBORValue:
    """Decode ``data`` as exactly one CBOR item of the allowed subset.

    Pure and non-blocking. Raises :class:`ProtocolError` with code ``bad_frame`` and a message
    naming the byte offset and the reason for anything else: malformed or truncated input,
    bytes after the item, or an item outside the subset. Never raises anything else.
    """
    return _decode_items(data, max_depth, single=True)[0]


def decode_sequence(data: bytes | bytearray | memoryview, *, max_depth: int = MAX_DEPTH) -> list[CBORValue]:
    """Decode ``data`` as a CBOR sequence (RFC 8742): one or more whole items, back to back.

    The same strictness as :func:`decode_item` for every item; an empty input, or one ending
    inside an item, raises :class:`ProtocolError` (``bad_frame``).
    """
    return _decode_items(data, max_depth, single=False)


def _decode_items(data: bytes | bytearray | memoryview, max_depth: int, single: bool) -> list[CBORValue]:
    if type(data) is not bytes:
        data = bytes(data)
    if not data:
        raise _bad("empty input", 0)
    items: list[CBORValue] = []
    pos = 0
    while pos < len(data):
        if single and items:
            raise _bad(f"{len(data) - pos} trailing byte(s) after the item", pos)
        try:
            value, pos = _decode(data, pos, 0, max_depth)
        except (_Truncated, IndexError, struct.error):
            raise _bad("truncated item", len(data)) from None
        items.append(value)
    return items


def _decode(data: bytes, pos: int, depth: int, max_depth: int) -> tuple[CBORValue, int]:
    """Decode one item starting at ``pos``; return it and the offset just past it.

    ``depth`` is the number of containers enclosing this item. Running off the end of ``data``
    surfaces as IndexError, struct.error or _Truncated, turned into one message by the caller.
    """
    start = pos
    ib = data[pos]
    major = ib >> 5
    ai = ib & 0x1F
    pos += 1

    if major == 7:
        # Simple values and floats: the additional information is not a length.
        if ai == 20:
            return False, pos
        if ai == 21:
            return True, pos
        if ai == 22:
            return None, pos
        if ai == 25:
            return _f16(data, pos)[0], pos + 2
        if ai == 26:
            return _f32(data, pos)[0], pos + 4
        if ai == 27:
            return _f64(data, pos)[0], pos + 8
        if ai == 23:
            raise _bad("undefined is not allowed", start)
        if ai < 20:
            raise _bad(f"simple value {ai} is not allowed", start)
        if ai == 24:
            value = data[pos]
            if value < 32:
                raise _bad(f"simple value {value} in two bytes is malformed", start)
            raise _bad(f"simple value {value} is not allowed", start)
        if ai == 31:
            raise _bad("break outside an indefinite-length item", start)
        raise _bad(f"reserved additional information {ai}", start)

    # The argument: a value, a length or a count.
    if ai < 24:
        arg = ai
    elif ai == 24:
        arg = data[pos]
        pos += 1
    elif ai == 25:
        arg = _u16(data, pos)[0]
        pos += 2
    elif ai == 26:
        arg = _u32(data, pos)[0]
        pos += 4
    elif ai == 27:
        arg = _u64(data, pos)[0]
        pos += 8
    elif ai == 31:
        if 2 <= major <= 5:
            raise _bad(f"indefinite-length {_MAJOR_NAMES[major]} is not allowed", start)
        raise _bad(f"{_MAJOR_NAMES[major]} with indefinite length is malformed", start)
    else:
        raise _bad(f"reserved additional information {ai}", start)

    if major == 3:
        end = pos + arg
        if end > len(data):
            raise _Truncated
        try:
            return data[pos:end].decode("utf-8"), end
        except UnicodeDecodeError as exc:
            raise _bad(f"text string is not valid UTF-8 ({exc.reason})", start) from None
    if major == 0:
        if arg > INT64_MAX:
            raise _bad("unsigned integer outside the int64 range", start)
        return arg, pos
    if major == 5:
        if depth >= max_depth:
            raise _bad(f"containers nested deeper than {max_depth}", start)
        # Every entry needs at least two bytes: refuse a huge count before looping on it.
        if arg > (len(data) - pos) >> 1:
            raise _Truncated
        result: dict[str, CBORValue] = {}
        depth += 1
        size = len(data)
        for _ in range(arg):
            key_start = pos
            kb = data[pos]
            if 0x60 <= kb < 0x78:  # text key shorter than 24 bytes: inline, the common case
                pos += 1
                end = pos + (kb & 0x1F)
                if end > size:
                    raise _Truncated
                try:
                    key: CBORValue = data[pos:end].decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise _bad(f"text string is not valid UTF-8 ({exc.reason})", key_start) from None
                pos = end
            elif kb >> 5 == 3:
                key, pos = _decode(data, pos, depth, max_depth)
            else:
                raise _bad(
                    f"map key is {_WITH_ARTICLE[kb >> 5]}; only text keys are allowed", key_start
                )
            assert isinstance(key, str)
            if key in result:
                raise _bad(f"duplicate map key {clip(key)!r}", key_start)
            vb = data[pos]
            if vb < 0x18:  # small unsigned integer: inline, the other common case
                result[key] = vb
                pos += 1
            else:
                result[key], pos = _decode(data, pos, depth, max_depth)
        return result, pos
    if major == 2:
        end = pos + arg
        if end > len(data):
            raise _Truncated
        return data[pos:end], end
    if major == 4:
        if depth >= max_depth:
            raise _bad(f"containers nested deeper than {max_depth}", start)
        if arg > len(data) - pos:
            raise _Truncated
        items: list[CBORValue] = []
        depth += 1
        for _ in range(arg):
            item, pos = _decode(data, pos, depth, max_depth)
            items.append(item)
        return items, pos
    if major == 1:
        if arg > INT64_MAX:
            raise _bad("negative integer outside the int64 range", start)
        return -1 - arg, pos
    # major == 6
    raise _bad(f"tag {arg} is not allowed (no tags in frames)", start)


_dumps = cbor2.dumps


def encode_item(value: object) -> bytes:
    """Encode one value (of the types :data:`CBORValue` names; tuples become arrays).

    Pure. Definite lengths, shortest integer and length encodings, floats as doubles, map keys
    in insertion order. The caller keeps to the allowed subset: integers within int64, text map
    keys; other Python types (datetime, set, big integers) would produce tags, which decoders
    refuse.
    """
    return _dumps(value)


def encode_map(value: Mapping[str, object]) -> bytes:
    """Encode a map with text keys, in insertion order; see :func:`encode_item`."""
    return _dumps(value)
