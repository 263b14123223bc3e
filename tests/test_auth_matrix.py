"""The authorization matrix: every HTTP route × {anonymous, expired session, revoked session,
wrong Origin, logged in}.

Routes are enumerated from the app's URL map, so a route added later is in the matrix without
anyone editing this file: unless it is listed below as public, it must refuse anonymous callers.
The WebSocket rows are in ``test_auth_ws.py``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
from werkzeug.routing import IntegerConverter, Rule

from chatd.clock import FakeClock
from chatd.store import Database
from chatd.store import sessions as session_store
from chatd.web.app import create_app
from tests.helpers.server import Response, RunningServer, http_request
from tests.test_auth_support import cookie_header, fast_passwords, make_session, make_user

__all__ = ["fast_passwords"]
pytestmark = pytest.mark.usefixtures("fast_passwords")

# Public by design. Adding a public route means adding it here, on purpose.
PUBLIC_ENDPOINTS = {
    "healthz",
    "asset_js",
    "asset_css",
    "asset_img",
    "login_page",
    "register_page",
    "api_registration",
    "api_register",
    "api_login",
    # Not session-based: its own rule (metrics = off | loopback | token), tests/test_metrics.py.
    "metrics",
}
# HTML pages answer an anonymous visitor with a redirect to the log-in page instead of 401.
PAGE_ENDPOINTS = {"app_page"}
# Users' files answer anyone without a session exactly like a file that does not exist (404).
HIDDEN_ENDPOINTS = {"download", "thumbnail"}
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
EVIL_ORIGIN = "https://evil.example"


@dataclass(frozen=True)
class Cell:
    endpoint: str
    method: str
    path: str

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.endpoint})"


def http_cells(server: RunningServer) -> list[Cell]:
    """One cell per (HTTP rule, method), with a concrete path for each rule."""
    app = create_app(server.state)
    adapter = app.url_map.bind("localhost")
    cells = []
    rule: Rule
    for rule in app.url_map.iter_rules():
        if getattr(rule, "websocket", False):
            continue
        values: dict[str, object] = {}
        for name, converter in rule._converters.items():
            # Ids and files that do not exist: the answer to check is the guard's, not the data's.
            values[name] = 999_999 if isinstance(converter, IntegerConverter) else "no-such-file.js"
        for method in sorted(rule.methods or ()):
            cells.append(Cell(rule.endpoint, method, adapter.build(rule.endpoint, values, method=method)))
    return cells


async def send(server: RunningServer, cell: Cell, token: str | None, origin: str | None) -> Response:
    headers: dict[str, str] = {}
    body = None
    if token:
        headers.update(cookie_header(token))
    if cell.method in STATE_CHANGING:
        headers["Content-Type"] = "application/json"
        body = b"{}"
        if origin:
            headers["Origin"] = origin
    return await http_request(cell.method, server.url + cell.path, body=body, headers=headers)


def refused_anonymous(cell: Cell, resp: Response) -> str | None:
    """None if ``resp`` is the right answer for a caller without a valid session, else why not."""
    if cell.endpoint in PUBLIC_ENDPOINTS:
        return allowed(cell, resp)
    to_login = resp.status == 302 and resp.headers.get("location", "").startswith("/login?next=")
    if cell.endpoint in PAGE_ENDPOINTS:
        return None if to_login else f"page answered {resp.status}, not a redirect to /login"
    if cell.endpoint in HIDDEN_ENDPOINTS:
        if resp.status != 404 or (cell.method != "HEAD" and resp.json != {"error": "not_found", "message": "Not found."}):
            return f"answered {resp.status} {resp.body[:80]!r}, expected the 404 of a missing file"
        return None
    if resp.status == 401:
        if cell.method != "HEAD" and resp.json.get("error") != "not_authenticated":
            return f"401 without error=not_authenticated: {resp.body[:100]!r}"
        return None
    if to_login and cell.endpoint not in PUBLIC_ENDPOINTS:
        return None  # a page added later: refused by redirect, which is fine
    return f"answered {resp.status}, expected 401"


def allowed(cell: Cell, resp: Response) -> str | None:
    """None if ``resp`` shows the request was let through, else why not.

    Only refusals count here (401, 403, a redirect to log in): what a route does once let
    through, server errors included, is its own tests' business.
    """
    if resp.status in (401, 403):
        return f"answered {resp.status}: {resp.body[:120]!r}"
    if resp.status == 302 and resp.headers.get("location", "").startswith("/login"):
        return "redirected to the log-in page"
    return None


Check = Callable[[Cell, Response], "str | None"]


async def run_row(
    server: RunningServer, token_for: Callable[[Cell], Awaitable[str | None]], origin: str | None, check: Check
) -> list[Cell]:
    cells = http_cells(server)
    failures = []
    for cell in cells:
        resp = await send(server, cell, await token_for(cell), origin)
        why = check(cell, resp)
        if why:
            failures.append(f"{cell}: {why}")
    assert not failures, "\n".join(failures)
    return cells


def test_matrix_sees_every_account_route() -> None:
    """The enumeration itself works: the known routes are in it (else the matrix is vacuous)."""
    from chatd.config import load_config
    from chatd.state import build_state

    app = create_app(build_state(load_config(env={}), None))  # type: ignore[arg-type]
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    assert PUBLIC_ENDPOINTS | PAGE_ENDPOINTS <= endpoints
    assert {"api_logout", "api_me", "api_sessions", "api_revoke_session", "api_revoke_all", "api_password"} <= endpoints


async def test_row_anonymous(server: RunningServer) -> None:
    async def no_token(cell: Cell) -> None:
        return None

    cells = await run_row(server, no_token, server.origin, refused_anonymous)
    assert len(cells) >= 20


async def test_row_expired_session(server: RunningServer, db: Database, clock: FakeClock) -> None:
    user = await make_user(db, "alice")

    async def expired(cell: Cell) -> str:
        session = await make_session(db, server.config, user.id, clock.now())
        clock.advance(server.config.session_idle_secs + 1)
        return session.token

    await run_row(server, expired, server.origin, refused_anonymous)


async def test_row_revoked_session(server: RunningServer, db: Database, clock: FakeClock) -> None:
    user = await make_user(db, "alice")

    async def revoked(cell: Cell) -> str:
        session = await make_session(db, server.config, user.id, clock.now())
        assert await session_store.revoke_session(db, session_id=session.session_id, now=clock.now())
        return session.token

    await run_row(server, revoked, server.origin, refused_anonymous)


async def test_row_disabled_user(server: RunningServer, db: Database, clock: FakeClock) -> None:
    user = await make_user(db, "alice")
    await db.execute("t.disable", "UPDATE users SET disabled_at = now() WHERE id = $1", user.id)

    async def of_disabled(cell: Cell) -> str:
        return (await make_session(db, server.config, user.id, clock.now())).token

    await run_row(server, of_disabled, server.origin, refused_anonymous)


async def test_row_wrong_origin(server: RunningServer, db: Database, clock: FakeClock) -> None:
    user = await make_user(db, "alice")

    async def logged_in(cell: Cell) -> str:
        return (await make_session(db, server.config, user.id, clock.now())).token

    def check(cell: Cell, resp: Response) -> str | None:
        if cell.method in STATE_CHANGING:
            if resp.status != 403 or resp.json.get("error") != "bad_origin":
                return f"cross-origin write answered {resp.status}"
            return None
        return allowed(cell, resp)  # reads are not refused for their Origin

    await run_row(server, logged_in, EVIL_ORIGIN, check)


async def test_row_logged_in(server: RunningServer, db: Database, clock: FakeClock) -> None:
    user = await make_user(db, "alice")

    async def logged_in(cell: Cell) -> str:
        return (await make_session(db, server.config, user.id, clock.now())).token

    await run_row(server, logged_in, server.origin, allowed)
