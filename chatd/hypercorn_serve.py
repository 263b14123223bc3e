"""Hypercorn (0.18, trio worker) serving the HTTP connections chatd's listener hands it.

What ``hypercorn.trio.run.worker_serve`` does, minus its listeners: the app's lifespan (startup
before the first connection, shutdown after the last), the worker context whose ``terminated``
tells kept-alive connections to close, and one ``TCPServer`` per connection — over chatd's
``NetStream`` (the TLS handshake done, the first request's bytes already read and replayed).
"""

from __future__ import annotations

from typing import Any

import trio
from hypercorn.config import Config
from hypercorn.trio.lifespan import Lifespan
from hypercorn.trio.statsd import StatsdLogger
from hypercorn.trio.tcp_server import TCPServer
from hypercorn.trio.worker_context import WorkerContext
from hypercorn.typing import ConnectionState, LifespanState
from hypercorn.utils import wrap_app

from chatd.gateway.netstream import NetStream


class ReplayStream:
    """A ``NetStream`` as Hypercorn's ``TCPServer`` expects a trio stream: ``receive_some``
    first returns the bytes chatd already read; TLS streams expose ``do_handshake`` (done
    already), ALPN and ``transport_stream.socket``, plain ones ``socket`` (Hypercorn tells them
    apart by the ``AttributeError`` of ``do_handshake``)."""

    def __init__(self, stream: NetStream, replay: bytes) -> None:
        self._stream = stream
        self._replay = replay
        self.socket = stream.socket
        self.transport_stream = self

    async def do_handshake(self) -> None:
        if not self._stream.is_tls:
            raise AttributeError("do_handshake")
        await trio.lowlevel.checkpoint()

    def selected_alpn_protocol(self) -> str | None:
        return self._stream.selected_alpn_protocol()

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        if self._replay:
            data, self._replay = self._replay, b""
            await trio.lowlevel.checkpoint()
            return data
        return await self._stream.receive_some(max_bytes or 65536)

    async def send_all(self, data: bytes) -> None:
        await self._stream.send_all(data)

    async def send_eof(self) -> None:
        await self._stream.send_eof()

    async def aclose(self) -> None:
        await self._stream.aclose()


class HypercornHTTP:
    """The ASGI app behind Hypercorn's per-connection server. ``run`` (started in the web
    nursery) owns the lifespan; ``serve_connection`` serves one connection until it closes."""

    def __init__(self, app: Any, config: Config) -> None:
        config.set_statsd_logger_class(StatsdLogger)
        self.config = config
        self._app = wrap_app(app, config.wsgi_max_body_size, None)
        self._state: LifespanState = {}
        self.context = WorkerContext(None)

    async def run(self, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        """The app's startup, then wait; on cancellation, its shutdown (bounded by the caller)."""
        lifespan = Lifespan(self._app, self.config, self._state)
        async with trio.open_nursery() as nursery:
            await nursery.start(lifespan.handle_lifespan)
            await lifespan.wait_for_startup()
            task_status.started()
            try:
                await trio.sleep_forever()
            finally:
                with trio.CancelScope(shield=True), trio.move_on_after(self.config.graceful_timeout):
                    await lifespan.wait_for_shutdown()
                nursery.cancel_scope.cancel()

    async def terminate(self) -> None:
        """Shutdown begins: idle kept-alive connections close (Hypercorn's ``terminated``)."""
        await self.context.terminated.set()

    async def serve_connection(self, stream: NetStream, replay: bytes) -> None:
        server = TCPServer(self._app, self.config, self.context, ConnectionState(self._state.copy()),
                           ReplayStream(stream, replay))  # type: ignore[arg-type]
        await server.run()
