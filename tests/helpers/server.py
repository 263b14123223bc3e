"""A running chatd for tests, and small HTTP helpers that speak to it over real TLS."""

from __future__ import annotations

import http.client
import json
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import trio

from chatd.clock import Clock
from chatd.config import Config
from chatd.server import ServeInfo, run_services
from chatd.state import DaemonState
from chatd.store import Database


def insecure_ssl_context() -> ssl.SSLContext:
    """Accept the test server's self-signed certificate (tests only)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    cookies: list[str] = field(default_factory=list)

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def http_request_sync(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> Response:
    parts = urlsplit(url)
    conn = http.client.HTTPSConnection(parts.hostname, parts.port, context=insecure_ssl_context(), timeout=30) \
        if parts.scheme == "https" else http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, path or "/", body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
        cookies = [v for k, v in resp.getheaders() if k.lower() == "set-cookie"]
        return Response(resp.status, hdrs, data, cookies)
    finally:
        conn.close()


async def http_request(
    method: str, url: str, *, json_body: Any = None, body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """One HTTP request from a worker thread (the server runs in this test's Trio loop)."""
    hdrs = dict(headers or {})
    if json_body is not None:
        body = json.dumps(json_body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    return await trio.to_thread.run_sync(http_request_sync, method, url, body, hdrs)


@dataclass
class Endpoint:
    """A chatd reachable at ``url`` (in-process or a subprocess)."""

    url: str

    @property
    def origin(self) -> str:
        return self.url

    @property
    def ws_url(self) -> str:
        return self.url.replace("https://", "wss://").replace("http://", "ws://") + "/ws"

    async def get(self, path: str, **kw: Any) -> Response:
        return await http_request("GET", self.url + path, **kw)

    async def post(self, path: str, **kw: Any) -> Response:
        headers = kw.pop("headers", None) or {}
        headers.setdefault("Origin", self.origin)
        return await http_request("POST", self.url + path, headers=headers, **kw)


@dataclass
class RunningServer(Endpoint):
    """An in-process chatd (``run_services``) with its configuration, database and state."""

    config: Config
    db: Database
    info: ServeInfo
    shutdown: trio.Event

    @property
    def state(self) -> DaemonState:
        return self.info.state


@asynccontextmanager
async def run_test_server(
    cfg: Config, db: Database, nursery: trio.Nursery, clock: Clock | None = None
) -> AsyncIterator[RunningServer]:
    """Start ``run_services`` in ``nursery``; shut it down gracefully when the block exits."""
    shutdown = trio.Event()
    info: ServeInfo = await nursery.start(
        lambda task_status: run_services(cfg, db, shutdown=shutdown, clock=clock, task_status=task_status)
    )
    try:
        yield RunningServer(info.urls[0], cfg, db, info, shutdown)
    finally:
        shutdown.set()
