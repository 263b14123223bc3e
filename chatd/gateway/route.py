"""The ``/ws`` route: Quart's WebSocket adapted to the session's ``Transport``.

Before accepting: the Origin check (403, PROTOCOL.md §2.1), the session cookie (a cookie without
an Origin is not our page: 403), no new sockets while the server drains (503), and at most
``max_connections_per_address`` open sockets per client address (429 ``too_many_connections``).
"""

from __future__ import annotations

import ipaddress
import logging

from quart import Response, jsonify, websocket
from quart_trio import QuartTrio

from chatd.auth.sessions import SESSION_COOKIE
from chatd.auth.throttle import address_key
from chatd.gateway.session import Session
from chatd.state import DaemonState
from chatd.web.guard import client_address, origin_allowed

log = logging.getLogger("chatd.gateway")

ADDRESS_CAP_RETRY_SECS = 10  # Retry-After of a refused upgrade: the address's sockets come and go


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
        address = capped_address(client_address(state, websocket))
        limit = state.config.max_connections_per_address if address else 0
        if not state.sockets.try_open(address, limit):
            log.info("event=ws.address_cap address=%s", address)
            response = jsonify(error="too_many_connections",
                               message="too many chat connections from this address; close some and retry")
            response.headers["Retry-After"] = str(ADDRESS_CAP_RETRY_SECS)
            return response, 429
        try:
            await websocket.accept()
            await Session(state, QuartTransport(), principal).serve()
        finally:
            state.sockets.close(address)
        return None


def capped_address(address: str) -> str:
    """The key an address's sockets are counted under: its throttle key (IPv6 by /64), or "" for
    a loopback or unix-socket peer — a local proxy or tool, never capped."""
    try:
        if ipaddress.ip_address(address).is_loopback:
            return ""
    except ValueError:
        return ""
    return address_key(address)
