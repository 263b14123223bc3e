"""Request bodies (chatd/web/body.py): the connection stops reading while the view has not taken
what arrived, the limit counts the whole body, and a client leaving mid-body still hands the view
every byte that did arrive. Driven through the real connection class with a fake ASGI receive."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import trio
import trio.testing
from werkzeug.exceptions import RequestEntityTooLarge

from chatd.web.body import BUFFER_BYTES, STREAM_PIECE_BYTES, BodyCut, BoundedBody, BoundedConnection

PIECE = 65536  # what Hypercorn hands over per read


class Sender:
    """An ASGI ``receive`` that has ``pieces`` body pieces, then (optionally) a disconnect."""

    def __init__(self, pieces: int, disconnect: bool = False) -> None:
        self.pieces, self.disconnect = pieces, disconnect
        self.taken = 0

    async def receive(self) -> dict[str, Any]:
        await trio.lowlevel.checkpoint()  # as a socket read does: other tasks run in between
        if self.taken < self.pieces:
            self.taken += 1
            return {"type": "http.request", "body": b"x" * PIECE, "more_body": True}
        if self.disconnect:
            return {"type": "http.disconnect"}
        await trio.sleep_forever()
        raise AssertionError("unreachable")


def _connection() -> BoundedConnection:
    return BoundedConnection.__new__(BoundedConnection)  # handle_messages needs no app state


async def _read_until_cut(body: BoundedBody, pieces: int) -> list[int]:
    """Serve ``pieces`` through the real connection, then a disconnect; read the body as a view
    does until it raises BodyCut. The sizes of what the view got."""
    sender = Sender(pieces=pieces, disconnect=True)
    sizes: list[int] = []
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_connection().handle_messages, nursery, SimpleNamespace(body=body), sender.receive)
            with pytest.raises(BodyCut):
                async for chunk in body:
                    sizes.append(len(chunk))
            nursery.cancel_scope.cancel()
    return sizes


async def test_the_connection_stops_reading_until_the_view_takes_what_arrived() -> None:
    body = BoundedBody(None, None)
    sender = Sender(pieces=1000)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_connection().handle_messages, nursery, SimpleNamespace(body=body), sender.receive)
        await trio.testing.wait_all_tasks_blocked()
        held = sender.taken * PIECE
        assert BUFFER_BYTES <= held <= BUFFER_BYTES + PIECE  # paused, not 1000 pieces deep
        first = await body.__anext__()
        assert len(first) == held
        await trio.testing.wait_all_tasks_blocked()
        assert BUFFER_BYTES <= sender.taken * PIECE - held <= BUFFER_BYTES + PIECE  # going again
        nursery.cancel_scope.cancel()


async def test_a_client_leaving_mid_body_hands_over_what_arrived_then_body_cut() -> None:
    got = await _read_until_cut(BoundedBody(None, None), pieces=3)
    assert sum(got) == 3 * PIECE


async def test_the_limit_counts_the_whole_body_and_may_be_raised_before_reading() -> None:
    small = BoundedBody(None, 100_000)
    small.append(b"x" * PIECE)
    small.append(b"x" * PIECE)  # 128 KiB buffered: over the limit, but a view may still lift it
    with pytest.raises(RequestEntityTooLarge):
        await small.__anext__()
    lifted = BoundedBody(None, 100_000)
    lifted.append(b"x" * PIECE)
    lifted.append(b"x" * PIECE)
    lifted.limit = None
    assert len(await lifted.__anext__()) == 2 * PIECE
    declared = BoundedBody(1_000_000, 100_000)  # a Content-Length over the limit: refused unread
    with pytest.raises(RequestEntityTooLarge):
        await declared.__anext__()


async def test_an_upload_takes_the_body_in_pieces_of_a_quarter_mib_but_the_last() -> None:
    """Fewer, larger trips to the writer thread: each costs the event loop the same."""
    body = BoundedBody(None, None)
    body.min_piece = STREAM_PIECE_BYTES
    sizes = await _read_until_cut(body, pieces=10)  # 640 KiB, then the client leaves
    assert sum(sizes) == 10 * PIECE
    assert all(n >= STREAM_PIECE_BYTES for n in sizes[:-1]) and len(sizes) <= 3
