"""``GET /metrics``: the Prometheus text endpoint, off unless configured.

``metrics = "loopback"`` answers only a request whose peer is a loopback address and that
carries no ``X-Forwarded-For``/``Forwarded`` header — a request relayed by HAProxy (which adds
one) is never local, even if ``trusted_proxies`` is empty. ``metrics = "token"`` wants
``Authorization: Bearer <metrics_token>``. Otherwise 404, as if there were no such page.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import shutil
import time
from typing import Any

from quart import Response, request

from chatd import metrics
from chatd.state import DaemonState
from chatd.web.guard import error_response, public

FILES_DIR = "files"  # DATA_DIR/files: the file store's folder, where disk space matters most


def _local_request() -> bool:
    if request.headers.get("X-Forwarded-For") is not None or request.headers.get("Forwarded") is not None:
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return request.remote_addr in ("<local>", "")  # a unix socket peer: only this machine


def _allowed(state: DaemonState) -> bool:
    cfg = state.config
    if cfg.metrics == "loopback":
        return _local_request()
    if cfg.metrics == "token":
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), cfg.metrics_token.encode())
    return False


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def gauges(state: DaemonState) -> list[metrics.Gauge]:
    """What is read at scrape time from the daemon's state."""
    size, in_use, maximum = state.db.pool_stats()
    files = state.config.data_dir / FILES_DIR
    disk = shutil.disk_usage(files if files.is_dir() else state.config.data_dir)
    G = metrics.Gauge
    return [
        G("chatd_connections", "Open WebSocket connections.", len(state.connections)),
        G("chatd_db_pool_connections", "Database connections open in the pool.", size),
        G("chatd_db_pool_in_use", "Database connections lent out right now.", in_use),
        G("chatd_db_pool_max", "The pool's maximum size (db_pool_size).", maximum),
        G("chatd_disk_free_bytes", "Free bytes on the file system of DATA_DIR/files.", disk.free),
        G("chatd_disk_total_bytes", "Size of the file system of DATA_DIR/files.", disk.total),
        G("chatd_resident_memory_bytes", "chatd's resident set size.", _rss_bytes()),
        G("chatd_uptime_seconds", "Seconds since chatd started.", round(time.time() - state.started_at, 3)),
        G("chatd_draining", "1 while chatd drains for a shutdown.", int(state.draining.is_set())),
    ]


def register(app: Any, state: DaemonState) -> None:
    @public
    async def metrics_page() -> Any:
        """The exposition text, to the configured scraper only."""
        if not _allowed(state):
            return error_response(404, "not_found", "no such page")
        body = metrics.render(gauges(state))
        return Response(body, 200, {"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})

    app.add_url_rule("/metrics", "metrics", metrics_page, methods=["GET"])
