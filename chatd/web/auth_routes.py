"""Accounts over HTTP: the log-in and registration pages, and the JSON APIs for sessions.

Pages: ``GET /login``, ``GET /register`` (public), ``GET /`` (the app; logged-in users only).
APIs (JSON in and out; errors are ``{"error": code, "message": …, "field"?: …}``):

- ``GET  /api/registration``: ``{"mode": "open"|"invite"|"closed"}`` (public)
- ``POST /api/register``: ``{username, display_name, password, invite?}`` → 201, logged in
- ``POST /api/login``: ``{username, password}`` → 200, logged in (a new token every time)
- ``POST /api/logout``: ends this session and its WebSockets
- ``GET  /api/me``: the current user and session
- ``GET  /api/sessions``: this user's valid sessions
- ``DELETE /api/sessions/<id>``: revoke one of them
- ``POST /api/sessions/revoke-all``: log out everywhere else
- ``POST /api/password``: ``{current, new}``; ends every other session

Request bodies must be ``application/json`` (415 otherwise), at most ``AUTH_BODY_MAX_BYTES``
(413), a JSON object (400 ``bad_json``) whose text fields hold no U+0000 (400, a field error;
passwords excepted).
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

import trio
from quart import Response, jsonify, redirect, request
from werkzeug.wrappers import Response as WerkzeugResponse

from chatd.auth import accounts, tokens
from chatd.auth.accounts import Account, AuthError, FieldErrors
from chatd.auth.names import FieldError
from chatd.auth.sessions import SESSION_COOKIE, NewSession, Principal, create_session, rotate_token
from chatd.state import DaemonState
from chatd.store import sessions as session_store
from chatd.store.sessions import SessionInfo
from chatd.web import guard
from chatd.web.guard import current_principal, public, require_page_user, require_user
from chatd.web.static import client_dir

if TYPE_CHECKING:
    from quart_trio import QuartTrio

log = logging.getLogger("chatd.auth")

# Fields that are hashed and never stored: any character goes (an existing password may hold a
# NUL). Every other text reaches PostgreSQL, which cannot store U+0000: refused with a field error.
SECRET_FIELDS = frozenset({"password", "current", "new"})
# The largest valid body is a 1024-character password sent as JSON \u escapes of surrogate
# pairs (12 bytes per character) plus the other fields: about 13 KiB.
AUTH_BODY_MAX_BYTES = 16 * 1024


class ApiError(Exception):
    """An API refusal: answered as ``{"error": code, "message": …}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


