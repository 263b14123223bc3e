"""A ``GET /ws`` upgrade on chatd's own path: checks, the 101, then a session over ``WebSocket``.

The listener (``chatd.gateway.listener``) hands over the connection with the request head it
read; the checks are the ones Quart's fallback route applies (``chatd.gateway.upgrade``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from chatd.gateway import wsframe
from chatd.gateway.heartbeat import Heartbeat
from chatd.gateway.netstream import NetStream
from chatd.gateway.session import Session
from chatd.gateway.upgrade import Refused, admit
from chatd.gateway.websocket import WebSocket
from chatd.state import DaemonState


async def open_session(
    state: DaemonState, heartbeat: Heartbeat, stream: NetStream, head: wsframe.RequestHead, buffered: bytes
) -> Callable[[], Awaitable[None]] | None:
    """Answer the upgrade ``head`` on ``stream``: a refusal (None), or the 101 and the session to
    run (the caller drops the request first: a socket may live for days).

    ``buffered``: bytes the client sent after the head (its first frames). The caller closes
    ``stream`` afterwards.
    """
    try:
        accept = wsframe.check_handshake(head)
    except wsframe.WSError as exc:
        body = json.dumps({"error": "bad_handshake", "message": exc.reason}).encode()
        await stream.send_all(wsframe.refusal_response(exc.code, body))
        return None
    cookies = [value for name, value in head.headers if name == "cookie"]
    verdict = await admit(state, head.header("origin"), cookies)
    if isinstance(verdict, Refused):
        await stream.send_all(wsframe.refusal_response(verdict.status, verdict.body()))
        return None
    if not stream.write_nowait(wsframe.accept_response(accept)):
        await stream.flush()
    ws = WebSocket(stream, state.config.max_frame_bytes, buffered)
    session = Session(state, ws, verdict.principal)

    async def serve() -> None:
        heartbeat.add(ws)
        try:
            await session.serve()
        finally:
            heartbeat.discard(ws)

    return serve
