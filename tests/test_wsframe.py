"""The RFC 6455 codec (chatd.gateway.wsframe): pure, no event loop."""

from __future__ import annotations

import base64
import os

import pytest
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, BytesMessage, CloseConnection, Request
from wsproto.events import Ping as WPing

from chatd.gateway import wsframe
from chatd.gateway.wsframe import Close, FrameReader, Message, Ping, Pong, WSError

LIMIT = 65536


def client_frame(opcode: int, payload: bytes, *, fin: bool = True, mask: bytes | None = None, rsv: int = 0,
                 length: int | None = None) -> bytes:
    """One client frame, masked unless ``mask=b""``; ``length`` overrides the announced length."""
    n = len(payload) if length is None else length
    head = bytearray([(0x80 if fin else 0) | rsv | opcode])
    masked = mask != b""
    bit = 0x80 if masked else 0
    if n < 126:
        head.append(bit | n)
    elif n < 1 << 16:
        head += bytes([bit | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([bit | 127]) + n.to_bytes(8, "big")
    if not masked:
        return bytes(head) + payload
    key = mask or os.urandom(4)
    return bytes(head) + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def events(data: bytes, limit: int = LIMIT) -> list[wsframe.Event]:
    reader = FrameReader(limit)
    reader.feed(data)
    out = []
    while (event := reader.next_event()) is not None:
        out.append(event)
    return out


# --- every opcode ---


def test_binary_text_ping_pong_close() -> None:
    data = (client_frame(0x2, b"\x01\x02") + client_frame(0x1, "héllo".encode()) + client_frame(0x9, b"p")
            + client_frame(0xA, b"q") + client_frame(0x8, (1000).to_bytes(2, "big") + b"bye"))
    assert events(data) == [Message(b"\x01\x02", False), Message("héllo".encode(), True), Ping(b"p"), Pong(b"q"),
                            Close(1000, "bye")]


def test_empty_close_is_1005_and_empty_binary_is_a_message() -> None:
    assert events(client_frame(0x2, b"") + client_frame(0x8, b"")) == [Message(b"", False), Close(1005, "")]


@pytest.mark.parametrize("opcode", [0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF])
def test_reserved_opcodes_are_1002(opcode: int) -> None:
    with pytest.raises(WSError) as exc:
        events(client_frame(opcode, b"x"))
    assert exc.value.code == 1002


# --- masking ---


def test_unmasked_client_frame_is_1002() -> None:
    with pytest.raises(WSError) as exc:
        events(client_frame(0x2, b"abc", mask=b""))
    assert exc.value.code == 1002


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 125, 126, 127, 65535, 65536])
def test_unmask_matches_the_byte_by_byte_definition(size: int) -> None:
    payload, key = os.urandom(size), os.urandom(4)
    assert wsframe.unmask(payload, key) == bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    assert events(client_frame(0x2, payload, mask=key), limit=1 << 20) == [Message(payload, False)]


# --- fragmentation, control frames interleaved ---


def test_fragments_are_joined_with_control_frames_in_between() -> None:
    data = (client_frame(0x2, b"ab", fin=False) + client_frame(0x9, b"1") + client_frame(0x0, b"cd", fin=False)
            + client_frame(0xA, b"") + client_frame(0x0, b"ef"))
    assert events(data) == [Ping(b"1"), Pong(b""), Message(b"abcdef", False)]


def test_byte_by_byte_feeding_gives_the_same_events() -> None:
    data = client_frame(0x1, b"x" * 300, fin=False) + client_frame(0x0, b"y" * 70000) + client_frame(0x9, b"z")
    reader, got = FrameReader(1 << 20), []
    for i in range(len(data)):
        reader.feed(data[i : i + 1])
        while (event := reader.next_event()) is not None:
            got.append(event)
    assert got == [Message(b"x" * 300 + b"y" * 70000, True), Ping(b"z")]


@pytest.mark.parametrize(("data", "why"), [
    (client_frame(0x0, b"x"), "continuation without a message"),
    (client_frame(0x2, b"a", fin=False) + client_frame(0x2, b"b"), "new message inside a fragmented one"),
    (client_frame(0x9, b"p", fin=False), "fragmented control frame"),
    (client_frame(0x9, b"p" * 126), "control frame over 125 bytes"),
    (client_frame(0x2, b"x", rsv=0x40), "RSV1 without permessage-deflate"),
    (client_frame(0x2, b"x", rsv=0x20), "RSV2"),
    (client_frame(0x8, b"\x03"), "close with a 1-byte payload"),
    (client_frame(0x8, (1005).to_bytes(2, "big")), "close code 1005 on the wire"),
    (client_frame(0x8, (999).to_bytes(2, "big")), "close code below 1000"),
    (client_frame(0x8, (5000).to_bytes(2, "big")), "close code above 4999"),
    (bytes([0x82, 0xFF]) + (1 << 63).to_bytes(8, "big"), "64-bit length with the top bit"),
])
def test_malformed_frames_are_1002(data: bytes, why: str) -> None:
    with pytest.raises(WSError) as exc:
        events(data)
    assert exc.value.code == 1002, why


