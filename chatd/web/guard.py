"""Access control for every HTTP route: who may call it, and from which origin.

Every route has an *access level*, declared with a decorator on its view:

- ``@public``: anyone (log-in and registration pages and APIs, ``/api/registration``);
- ``@require_page_user``: an HTML page for logged-in users; others get ``302`` to
  ``/login?next=<the page>``;
- ``@require_user``: a JSON API for logged-in users; others get ``401``
  ``{"error": "not_authenticated"}``;
- ``@require_user_or_not_found``: a resource for logged-in users whose existence must not leak
  (a user's files): others get exactly the ``404`` of a missing one (``not_found_response``).

A route with no declaration is treated as ``@require_user`` (deny by default), except the
foundation's few public routes listed in ``PUBLIC_ENDPOINTS`` (health check, static assets). The
check runs in one ``before_request`` hook for the whole app (``install``), so a route added later
cannot skip it; the decorators also refuse to run without it (fail closed).

Credentials: the ``__Host-chatd_session`` cookie (browsers), or ``Authorization: Bearer <token>``
with a session or API token (scripts and bots).

Cross-origin writes: a state-changing request (POST, PUT, PATCH, DELETE) is refused with ``403
{"error": "bad_origin"}`` unless

1. it has an ``Origin`` header that exactly equals one of the server's origins; or, when there
   is no ``Origin`` header,
2. it has ``Sec-Fetch-Site: same-origin`` (or ``none``: typed by the user); or, with neither,
3. it carries no ``Cookie`` header at all: a non-browser client (every browser sends ``Origin``
   or ``Sec-Fetch-Site`` on such requests), which has no ambient credential that a forged
   request could abuse.

This applies to every route, public ones included (a forged login is an attack too).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar
from urllib.parse import quote

from quart import Response, g, jsonify, redirect, request
from quart import current_app as _current_app
from quart.wrappers import Request, Websocket
from werkzeug.datastructures import Headers
from werkzeug.wrappers import Response as WerkzeugResponse

from chatd.auth.sessions import SESSION_COOKIE, Principal
from chatd.state import DaemonState
from chatd.store import Unavailable

if TYPE_CHECKING:
    from quart_trio import QuartTrio

P = ParamSpec("P")
R = TypeVar("R")

PUBLIC = "public"
PAGE = "page"
API = "api"
HIDDEN = "hidden"
ACCESS_ATTR = "chatd_access"
# Foundation routes registered without a decorator that are public by design.
PUBLIC_ENDPOINTS = frozenset({"healthz", "asset_js", "asset_css", "asset_img"})
STATE_CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SAFE_FETCH_SITES = frozenset({"same-origin", "none"})
LOGIN_PATH = "/login"


def public(view: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Declare a route public: no session needed (the origin check still applies)."""
    setattr(view, ACCESS_ATTR, PUBLIC)
    return view


def _for_users(level: str, view: Callable[P, Awaitable[R]], refuse: Callable[[], Any]) -> Callable[P, Awaitable[Any]]:
    """``view`` declared at access ``level``; without a principal it answers ``refuse()``."""

    @functools.wraps(view)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
        if g.get("principal") is None:  # the hook did not run or let it through: fail closed
            return refuse()
        return await view(*args, **kwargs)

    setattr(wrapper, ACCESS_ATTR, level)
    return wrapper


def require_user(view: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[Any]]:
    """Declare a JSON API for logged-in users; ``current_principal()`` is set inside."""
    return _for_users(API, view, not_authenticated_response)


def require_page_user(view: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[Any]]:
    """Declare an HTML page for logged-in users; others are sent to the log-in page."""
    return _for_users(PAGE, view, login_redirect)


def require_user_or_not_found(view: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[Any]]:
    """Declare a resource for logged-in users that answers others as if it did not exist."""
    return _for_users(HIDDEN, view, not_found_response)


def access_of(view: object, endpoint: str | None) -> str:
    """The access level of a route: its declaration, else public-by-design, else API (deny)."""
    declared = getattr(view, ACCESS_ATTR, None)
    if isinstance(declared, str):
        return declared
    if endpoint is None or endpoint in PUBLIC_ENDPOINTS:
        return PUBLIC  # no route matched: the 404/405 handlers answer
    return API


def current_principal() -> Principal:
    """The principal of this request (only inside ``require_user``/``require_page_user`` views)."""
    principal = g.get("principal")
    if not isinstance(principal, Principal):
        raise RuntimeError("current_principal() outside an authenticated view")
    return principal


