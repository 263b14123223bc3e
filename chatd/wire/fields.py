"""Checks of client frame fields shared by the op parsers: each returns the value, narrowed to
its type, or raises the ``ProtocolError`` the request gets (with its rid). Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from chatd.wire.cbor import CBORValue
from chatd.wire.client_frames import MAX_LIMIT
from chatd.wire.errors import BAD_FRAME, BAD_LIMIT, EMPTY_BODY, TOO_LARGE, ProtocolError, clip

#: Ids, seqs, rids and times are below 2**53 so that JavaScript numbers hold them exactly.
MAX_SAFE_INT: Final = 2**53 - 1
#: The characters of the Unicode White_Space property: a body of only these is empty. Spelled
#: out (rather than str.isspace, which also counts U+001C..U+001F) so every client can match it.
WHITE_SPACE: Final = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


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


def field_body(m: dict[str, CBORValue], op: str, rid: int, max_body: int, may_be_blank: bool) -> str:
    """A message body: text of at most ``max_body`` UTF-8 bytes, not only white space unless
    ``may_be_blank`` (a message that carries files)."""
    body = field_text(m, "body", op, rid)
    # A character is 1 to 4 UTF-8 bytes: encode only when the length alone does not decide.
    if len(body) > max_body or (len(body) * 4 > max_body and len(body.encode("utf-8")) > max_body):
        raise ProtocolError(TOO_LARGE, f"message body is longer than {max_body} UTF-8 bytes", rid)
    if not may_be_blank and not body.strip(WHITE_SPACE):
        raise ProtocolError(EMPTY_BODY, "message body is empty", rid)
    return body


def field_ids(m: dict[str, CBORValue], key: str, op: str, rid: int, most: int) -> tuple[int, ...]:
    """An array of 1 to ``most`` distinct uint53 ids."""
    value = m[key]
    if type(value) is not list or not 1 <= len(value) <= most:
        got = f"{len(value)} items" if type(value) is list else describe(value)
        raise bad(f"{op}.{key} must be an array of 1 to {most} ids, not {got}", rid)
    if not all(type(x) is int and 0 <= x <= MAX_SAFE_INT for x in value):
        raise bad(f"{op}.{key} items must be unsigned integers below 2^53", rid)
    ids = tuple(x for x in value if type(x) is int)
    if len(set(ids)) != len(ids):
        raise bad(f"{op}.{key} lists an id twice", rid)
    return ids
