"""Checks of client frame fields shared by the op parsers: each returns the value, narrowed to
its type, or raises the ``ProtocolError`` the request gets (with its rid). Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from chatd.wire.cbor import CBORValue
from chatd.wire.client_frames import MAX_LIMIT
from chatd.wire.errors import BAD_FRAME, BAD_LIMIT, ProtocolError, clip

#: Ids, seqs, rids and times are below 2**53 so that JavaScript numbers hold them exactly.
MAX_SAFE_INT: Final = 2**53 - 1


def bad(message: str, rid: int | None) -> ProtocolError:
    return ProtocolError(BAD_FRAME, message, rid)


_TYPE_NAMES: Final[Mapping[type, str]] = {
    bool: "bool", float: "float", str: "text", bytes: "bytes", list: "array", dict: "map",
    type(None): "null",
}


def describe(value: CBORValue) -> str:
    """Name what a field held, for error messages (integers are at most 20 digits)."""
    if type(value) is int:
        return f"integer {value}"
    return _TYPE_NAMES[type(value)]


def field_uint(m: dict[str, CBORValue], key: str, op: str, rid: int) -> int:
    value = m[key]
    # type() rather than isinstance: a CBOR true is a Python bool, which isinstance calls an int.
    if type(value) is int and 0 <= value <= MAX_SAFE_INT:
        return value
    raise bad(f"{op}.{key} must be an unsigned integer below 2^53, not {describe(value)}", rid)


def field_text(m: dict[str, CBORValue], key: str, op: str, rid: int) -> str:
    value = m[key]
    if type(value) is not str:
        raise bad(f"{op}.{key} must be a text string, not {describe(value)}", rid)
    if "\x00" in value:  # PostgreSQL cannot store it; refused here, where it is not retryable
        raise bad(f"{op}.{key} contains U+0000, which is not allowed in text", rid)
    return value


def field_bool(m: dict[str, CBORValue], key: str, op: str, rid: int) -> bool:
    value = m[key]
    if type(value) is bool:
        return value
    raise bad(f"{op}.{key} must be true or false, not {describe(value)}", rid)


def field_limit(m: dict[str, CBORValue], op: str, rid: int) -> int:
    value = m["limit"]
    if type(value) is not int:
        raise bad(f"{op}.limit must be an integer, not {describe(value)}", rid)
    if not 1 <= value <= MAX_LIMIT:
        raise ProtocolError(BAD_LIMIT, f"{op}.limit must be 1..{MAX_LIMIT}, not {value}", rid)
    return value


def check_keys(m: dict[str, CBORValue], op: str, rid: int, required: tuple[str, ...],
          allowed: frozenset[str]) -> None:
    """Refuse missing required fields and fields the op does not define."""
    for key in required:
        if key not in m:
            raise bad(f"{op}: missing field {key!r}", rid)
    if len(m) > len(required) + 2:  # +2: op and rid, already checked
        for key in m:
            if key not in allowed:
                raise bad(f"{op}: unknown field {clip(key)!r}", rid)


def allowed_keys(*keys: str) -> frozenset[str]:
    return frozenset(("op", "rid", *keys))
