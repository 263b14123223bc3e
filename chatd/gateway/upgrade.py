"""The checks a WebSocket upgrade passes before it is accepted, in ONE place for both paths.

chatd's own listener (``chatd.gateway.accept``) and Quart's ``/ws`` route (``chatd.gateway.route``,
for an upgrade on a connection Hypercorn already serves) call ``admit`` with the request's
``Origin`` and ``Cookie`` headers and its client address (``chatd.web.guard``'s, through
``trusted_proxies``), and answer a ``Refused`` with its status, headers and JSON body:

- an ``Origin`` that is not one of ours → 403 (PROTOCOL.md §2.1);
- the session cookie without an ``Origin`` → 403 (not our page);
- the server draining → 503;
- ``max_connections_per_address`` sockets of that address open already → 429
  ``too_many_connections`` with ``Retry-After``.

Otherwise the upgrade is accepted with the cookie's principal (None: authentication is left to
``hello``, PROTOCOL.md §2.2) and the socket counted in ``state.sockets`` under its address:
``Admitted`` holds that place until it is released, by the ``with`` block around the session.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from dataclasses import dataclass
from types import TracebackType

from werkzeug.http import parse_cookie

from chatd.auth.sessions import SESSION_COOKIE, Principal
from chatd.auth.throttle import address_key
from chatd.connections import SocketsByAddress
from chatd.state import DaemonState
from chatd.web.guard import origin_allowed

log = logging.getLogger("chatd.gateway")

ADDRESS_CAP_RETRY_SECS = 10  # Retry-After of a refused upgrade: the address's sockets come and go


@dataclass(frozen=True)
class Refused:
    """The upgrade is answered with HTTP ``status`` and ``{"error": …, "message": …}``."""

    status: int
    error: str
    message: str
    retry_after_secs: int | None = None

    def body(self) -> bytes:
        return json.dumps({"error": self.error, "message": self.message}).encode()

    def headers(self) -> tuple[tuple[str, str], ...]:
        """Headers of the answer besides its content type."""
        return () if self.retry_after_secs is None else (("Retry-After", str(self.retry_after_secs)),)


class Admitted:
    """An accepted upgrade: the cookie's principal (None: ``hello`` must carry a token) and the
    socket's place in ``state.sockets``, held until ``release`` — which ``with`` calls on the
    way out, however the session ends. Releasing twice is harmless."""

    __slots__ = ("_key", "_sockets", "principal")

    def __init__(self, principal: Principal | None, sockets: SocketsByAddress, key: str) -> None:
        self.principal = principal
        self._sockets: SocketsByAddress | None = sockets
        self._key = key

    def release(self) -> None:
        if self._sockets is not None:
            self._sockets.close(self._key)
            self._sockets = None

    def __enter__(self) -> Admitted:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


async def admit(
    state: DaemonState, origin: str | None, cookie_headers: list[str], address: str
) -> Admitted | Refused:
    """Decide an upgrade from its first ``Origin`` header, every ``Cookie`` header and the
    client's ``address`` (blocks on the session lookup when a cookie is present).

    An ``Admitted`` holds a place under the address's cap: the caller must enter ``with`` on it
    before its next checkpoint, and keep the block open while the socket lives.
    """
    if origin is not None and not origin_allowed(origin, state):
        log.info("event=ws.origin_refused origin=%s", origin)
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
    # No checkpoint from the count to the caller's ``with``: no place is taken and then lost.
    key = capped_address(address)
    if not state.sockets.try_open(key, state.config.max_connections_per_address if key else 0):
        log.info("event=ws.address_cap address=%s", key)
        return Refused(
            429, "too_many_connections", "too many chat connections from this address; close some and retry",
            ADDRESS_CAP_RETRY_SECS,
        )
    return Admitted(principal, state.sockets, key)


def capped_address(address: str) -> str:
    """The key an address's sockets are counted under: its throttle key (IPv6 by /64), or "" for
    a loopback or unix-socket peer — a local proxy or tool, never capped."""
    try:
        if ipaddress.ip_address(address).is_loopback:
            return ""
    except ValueError:
        return ""
    return address_key(address)