def test_close_reason_not_utf8_is_1007() -> None:
    with pytest.raises(WSError) as exc:
        events(client_frame(0x8, (1000).to_bytes(2, "big") + b"\xff"))
    assert exc.value.code == 1007


# --- the size limit: from the header, before the payload ---


def test_a_message_over_the_limit_is_1009_from_its_header_alone() -> None:
    header_only = client_frame(0x2, b"", length=LIMIT + 1)  # the header alone: no payload bytes
    with pytest.raises(WSError) as exc:
        events(header_only)
    assert exc.value.code == 1009


def test_fragments_count_towards_the_limit() -> None:
    ok = client_frame(0x2, b"a" * (LIMIT - 10), fin=False) + client_frame(0x0, b"b" * 10)
    assert events(ok) == [Message(b"a" * (LIMIT - 10) + b"b" * 10, False)]
    over = client_frame(0x2, b"a" * (LIMIT - 10), fin=False) + client_frame(0x0, b"b" * 11)
    with pytest.raises(WSError) as exc:
        events(over)
    assert exc.value.code == 1009


def test_exactly_the_limit_passes() -> None:
    assert events(client_frame(0x2, b"z" * LIMIT)) == [Message(b"z" * LIMIT, False)]


# --- server frames, read back by another implementation (wsproto as a client) ---


def _wsproto_client() -> tuple[WSConnection, bytes]:
    client = WSConnection(ConnectionType.CLIENT)
    request = client.send(Request(host="chat.example", target="/ws"))
    return client, request


def test_handshake_is_accepted_by_wsproto_and_frames_read_back() -> None:
    client, request = _wsproto_client()
    head = wsframe.parse_request_head(request.split(b"\r\n\r\n")[0])
    assert head is not None and head.path == "/ws" and wsframe.is_upgrade(head)
    response = wsframe.accept_response(wsframe.check_handshake(head))
    assert b"permessage-deflate" not in response and b"Sec-WebSocket-Extensions" not in response
    big = os.urandom(70000)
    client.receive_data(response + wsframe.binary_frame(b"\x01") + wsframe.binary_frame(big) + wsframe.PING_FRAME
                        + wsframe.binary_frame(b"x" * 200) + wsframe.close_frame(4008, "slow consumer"))
    got = list(client.events())
    assert isinstance(got[0], AcceptConnection)
    assert [e.data for e in got if isinstance(e, BytesMessage)] == [b"\x01", big, b"x" * 200]
    assert any(isinstance(e, WPing) for e in got)
    close = got[-1]
    assert isinstance(close, CloseConnection) and (close.code, close.reason) == (4008, "slow consumer")


def test_rfc_example_accept_value() -> None:
    head = wsframe.parse_request_head(
        b"GET /ws HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13")
    assert head is not None
    assert wsframe.check_handshake(head) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455 §1.3


@pytest.mark.parametrize(("change", "status"), [
    (lambda h: h.replace(b"GET", b"POST"), 400),
    (lambda h: h.replace(b"Sec-WebSocket-Version: 13", b"Sec-WebSocket-Version: 8"), 426),
    (lambda h: h.replace(b"Connection: Upgrade", b"Connection: keep-alive"), 400),
    (lambda h: h.replace(b"Sec-WebSocket-Key: ", b"Sec-WebSocket-Key: x"), 400),
])
def test_bad_handshakes_get_their_status(change, status: int) -> None:  # type: ignore[no-untyped-def]
    key = base64.b64encode(os.urandom(16))
    raw = (b"GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
           + key + b"\r\nSec-WebSocket-Version: 13")
    head = wsframe.parse_request_head(change(raw))
    assert head is not None
    with pytest.raises(WSError) as exc:
        wsframe.check_handshake(head)
    assert exc.value.code == status
    assert wsframe.refusal_response(status, b"{}").startswith(f"HTTP/1.1 {status} ".encode())


def test_heads_that_are_not_http_requests_are_none() -> None:
    assert wsframe.parse_request_head(b"\x16\x03\x01 garbage") is None
    assert wsframe.parse_request_head(b"GET /ws HTTP/1.1\r\nno colon here") is None


def test_close_reason_is_cut_to_fit_a_control_frame_on_a_character() -> None:
    frame = wsframe.close_frame(1001, "é" * 200)
    assert len(frame) == 2 + 125 - 1  # 2 + 61 two-byte characters: never half a character
    assert frame[4:].decode() == "é" * 61