def origin_allowed(origin: str | None, state: DaemonState) -> bool:
    """True iff ``origin`` exactly equals one of ``state.origins``, or is absent.

    Absent (None) is allowed because every browser sends ``Origin`` on WebSocket handshakes and
    on cross-origin writes: a request without it comes from a non-browser client, which a
    malicious page cannot drive. ``"null"`` (sandboxed frames, opaque origins) is refused.
    """
    return origin is None or origin in state.origins


def write_origin_ok(method: str, headers: Headers | Mapping[str, str], state: DaemonState) -> bool:
    """True iff a request with ``method`` and ``headers`` passes the cross-origin write rule."""
    if method.upper() not in STATE_CHANGING_METHODS:
        return True
    origin = headers.get("Origin")
    if origin is not None:
        return origin in state.origins
    fetch_site = headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site.strip().lower() in SAFE_FETCH_SITES
    return "Cookie" not in headers


def request_token() -> str | None:
    """The credential this request presents: ``Authorization: Bearer``, else the cookie."""
    auth = request.headers.get("Authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(SESSION_COOKIE) or None


async def optional_principal(state: DaemonState) -> Principal | None:
    """The principal of this request if it presents a valid session (public routes use it)."""
    if "principal" in g:
        principal = g.get("principal")
        return principal if isinstance(principal, Principal) else None
    token = request_token()
    principal = await state.sessions.authenticate(token) if token else None
    g.principal = principal
    return principal


def client_address(state: DaemonState, req: Request | Websocket | None = None) -> str:
    """The client's IP address, seen through the configured ``trusted_proxies``.

    ``req`` is the request or WebSocket (default: the current HTTP request). When the peer is a
    trusted proxy, ``X-Forwarded-For`` is read from the right, skipping trusted proxies; the first
    other address is the client. Otherwise the peer address.
    """
    req = request if req is None else req
    return forwarded_client(state, req.remote_addr or "", req.headers.getlist("X-Forwarded-For"))


def forwarded_client(state: DaemonState, peer: str, forwarded_for: list[str]) -> str:
    """``client_address`` from its parts: the ``peer`` address and every ``X-Forwarded-For``
    header (chatd's own WebSocket path has no Quart request to ask)."""
    trusted = set(state.config.trusted_proxies)
    if not trusted or peer not in trusted:
        return peer
    hops = [h.strip() for h in ",".join(forwarded_for).split(",") if h.strip()]
    for hop in reversed(hops):
        if hop in trusted:
            continue
        try:
            return str(ipaddress.ip_address(hop))
        except ValueError:
            return peer  # a malformed hop: trust nothing further left
    return peer


def error_response(status: int, code: str, message: str, **extra: Any) -> tuple[Response, int]:
    """The JSON error body every API uses: ``{"error": code, "message": …, …}``."""
    return jsonify(error=code, message=message, **extra), status


def not_found_response() -> tuple[Response, int]:
    """The one answer for a resource that does not exist *or* that this request may not see."""
    return error_response(404, "not_found", "Not found.")


def not_authenticated_response() -> Response:
    body, status = error_response(401, "not_authenticated", "Log in to continue.")
    body.status_code = status
    body.headers["WWW-Authenticate"] = 'Bearer realm="chatd"'
    return body


def login_redirect() -> WerkzeugResponse:
    """302 to the log-in page, carrying the requested page as ``next``."""
    target = request.path
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    return redirect(f"{LOGIN_PATH}?next={quote(target, safe='/')}", 302)


def safe_next(value: str | None) -> str:
    """A local path to go to after logging in; ``/`` for anything that could leave the site."""
    if not value or not value.startswith("/") or value.startswith("//") or value.startswith("/\\"):
        return "/"
    if any(ord(ch) < 0x20 or ch == "\\" for ch in value):
        return "/"
    return value


def install(app: QuartTrio, state: DaemonState) -> None:
    """Install the app-wide access hook (origin rule, then the route's access level)."""

    @app.before_request
    async def _access_guard() -> Any:
        if not write_origin_ok(request.method, request.headers, state):
            return error_response(
                403, "bad_origin", "Cross-origin request refused: this request did not come from this site."
            )
        access = access_of(_current_app.view_functions.get(request.endpoint or ""), request.endpoint)
        if access == PUBLIC:
            return None
        try:
            principal = await optional_principal(state)
        except Unavailable:
            return error_response(503, "unavailable", "The database is unavailable; try again shortly.")
        if principal is not None:
            return None
        if access == PAGE:
            return login_redirect()
        if access == HIDDEN:
            return not_found_response()
        return not_authenticated_response()