async def read_json_object() -> dict[str, Any]:
    """The request body as a JSON object, or ``ApiError`` (415, 413, 400 ``bad_json``)."""
    if request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "Send the request body as application/json.")
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise ApiError(415, "unsupported_media_type", "Send the request body as UTF-8 JSON.")
    too_large = ApiError(413, "too_large", f"Request body over {AUTH_BODY_MAX_BYTES} bytes.")
    if request.content_length is not None and request.content_length > AUTH_BODY_MAX_BYTES:
        raise too_large
    data = await request.get_data(cache=False, as_text=False, parse_form_data=False)
    if len(data) > AUTH_BODY_MAX_BYTES:
        raise too_large
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiError(400, "bad_json", "The request body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise ApiError(400, "bad_json", "The request body must be a JSON object.")
    for key, field_value in value.items():
        if key not in SECRET_FIELDS and _holds_nul(field_value):
            raise FieldErrors([FieldError(
                f"{key}_invalid", key, f"{key} contains U+0000 (NUL), which is not allowed in text."
            )])
    return value


def _holds_nul(value: object) -> bool:
    """True iff a JSON value holds a string with U+0000 anywhere (iterative: nesting is free)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
    return False


def _ms(epoch_secs: float) -> int:
    return int(epoch_secs * 1000)


def user_json(account: Account | Principal) -> dict[str, Any]:
    if isinstance(account, Principal):
        return {"id": account.user_id, "username": account.username, "display_name": account.display_name,
                "is_admin": account.is_admin}
    return {"id": account.id, "username": account.username, "display_name": account.display_name,
            "is_admin": account.is_admin}


def session_json(info: SessionInfo, idle_secs: float, current_id: int) -> dict[str, Any]:
    expires = info.expires_at if info.kind == "api" else min(info.expires_at, info.last_seen_at + idle_secs)
    return {
        "id": info.id, "kind": info.kind, "created_at": _ms(info.created_at), "last_seen_at": _ms(info.last_seen_at),
        "expires_at": _ms(expires), "client_addr": info.client_addr, "user_agent": info.user_agent,
        "current": info.id == current_id,
    }


def set_session_cookie(response: Response, token: str, max_age_secs: int) -> None:
    """The session cookie: ``__Host-``, Secure, HttpOnly, SameSite=Lax, Path=/."""
    response.set_cookie(
        SESSION_COOKIE, token, max_age=max_age_secs, path="/", secure=True, httponly=True, samesite="Lax"
    )


def clear_session_cookie(response: Response) -> None:
    response.set_cookie(
        SESSION_COOKIE, "", max_age=0, expires=0, path="/", secure=True, httponly=True, samesite="Lax"
    )


def register(app: QuartTrio, state: DaemonState) -> None:
    """Install the access guard and the account routes on ``app``."""
    guard.install(app, state)
    cfg = state.config
    idle_secs = float(cfg.session_idle_secs)

    @app.errorhandler(ApiError)
    async def _api_error(exc: ApiError) -> tuple[Response, int]:
        return guard.error_response(exc.status, exc.code, exc.message, **exc.extra)

    @app.errorhandler(AuthError)
    async def _auth_error(exc: AuthError) -> Response:
        extra: dict[str, Any] = {"field": exc.field} if exc.field else {}
        response, status = guard.error_response(exc.status, exc.code, exc.message, **extra)
        response.status_code = status
        if exc.retry_after is not None:
            response.headers["Retry-After"] = str(int(exc.retry_after) + 1)
        return response

    @app.errorhandler(FieldErrors)
    async def _field_errors(exc: FieldErrors) -> tuple[Response, int]:
        first = exc.errors[0]
        errors = [{"error": e.code, "field": e.field, "message": e.message} for e in exc.errors]
        return guard.error_response(exc.status, first.code, first.message, field=first.field, errors=errors)

    async def start_logged_in(account: Account, status: int) -> Response:
        """Revoke the session this browser had (if any), start a new one, set the cookie."""
        now = state.clock.now()
        old_token = request.cookies.get(SESSION_COOKIE)
        if old_token and tokens.plausible_token(old_token):
            old_id = await session_store.revoke_session_by_token(state.db, tokens.digest(old_token), now)
            if old_id is not None:
                state.connections.end_session(old_id, "replaced by a new login")
        new: NewSession = await create_session(
            state.db, user_id=account.id, now=now, lifetime_secs=cfg.session_max_secs,
            client_addr=guard.client_address(state), user_agent=request.headers.get("User-Agent", ""),
        )
        response = jsonify(user=user_json(account), session={"id": new.session_id, "expires_at": _ms(
            min(new.expires_at, now + idle_secs))})
        response.status_code = status
        set_session_cookie(response, new.token, cfg.session_max_secs)
        return response

    # --- pages ---

    async def page(name: str) -> Response:
        # Read per request (a few KB) rather than send_file: no validators or Expires that would
        # let a page that depends on the login state be reused from a cache.
        html = await trio.Path(client_dir() / name).read_bytes()
        return Response(html, status=200, mimetype="text/html", headers={"Cache-Control": "no-store"})

    @public
    async def login_page() -> Response | WerkzeugResponse:
        """The log-in form; a logged-in visitor goes straight on."""
        if await guard.optional_principal(state) is not None:
            return redirect(guard.safe_next(request.args.get("next")), 302)
        return await page("login.html")

    @public
    async def register_page() -> Response | WerkzeugResponse:
        """The registration form (it asks ``/api/registration`` which fields to show)."""
        if await guard.optional_principal(state) is not None:
            return redirect("/", 302)
        return await page("register.html")

    @require_page_user
    async def app_page() -> Response:
        """The chat app (``client_web/index.html``)."""
        return await page("index.html")

    app.add_url_rule("/login", "login_page", login_page, methods=["GET"])
    app.add_url_rule("/register", "register_page", register_page, methods=["GET"])
    app.add_url_rule("/", "app_page", app_page, methods=["GET"])

    # --- public APIs ---

    @public
    async def registration_mode() -> Response:
        """``{"mode": …}``: whether registration is open, by invite, or closed."""
        return jsonify(mode=cfg.registration)

    @public
    async def api_register() -> Response:
        """Create an account, log it in, put it in #general."""
        body = await read_json_object()
        account = await accounts.register(
            state.db, state.auth.passwords, username=body.get("username"),
            display_name=body.get("display_name"), password=body.get("password"), invite=body.get("invite"),
            mode=cfg.registration, now=state.clock.now(), throttle=state.auth.registrations,
            client_addr=guard.client_address(state),
        )
        return await start_logged_in(account, 201)

    @public
    async def api_login() -> Response:
        """Log in with username and password; a new session and cookie every time."""
        body = await read_json_object()
        runtime = state.auth
        account = await accounts.login(
            state.db, runtime.passwords, runtime.throttle, username=body.get("username"),
            password=body.get("password"), client_addr=guard.client_address(state), now=state.clock.now(),
        )
        return await start_logged_in(account, 200)

    app.add_url_rule("/api/registration", "api_registration", registration_mode, methods=["GET"])
    app.add_url_rule("/api/register", "api_register", api_register, methods=["POST"])
    app.add_url_rule("/api/login", "api_login", api_login, methods=["POST"])

    # --- APIs for logged-in users ---

    @require_user
    async def api_logout() -> Response:
        """End this session on the server and close its WebSockets."""
        me = current_principal()
        await session_store.revoke_session(state.db, me.session_id, state.clock.now())
        state.connections.end_session(me.session_id, "logged out")
        log.info("event=auth.logout session_id=%d user_id=%d", me.session_id, me.user_id)
        response = jsonify(ok=True)
        clear_session_cookie(response)
        return response

    @require_user
    async def api_me() -> Response:
        """The current user and session."""
        me = current_principal()
        return jsonify(user=user_json(me), session={"id": me.session_id, "expires_at": _ms(me.expires_at)})

    @require_user
    async def api_sessions() -> Response:
        """This user's valid sessions, most recently used first."""
        me = current_principal()
        rows = await session_store.list_valid_sessions(state.db, state.clock.now(), idle_secs, me.user_id)
        return jsonify(sessions=[session_json(r, idle_secs, me.session_id) for r in rows])

    @require_user
    async def api_revoke_session(session_id: int) -> Response:
        """Revoke one of this user's sessions (this one too: that is a logout)."""
        me = current_principal()
        if not await session_store.revoke_session(state.db, session_id, state.clock.now(), user_id=me.user_id):
            raise ApiError(404, "session_not_found", "No such session.")
        state.connections.end_session(session_id, "session revoked")
        response = jsonify(revoked=[session_id])
        if session_id == me.session_id:
            clear_session_cookie(response)
        return response

    @require_user
    async def api_revoke_all() -> Response:
        """Log out everywhere else: revoke every other session of this user (API tokens too)."""
        me = current_principal()
        revoked = await session_store.revoke_user_sessions(
            state.db, me.user_id, state.clock.now(), keep_session=me.session_id
        )
        for session_id in revoked:
            state.connections.end_session(session_id, "logged out everywhere")
        return jsonify(revoked=revoked)

    @require_user
    async def api_password() -> Response:
        """Change the password; every other session ends, this one gets a new token."""
        me = current_principal()
        body = await read_json_object()
        runtime = state.auth
        now = state.clock.now()
        await accounts.change_password(
            state.db, runtime.passwords, runtime.throttle, user_id=me.user_id, current=body.get("current"),
            new=body.get("new"), client_addr=guard.client_address(state), now=now,
        )
        revoked = await session_store.revoke_user_sessions(state.db, me.user_id, now, keep_session=me.session_id)
        for session_id in revoked:
            state.connections.end_session(session_id, "password changed")
        token = await rotate_token(state.db, me.session_id)
        info = await session_store.get_session(state.db, me.session_id)
        response = jsonify(ok=True, revoked=revoked)
        max_age = int(info.expires_at - now) if info is not None else cfg.session_max_secs
        set_session_cookie(response, token, max(max_age, 0))
        return response

    app.add_url_rule("/api/logout", "api_logout", api_logout, methods=["POST"])
    app.add_url_rule("/api/me", "api_me", api_me, methods=["GET"])
    app.add_url_rule("/api/sessions", "api_sessions", api_sessions, methods=["GET"])
    app.add_url_rule(
        "/api/sessions/<int:session_id>", "api_revoke_session", api_revoke_session, methods=["DELETE"]
    )
    app.add_url_rule("/api/sessions/revoke-all", "api_revoke_all", api_revoke_all, methods=["POST"])
    app.add_url_rule("/api/password", "api_password", api_password, methods=["POST"])
