"""The checks a WebSocket upgrade passes before it is accepted, in ONE place for both paths.

chatd's own listener (``chatd.gateway.accept``) and Quart's ``/ws`` route (``chatd.gateway.route``,
for an upgrade on a connection Hypercorn already serves) call ``admit`` with the request's
``Origin`` and ``Cookie`` headers, and answer a ``Refused`` with its status and JSON body:

- an ``Origin`` that is not one of ours → 403 (PROTOCOL.md §2.1);
- the session cookie without an ``Origin`` → 403 (not our page);
- the server draining → 503.

Otherwise the upgrade is accepted with the cookie's principal (None: authentication is left to
``hello``, PROTOCOL.md §2.2).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from werkzeug.http import parse_cookie

from chatd.auth.sessions import SESSION_COOKIE, Principal
from chatd.state import DaemonState
from chatd.web.guard import origin_allowed

log = logging.getLogger("chatd.gateway")


@dataclass(frozen=True)
class Refused:
    """The upgrade is answered with HTTP ``status`` and ``{"error": …, "message": …}``."""

    status: int
    error: str
    message: str

    def body(self) -> bytes:
        return json.dumps({"error": self.error, "message": self.message}).encode()


@dataclass(frozen=True)
class Admitted:
    principal: Principal | None  # from the session cookie; None: ``hello`` must carry a token


async def admit(state: DaemonState, origin: str | None, cookie_headers: list[str]) -> Admitted | Refused:
    """Decide an upgrade from its first ``Origin`` header and every ``Cookie`` header (blocks
    on the session lookup when a cookie is present)."""
    if origin is not None and not origin_allowed(origin, state):
        log.info("event=ws.origin_refused origin=%r", origin)
        return Refused(403, "bad_origin", "this origin may not open a chat connection")
    principal = None
    token = parse_cookie(";".join(cookie_headers)).get(SESSION_COOKIE)
    if token:
        if origin is None:
            # A cookie without an Origin is not a browser talking to us from our page.
            return Refused(403, "bad_origin", "a cookie-authenticated socket needs an Origin")
        principal = await state.sessions.authenticate(token)
    if state.draining.is_set():
        return Refused(503, "unavailable", "the server is shutting down")
    return Admitted(principal)
