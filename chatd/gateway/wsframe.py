"""RFC 6455 for the server side, pure (no I/O, no Trio): the upgrade handshake and the frames.

What chatd needs and nothing more: the opening handshake's checks and its 101 answer (no
extensions — permessage-deflate is not offered — and no subprotocol), masked client frames
reassembled into messages (fragmentation, control frames interleaved), unmasked server frames
built in one piece, and the close handshake's payloads. Every violation is a ``WSError`` carrying
the close code it calls for; a message larger than the limit is refused from its frame header,
before its payload is read (1009).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Final

OP_CONTINUATION: Final = 0x0
OP_TEXT: Final = 0x1
OP_BINARY: Final = 0x2
OP_CLOSE: Final = 0x8
OP_PING: Final = 0x9
OP_PONG: Final = 0xA
_DATA_OPS = (OP_TEXT, OP_BINARY)
_CONTROL_OPS = (OP_CLOSE, OP_PING, OP_PONG)

CLOSE_NORMAL: Final = 1000
CLOSE_PROTOCOL: Final = 1002  # a frame that breaks RFC 6455
CLOSE_NO_STATUS: Final = 1005  # the peer's close frame had no code (never sent on the wire)
CLOSE_INVALID_DATA: Final = 1007  # a close reason that is not UTF-8
CLOSE_TOO_BIG: Final = 1009

CONTROL_PAYLOAD_MAX: Final = 125  # RFC 6455 §5.5
_GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3


class WSError(Exception):
    """The peer broke the protocol: close the connection with ``code``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


# --- events a FrameReader yields ---


@dataclass(frozen=True, slots=True)
class Message:
    """A whole data message (fragments joined); ``text`` for opcode 1, else binary."""

    data: bytes
    text: bool


@dataclass(frozen=True, slots=True)
class Ping:
    payload: bytes


@dataclass(frozen=True, slots=True)
class Pong:
    payload: bytes


@dataclass(frozen=True, slots=True)
class Close:
    """The peer's close frame: its code (1005 if it gave none) and reason."""

    code: int
    reason: str


Event = Message | Ping | Pong | Close


# --- server frames ---


def frame_header(opcode: int, length: int) -> bytes:
    """The header of one unmasked, final server frame of ``length`` payload bytes."""
    first = 0x80 | opcode
    if length < 126:
        return bytes((first, length))
    if length < 1 << 16:
        return bytes((first, 126)) + length.to_bytes(2, "big")
    return bytes((first, 127)) + length.to_bytes(8, "big")


def binary_frame(payload: bytes) -> bytes:
    """One binary server message, header and payload in one piece (one TLS record run)."""
    return frame_header(OP_BINARY, len(payload)) + payload


def close_payload(code: int, reason: str) -> bytes:
    """A close frame's payload: the code, then the reason cut to fit 125 bytes on a character."""
    data = reason.encode()[: CONTROL_PAYLOAD_MAX - 2]
    return code.to_bytes(2, "big") + data.decode(errors="ignore").encode()


def close_frame(code: int, reason: str = "") -> bytes:
    payload = close_payload(code, reason)
    return frame_header(OP_CLOSE, len(payload)) + payload


def pong_frame(payload: bytes) -> bytes:
    return frame_header(OP_PONG, len(payload)) + payload


PING_FRAME: Final = frame_header(OP_PING, 0)  # the heartbeat's ping: the same 2 bytes for every socket


def unmask(data: bytes, mask: bytes) -> bytes:
    """XOR ``data`` with the 4-byte ``mask`` repeated (one big-integer XOR, no Python loop)."""
    n = len(data)
    if n == 0:
        return b""
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(key, "little")).to_bytes(n, "little")


def _close_code_ok(code: int) -> bool:
    """Codes a peer may send (RFC 6455 §7.4, and the IANA registry's 1012–1014)."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def parse_close(payload: bytes) -> Close:
    """The peer's close frame payload as a ``Close``; a malformed one is a ``WSError``."""
    if not payload:
        return Close(CLOSE_NO_STATUS, "")
    if len(payload) == 1:
        raise WSError(CLOSE_PROTOCOL, "close frame with a 1-byte payload")
    code = int.from_bytes(payload[:2], "big")
    if not _close_code_ok(code):
        raise WSError(CLOSE_PROTOCOL, f"invalid close code {code}")
    try:
        reason = payload[2:].decode()
    except UnicodeDecodeError:
        raise WSError(CLOSE_INVALID_DATA, "close reason is not UTF-8") from None
    return Close(code, reason)


# --- client frames ---


