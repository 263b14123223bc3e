"""Request bodies that never pile up in memory.

Quart's ``Body`` appends whatever the server receives to one buffer until the view reads it: a
1 GiB upload over a link faster than the disk would sit in memory. Here the connection stops
taking pieces from Hypercorn while ``BUFFER_BYTES`` are unread (``BoundedConnection``), so
Hypercorn's bounded queue fills, it stops reading the socket, and TCP slows the client down.
An upload then costs about ``BUFFER_BYTES`` plus one piece in flight, whatever its size.

The size limit (``MAX_CONTENT_LENGTH``, 64 KiB for the JSON APIs) is checked when the body is
read, over the whole body rather than the part buffered, so an upload view sets its own limit
first (``body.limit = None``) and answers with its own error.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, Final

import trio
from hypercorn.typing import ASGIReceiveCallable
from quart.wrappers import Request
from quart_trio.asgi import TrioASGIHTTPConnection
from quart_trio.wrappers.request import TrioBody, TrioRequest
from werkzeug.exceptions import RequestEntityTooLarge

# Unread bytes a request may hold before the connection stops reading: the pieces a view
# writes to disk are at most this (plus one 64 KiB piece), well inside "≤ 1 MiB per chunk".
BUFFER_BYTES: Final = 512 * 1024
# What an upload view takes at a time, at least (until the body ends). Hypercorn hands over
# ~64 KiB at a time, and a view that took each as it came wrote 64–100 KiB per trip to a worker
# thread: 8,300 trips for 8 uploads of 64 MiB, whose overhead in the event loop cost uploads a
# third of the transport's rate (bench S10). Must stay below BUFFER_BYTES.
STREAM_PIECE_BYTES: Final = 256 * 1024
# When the client goes away mid-body, the view gets this long to take what arrived (a resumable
# upload keeps it) before it is cancelled.
DRAIN_SECS: Final = 5.0


class BodyCut(Exception):
    """The client went away before the request body ended (raised where the body is read,
    after every byte that did arrive)."""


class BoundedBody(TrioBody):
    """A request body holding at most ``BUFFER_BYTES`` unread while it is iterated, and
    refusing more than ``limit`` bytes in all (None: no limit; the view counts).

    The limit applies to what the view takes, so a view may still raise it (an upload) after
    the first pieces arrived: until the view reads, the connection has paused at
    ``BUFFER_BYTES``.
    """

    def __init__(self, expected_content_length: int | None, max_content_length: int | None) -> None:
        super().__init__(expected_content_length, None)
        self.expected_length = expected_content_length
        self.limit = max_content_length
        self.received = 0
        self.delivered = 0
        # The pieces as Hypercorn handed them over: handed on with one join (or none, for a
        # single piece), where Quart's bytearray copied every byte twice.
        self._pieces: list[bytes] = []
        self._buffered = 0
        self._room = trio.Event()
        self._whole = False  # awaited whole (JSON APIs): buffered up to the limit, never paused
        self._cut = False  # the connection closed before the body's end
        self.min_piece = 0  # iterating hands over at least this much at a time (but the end)

    def _over(self, size: int) -> bool:
        return self.limit is not None and size > self.limit

    def _take(self) -> bytes:
        data = self._pieces[0] if len(self._pieces) == 1 else b"".join(self._pieces)
        self._pieces.clear()
        self._buffered = 0
        return data

    async def __anext__(self) -> bytes:
        if self._must_raise is not None:
            raise self._must_raise
        if self._over(self.expected_length or 0):
            raise RequestEntityTooLarge()
        while not self._complete.is_set() and (not self._pieces or self._buffered < self.min_piece):
            self._has_data.clear()
            await self._has_data.wait()
        if not self._pieces:
            if self._cut:
                raise BodyCut("the connection closed before the request body ended")
            raise StopAsyncIteration()
        data = self._take()
        self._has_data.clear()
        self._room.set()
        self.delivered += len(data)
        if self._over(self.delivered):
            raise RequestEntityTooLarge()
        return data

    def __await__(self) -> Generator[Any, None, Any]:
        self._whole = True
        self._room.set()
        if self._over(max(self.expected_length or 0, self.received)):
            raise RequestEntityTooLarge()
        if self._must_raise is not None:
            raise self._must_raise
        yield from self._complete.wait().__await__()
        if self._must_raise is not None:
            raise self._must_raise
        return self._take()

    def append(self, data: bytes) -> None:
        if data == b"" or self._must_raise is not None:
            return
        self.received += len(data)
        if self._whole and self._over(self.received):
            self._must_raise = RequestEntityTooLarge()
            self.set_complete()
            return
        self._pieces.append(data)
        self._buffered += len(data)
        self._has_data.set()

    def clear(self) -> None:
        self._pieces.clear()
        self._buffered = 0

    def cut(self) -> None:
        """The connection closed before the body's end: the reader gets what arrived, then
        ``BodyCut``."""
        if not self._complete.is_set():
            self._cut = True
            self.set_complete()

    async def wait_for_room(self) -> None:
        """Return once the view has read enough of the buffer (or takes the body whole)."""
        while self._buffered >= BUFFER_BYTES and not self._whole and self._must_raise is None:
            self._room = trio.Event()
            await self._room.wait()


class BoundedRequest(TrioRequest):
    body_class = BoundedBody


class BoundedConnection(TrioASGIHTTPConnection):
    """Quart-Trio's HTTP connection, reading the next body piece only when there is room, and
    letting a view take what arrived when the client leaves mid-body."""

    async def handle_messages(  # type: ignore[override]
        self, nursery: trio.Nursery, request: Request, receive: ASGIReceiveCallable
    ) -> None:
        body = request.body
        while True:
            message = await receive()
            if message["type"] == "http.request":
                body.append(message.get("body", b""))
                if not message.get("more_body", False):
                    body.set_complete()
                elif isinstance(body, BoundedBody):
                    await body.wait_for_room()
            elif message["type"] == "http.disconnect":
                if isinstance(body, BoundedBody) and not body._complete.is_set():
                    body.cut()
                    # The view ends by itself once it has read the rest (BodyCut); the
                    # request's end cancels this wait.
                    await trio.sleep(DRAIN_SECS)
                break
        nursery.cancel_scope.cancel()
