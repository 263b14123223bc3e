"""The Quart-Trio application: HTTP routes, security headers, request logs.

``create_app(state)`` builds the app around the ``DaemonState`` that the server owns (the
database, the hub, the configuration). The app starts no background task of its own: everything long-lived
belongs to the server's nursery (``chatd.server``), and routes only use it.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

from quart import Response, g, jsonify, request
from quart_trio import QuartTrio
from werkzeug.routing import RequestRedirect

from chatd import __version__
from chatd.gateway import route as ws_route
from chatd.state import DaemonState
from chatd.web import auth_routes, downloads, static, uploads
from chatd.web import metrics as metrics_route
from chatd.web.body import BoundedConnection, BoundedRequest

log = logging.getLogger("chatd.http.access")  # chatd.log.ACCESS_LOGGER: opt-in at a terminal

MAX_REQUEST_BYTES = 64 * 1024  # JSON APIs; uploads (their own routes) set their own limit
HSTS_SECS = 180 * 86400  # half a year: long enough to matter, short enough to undo a mistake


def content_security_policy() -> str:
    """Strict CSP: same-origin scripts, styles and sockets only; no inline code, no framing."""
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: blob:",
            "media-src 'self'",  # users' video and audio (/files/…)
            "font-src 'self'",
            "connect-src 'self'",
            "manifest-src 'self'",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ]
    )


class ChatdApp(QuartTrio):
    """Quart-Trio whose request bodies never hold more than ``chatd.web.body.BUFFER_BYTES``
    unread (an upload streams to disk at the pace the disk takes it)."""

    asgi_http_class = BoundedConnection
    request_class = BoundedRequest


def create_app(state: DaemonState) -> QuartTrio:
    """Build the Quart-Trio app for ``state``; registers every route blueprint."""
    app = ChatdApp("chatd", static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.config["chatd"] = state
    csp = content_security_policy()

    @app.before_request
    async def _start_timer() -> None:
        g.started = time.perf_counter()

    @app.before_request
    async def _local_redirect() -> Response | None:
        # The router redirects /js//app.js to /js/app.js with an absolute URL built from the Host
        # header, which the client chose (and error handlers never see it): answer with the path
        # alone instead — one leading slash, never "//host", which would be another site.
        exc = request.routing_exception
        if not isinstance(exc, RequestRedirect):
            return None
        parts = urlsplit(exc.new_url)
        target = "/" + parts.path.lstrip("/") + (f"?{parts.query}" if parts.query else "")
        return Response("", exc.code, headers={"Location": target})

    @app.after_request
    async def _headers_and_log(response: Response) -> Response:
        h = response.headers
        h.setdefault("Content-Security-Policy", csp)
        h["X-Content-Type-Options"] = "nosniff"
        h["Referrer-Policy"] = "no-referrer"
        h["X-Frame-Options"] = "DENY"
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if state.config.tls:
            h["Strict-Transport-Security"] = f"max-age={HSTS_SECS}"
        if "Cache-Control" not in h:
            h["Cache-Control"] = "no-store"
        elapsed_ms = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        log.info(
            "event=http.request method=%s path=%s status=%d ms=%.1f addr=%s",
            request.method, request.path, response.status_code, elapsed_ms, request.remote_addr,
        )
        return response

    @app.errorhandler(404)
    async def _not_found(_: Exception) -> tuple[Response, int]:
        return jsonify(error="not_found", message="no such page"), 404

    @app.errorhandler(405)
    async def _bad_method(_: Exception) -> tuple[Response, int]:
        return jsonify(error="method_not_allowed", message="this method is not allowed here"), 405

    @app.errorhandler(413)
    async def _too_large(_: Exception) -> tuple[Response, int]:
        return jsonify(error="too_large", message=f"request body over {MAX_REQUEST_BYTES} bytes"), 413

    @app.errorhandler(500)
    async def _server_error(_: Exception) -> tuple[Response, int]:
        return jsonify(error="internal", message="internal error; the server log has details"), 500

    @app.get("/healthz")
    async def healthz() -> tuple[Response, int]:
        """200 when the database answers, 503 otherwise; JSON either way. Public.

        ``files`` is ``"low_space"`` while uploads may be refused for lack of disk space (text
        messages still work, so the status stays 200)."""
        ok = await state.db.ping()
        body = {
            "status": "ok" if ok and not state.draining.is_set() else "unavailable",
            "database": "ok" if ok else "unreachable",
            "files": "low_space" if state.files.space.low else "ok",
            "draining": state.draining.is_set(),
            "version": __version__,
            "uptime_secs": int(time.time() - state.started_at),
        }
        return jsonify(body), 200 if ok and not state.draining.is_set() else 503

    for register in (
        static.register, auth_routes.register, ws_route.register, uploads.register, downloads.register,
        metrics_route.register,
    ):
        register(app, state)
    return app