class FrameReader:
    """Client frames in, events out. Feed bytes as they arrive; ``next_event`` returns the next
    whole event or None (more bytes needed). ``max_message_bytes`` bounds a data message (all
    its fragments): a header announcing more is refused at once, its payload never buffered."""

    def __init__(self, max_message_bytes: int) -> None:
        self.max_message_bytes = max_message_bytes
        self._buf = bytearray()
        self._pos = 0  # bytes of _buf already consumed
        self._parts: list[bytes] = []  # fragments of the data message being assembled
        self._parts_len = 0
        self._text = False
        self._in_message = False

    def feed(self, data: bytes) -> None:
        if self._pos == len(self._buf):  # all consumed: start afresh (no capacity kept)
            self._buf, self._pos = bytearray(data), 0
            return
        if self._pos:
            del self._buf[: self._pos]
            self._pos = 0
        self._buf += data

    def next_event(self) -> Event | None:
        """The next event, or None until more bytes are fed. Raises ``WSError``."""
        while True:
            frame = self._next_frame()
            if frame is None:
                return None
            fin, opcode, payload = frame
            if opcode == OP_PING:
                return Ping(payload)
            if opcode == OP_PONG:
                return Pong(payload)
            if opcode == OP_CLOSE:
                return parse_close(payload)
            if opcode != OP_CONTINUATION:
                self._in_message, self._text = True, opcode == OP_TEXT
            self._parts.append(payload)
            self._parts_len += len(payload)
            if fin:
                data = self._parts[0] if len(self._parts) == 1 else b"".join(self._parts)
                text = self._text
                self._parts, self._parts_len, self._in_message = [], 0, False
                return Message(data, text)

    def _next_frame(self) -> tuple[bool, int, bytes] | None:
        buf, pos = self._buf, self._pos
        avail = len(buf) - pos
        if avail < 2:
            return None
        b0, b1 = buf[pos], buf[pos + 1]
        fin, opcode = bool(b0 & 0x80), b0 & 0x0F
        if b0 & 0x70:
            raise WSError(CLOSE_PROTOCOL, "reserved bits set (no extension was negotiated)")
        if not b1 & 0x80:
            raise WSError(CLOSE_PROTOCOL, "client frames must be masked")
        length, at = b1 & 0x7F, 2
        if length == 126:
            if avail < 4:
                return None
            length, at = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
        elif length == 127:
            if avail < 10:
                return None
            length, at = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
            if length >> 63:
                raise WSError(CLOSE_PROTOCOL, "frame length with its top bit set")
        self._check_header(fin, opcode, length)
        if avail < at + 4 + length:
            return None
        start = pos + at + 4
        payload = unmask(bytes(buf[start : start + length]), bytes(buf[pos + at : start]))
        self._pos = start + length
        return fin, opcode, payload

    def _check_header(self, fin: bool, opcode: int, length: int) -> None:
        """Refuse a frame from its header alone (before its payload is read)."""
        if opcode in _CONTROL_OPS:
            if not fin:
                raise WSError(CLOSE_PROTOCOL, "fragmented control frame")
            if length > CONTROL_PAYLOAD_MAX:
                raise WSError(CLOSE_PROTOCOL, "control frame over 125 bytes")
            return
        if opcode == OP_CONTINUATION:
            if not self._in_message:
                raise WSError(CLOSE_PROTOCOL, "continuation frame without a message to continue")
        elif opcode in _DATA_OPS:
            if self._in_message:
                raise WSError(CLOSE_PROTOCOL, "new message before the previous one ended")
        else:
            raise WSError(CLOSE_PROTOCOL, f"unknown opcode {opcode:#x}")
        if self._parts_len + length > self.max_message_bytes:
            raise WSError(CLOSE_TOO_BIG, "message too big")


# --- the opening handshake ---


@dataclass(frozen=True, slots=True)
class RequestHead:
    """An HTTP/1.x request line and headers (names lower-cased, values as sent, in order)."""

    method: str
    target: str
    version: str
    headers: tuple[tuple[str, str], ...]

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (lower-case), or None."""
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def tokens(self, name: str) -> set[str]:
        """Comma-separated tokens of every ``name`` header, lower-cased."""
        return {t.strip().lower() for k, v in self.headers if k == name for t in v.split(",")}

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


def parse_request_head(head: bytes) -> RequestHead | None:
    """The request line and headers of ``head`` (up to and without the blank line); None if it
    is not a well-formed HTTP/1.x request head."""
    try:
        text = head.decode("latin-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
        return None
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        return None
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            return None
        headers.append((name.lower(), value.strip(" \t")))
    return RequestHead(parts[0], parts[1], parts[2], tuple(headers))


def is_upgrade(head: RequestHead) -> bool:
    """True iff the request asks to become a WebSocket (then ``check_handshake`` decides)."""
    return "websocket" in head.tokens("upgrade")


def check_handshake(head: RequestHead) -> str:
    """The ``Sec-WebSocket-Accept`` value for a valid opening handshake (RFC 6455 §4.2.1);
    ``WSError`` (code = HTTP status 400 or 426) otherwise."""
    if head.method != "GET" or head.version != "HTTP/1.1":
        raise WSError(400, "a WebSocket handshake is a GET over HTTP/1.1")
    if "upgrade" not in head.tokens("connection") or not is_upgrade(head):
        raise WSError(400, "missing Connection: upgrade / Upgrade: websocket")
    if head.header("sec-websocket-version") != "13":
        raise WSError(426, "unsupported WebSocket version (13 only)")
    key = head.header("sec-websocket-key") or ""
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            raise ValueError
    except ValueError:
        raise WSError(400, "bad Sec-WebSocket-Key") from None
    return base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()


def accept_response(accept: str) -> bytes:
    """The 101 answer: no extension, no subprotocol."""
    return (
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
    ).encode()


_REASONS = {
    400: "Bad Request", 403: "Forbidden", 426: "Upgrade Required", 429: "Too Many Requests",
    503: "Service Unavailable",
}


def refusal_response(
    status: int, body: bytes, content_type: str = "application/json", headers: tuple[tuple[str, str], ...] = ()
) -> bytes:
    """An HTTP answer refusing the upgrade (with ``headers`` besides the usual ones); the
    connection closes after it."""
    extra = "Sec-WebSocket-Version: 13\r\n" if status == 426 else ""
    extra += "".join(f"{name}: {value}\r\n" for name, value in headers)
    return (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\ncontent-type: {content_type}\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n{extra}\r\n"
    ).encode() + body
