"""The ``/ws`` route: Quart's WebSocket adapted to the session's ``Transport``.

Before accepting: the Origin check (403, PROTOCOL.md §2.1), the session cookie (a cookie without
an Origin is not our page: 403), and no new sockets while the server drains (503).
"""

from __future__ import annotations

import logging

from quart import Response, jsonify, websocket
from quart_trio import QuartTrio

from chatd.auth.sessions import SESSION_COOKIE
from chatd.gateway.session import Session
from chatd.state import DaemonState
from chatd.web.guard import origin_allowed

log = logging.getLogger("chatd.gateway")


class QuartTransport:
    """Quart's request-global ``websocket`` as a ``Transport``. A peer that goes away cancels
    the route's task (Quart-Trio does), which ends the session."""

    async def receive(self) -> bytes | str:
        data = await websocket.receive()
        # Quart reads an empty binary message as None (``event["bytes"] or event["text"]``).
        return b"" if data is None else data

    async def send(self, data: bytes) -> None:
        await websocket.send(data)

    async def close(self, code: int, reason: str) -> None:
        await websocket.close(code, reason)


def register(app: QuartTrio, state: DaemonState) -> None:
    """Add the ``/ws`` route."""

    @app.websocket("/ws")
    async def ws() -> Response | tuple[Response, int] | None:
        origin = websocket.headers.get("Origin")
        if origin is not None and not origin_allowed(origin, state):
            log.info("event=ws.origin_refused origin=%s", origin)
            return jsonify(error="bad_origin", message="this origin may not open a chat connection"), 403
        principal = None
        token = websocket.cookies.get(SESSION_COOKIE)
        if token:
            if origin is None:
                # A cookie without an Origin is not a browser talking to us from our page.
                return jsonify(error="bad_origin", message="a cookie-authenticated socket needs an Origin"), 403
            principal = await state.sessions.authenticate(token)
        if state.draining.is_set():
            return jsonify(error="unavailable", message="the server is shutting down"), 503
        await websocket.accept()
        await Session(state, QuartTransport(), principal).serve()
        return None
