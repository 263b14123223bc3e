"""A ``GET /ws`` upgrade on chatd's own path: checks, the 101, then a session over ``WebSocket``.

The listener (``chatd.gateway.listener``) hands over the connection with the request head it
read; the checks are the ones Quart's fallback route applies (``chatd.gateway.upgrade``), with
the client address found as for any request (``chatd.web.guard``: the peer, or what a trusted
proxy says in ``X-Forwarded-For``).
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
from chatd.web.guard import forwarded_client


async def open_session(
    state: DaemonState, heartbeat: Heartbeat, stream: NetStream, head: wsframe.RequestHead, buffered: bytes
) -> Callable[[], Awaitable[None]] | None:
    """Answer the upgrade ``head`` on ``stream``: a refusal (None), or the session to run, which
    sends the 101 first. The caller drops the request (a socket may live for days) and runs the
    session at once, with no checkpoint in between: it holds the address's place from ``admit``.

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
    forwarded = [value for name, value in head.headers if name == "x-forwarded-for"]
    address = forwarded_client(state, stream.peer_address(), forwarded)
    verdict = await admit(state, head.header("origin"), cookies, address)
    if isinstance(verdict, Refused):
        await stream.send_all(wsframe.refusal_response(verdict.status, verdict.body(), headers=verdict.headers()))
        return None
    ws = WebSocket(stream, state.config.max_frame_bytes, buffered)
    session = Session(state, ws, verdict.principal)
    response = wsframe.accept_response(accept)

    async def serve() -> None:
        # Entered before any checkpoint since ``admit`` (the listener calls this at once): the
        # address's place is held from the count until the session ends, however it ends.
        with verdict:
            if not stream.write_nowait(response):
                await stream.flush()
            heartbeat.add(ws)
            try:
                await session.serve()
            finally:
                heartbeat.discard(ws)

    return serve
