"""The ``/ws`` route of the Quart app: Quart's WebSocket adapted to the session's ``Transport``.

chatd's own listener serves ``GET /ws`` upgrades below ASGI (``chatd.gateway.accept``); this
route serves the rest — an upgrade arriving on a keep-alive connection Hypercorn already serves
(a request was answered on it first). Both apply the same checks (``chatd.gateway.upgrade``),
the per-address connection cap among them.
Liveness on this path is Hypercorn's (its pings and read timeout, see ``chatd.server``).
"""

from __future__ import annotations

from quart import Response, websocket
from quart_trio import QuartTrio

from chatd.gateway.session import Session
from chatd.gateway.upgrade import Refused, admit
from chatd.state import DaemonState
from chatd.web.guard import client_address


class QuartTransport:
    """The route's Quart WebSocket as a ``Transport``. A peer that goes away cancels the route's
    task (Quart-Trio does), which ends the session. Writes are not synchronous here:
    ``send_nowait`` keeps the message for ``flush`` (a writer task, which may run outside the
    request's context: hence the object, not the context-local proxy)."""

    def __init__(self) -> None:
        self._ws = websocket._get_current_object()  # type: ignore[attr-defined]
        self._unsent: list[bytes] = []

    async def receive(self) -> bytes | str:
        data = await self._ws.receive()
        # Quart reads an empty binary message as None (``event["bytes"] or event["text"]``).
        return b"" if data is None else data

    async def send(self, data: bytes) -> None:
        await self.flush()
        await self._ws.send(data)

    def send_nowait(self, data: bytes) -> bool:
        self._unsent.append(data)
        return False

    async def flush(self) -> None:
        while self._unsent:
            await self._ws.send(self._unsent.pop(0))

    async def close(self, code: int, reason: str) -> None:
        await self._ws.close(code, reason)


def register(app: QuartTrio, state: DaemonState) -> None:
    """Add the ``/ws`` route."""

    @app.websocket("/ws")
    async def ws() -> tuple[Response, int] | None:
        headers = websocket.headers
        verdict = await admit(
            state, headers.get("Origin"), headers.getlist("Cookie"), client_address(state, websocket)
        )
        if isinstance(verdict, Refused):
            refusal = Response(verdict.body(), content_type="application/json", headers=dict(verdict.headers()))
            return refusal, verdict.status
        with verdict:  # the address's place is held until the session ends
            await websocket.accept()
            await Session(state, QuartTransport(), verdict.principal).serve()
        return None
