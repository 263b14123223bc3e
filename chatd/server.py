"""``chatd serve``: the daemon's lifetime, from data directory to graceful shutdown.

Nesting follows lifetimes (outermost lives longest): trio-asyncio loop → embedded PostgreSQL →
database pool and migrations → the service nursery (PostgreSQL watchdog, background services) →
the web nursery (the app's lifespan, the heartbeat) → the connections nursery (every accepted
connection) → the accept loops. chatd accepts on its listeners itself (``chatd.gateway.listener``):
``GET /ws`` upgrades take chatd's own WebSocket path, every other request goes to Hypercorn's
per-connection server (``chatd.hypercorn_serve``). A shutdown request (first SIGTERM/SIGINT)
sets ``state.draining``: accepting stops, WebSockets are closed with 1001, idle HTTP connections
close, in-flight requests get ``shutdown_grace_secs``; then the pool closes and the cluster stops.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import ssl
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import hypercorn.config
import trio
import trio_asyncio
from hypercorn.utils import repr_socket_addr

from chatd import hypercorn_pings
from chatd.clock import Clock
from chatd.config import Config
from chatd.dbctx import ensure_embedded_database
from chatd.gateway.accept import open_session
from chatd.gateway.heartbeat import Heartbeat
from chatd.gateway.listener import Listener
from chatd.hypercorn_serve import HypercornHTTP
from chatd.pgcluster import ClusterError, EmbeddedCluster
from chatd.sdnotify import Notifier
from chatd.services import start_services
from chatd.state import DaemonState, build_state
from chatd.store import Database, open_database
from chatd.store.channels import ensure_default_channel
from chatd.store.migrate import apply_migrations
from chatd.tls import TLSConfigError, TLSFiles, ensure_tls, reload_certificate, server_context
from chatd.web.app import create_app

log = logging.getLogger("chatd.server")

PG_WATCH_SECS = 0.5  # how soon a dead embedded PostgreSQL is noticed
LISTEN_BACKLOG = 4096  # the kernel caps it at net.core.somaxconn (4096 on current Linux)


class StartupError(Exception):
    """chatd cannot start; the message tells the operator what to fix."""


def prepare_data_dir(path: Path) -> Path:
    """Create the data directory (0700) if needed and check it is writable."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise StartupError(f"data_dir {path}: cannot create it ({exc.strerror})") from None
    if not path.is_dir():
        raise StartupError(f"data_dir {path}: exists and is not a folder")
    probe = path / ".write-test"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise StartupError(f"data_dir {path}: not writable ({exc.strerror})") from None
    return path.resolve()


class _HypercornConfig(hypercorn.config.Config):
    """Hypercorn's configuration, serving chatd's own TLS context (``chatd.tls.server_context``)
    so that a certificate reload reaches the live listener."""

    ssl_context: ssl.SSLContext | None = None

    def create_ssl_context(self) -> ssl.SSLContext | None:
        return self.ssl_context

    @property
    def ssl_enabled(self) -> bool:
        return self.ssl_context is not None


def _hypercorn_config(cfg: Config, tls: TLSFiles | None) -> _HypercornConfig:
    hypercorn_pings.install()  # a closed WebSocket must not linger until its next ping
    hc = _HypercornConfig()
    hc.bind = [f"unix:{cfg.unix_socket}"] if cfg.unix_socket else [_bind(cfg.host, cfg.port)]
    hc.websocket_max_message_size = cfg.max_frame_bytes
    hc.websocket_ping_interval = cfg.ws_ping_secs
    hc.graceful_timeout = cfg.shutdown_grace_secs
    # A reconnect storm opens a thousand connections at once; with Hypercorn's 100 the kernel
    # drops SYNs past the backlog and those clients retry only after 1 s, 3 s, 7 s…
    hc.backlog = LISTEN_BACKLOG
    hc.accesslog = None
    hc.errorlog = logging.getLogger("hypercorn.error")
    hc.include_server_header = False
    # HTTP/1.1 only. Hypercorn 0.18's HTTP/2 drops a WebSocket stream as soon as the server
    # closes it; the browser's close reply then arrives on the dropped stream and raises a
    # KeyError (hypercorn/protocol/h2.py) that escapes the connection and stops the whole
    # server. chatd serves a handful of small assets, so HTTP/2 buys little; behind HAProxy the
    # browser side may still speak HTTP/2 to the proxy.
    hc.alpn_protocols = ["http/1.1"]
    hc.h2_max_concurrent_streams = 100
    if tls is not None:
        hc.ssl_context = server_context(tls, hc.alpn_protocols)
    # Liveness: Hypercorn pings every ws_ping_secs; a live peer answers with a pong (bytes on the
    # wire), so a connection silent for ws_timeout_secs is dead and its read times out.
    hc.read_timeout = int(cfg.ws_timeout_secs + 0.999)
    return hc


def _listen(hc: _HypercornConfig) -> list[socket.socket]:
    """The bound sockets of ``hc.bind``, listening (chatd accepts on them, not Hypercorn)."""
    sockets = hc.create_sockets()
    socks = [*sockets.secure_sockets, *sockets.insecure_sockets]
    for sock in socks:
        sock.listen(hc.backlog)
    return socks


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _check_port_free(cfg: Config) -> None:
    if cfg.unix_socket or cfg.port == 0:
        return
    family = socket.AF_INET6 if ":" in cfg.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((cfg.host, cfg.port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise StartupError(
                    f"port {cfg.port} on {cfg.host} is already in use (another chatd?); "
                    "choose another with --port or CHATD_PORT"
                ) from None
            raise StartupError(f"cannot listen on {cfg.host}:{cfg.port}: {exc.strerror}") from None


async def _watch_cluster(cluster: EmbeddedCluster) -> None:
    """Raise ClusterError if the embedded PostgreSQL exits while chatd runs."""
    while True:
        proc = cluster.process
        if proc is None or proc.poll() is not None:
            code = None if proc is None else proc.returncode
            raise ClusterError(f"the embedded PostgreSQL exited (code {code}); log:\n{cluster.log_tail()}")
        await trio.sleep(PG_WATCH_SECS)


@dataclass
class ServeInfo:
    """What a started server reports: its URLs (``https://127.0.0.1:8443``) and TLS fingerprint.

    ``reload()`` (SIGHUP) re-reads the certificate files into the live listener.
    """

    urls: list[str]
    fingerprint_sha256: str
    state: DaemonState
    notifier: Notifier = field(default_factory=Notifier)
    tls: TLSFiles | None = None
    ssl_context: ssl.SSLContext | None = None

    def reload(self) -> None:
        """Load renewed certificate files; new handshakes use them, open connections stay.

        A pair that cannot be used is logged and the current one kept.
        """
        if self.tls is None or self.ssl_context is None:
            log.info("event=reload.nothing reason=no_tls")
            return
        self.notifier.notify("RELOADING=1", "STATUS=reloading the certificate")
        try:
            self.tls = reload_certificate(self.ssl_context, self.tls)
        except TLSConfigError as exc:
            log.error("event=tls.reload_failed error=%s action=kept_current", str(exc))
        else:
            self.fingerprint_sha256 = self.tls.fingerprint_sha256
            log.info("event=tls.reloaded cert=%s sha256=%s", self.tls.cert, self.tls.fingerprint_sha256)
        self.notifier.notify("READY=1", "STATUS=serving")


async def run_services(
    cfg: Config,
    db: Database,
    *,
    shutdown: trio.Event,
    cluster: EmbeddedCluster | None = None,
    clock: Clock | None = None,
    notifier: Notifier | None = None,
    task_status: Any = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve HTTP(S) and WebSockets until ``shutdown`` is set, then drain.

    ``task_status.started`` receives a ``ServeInfo`` (bound URLs, certificate fingerprint).
    ``notifier`` hears READY=1 once the listener is bound, STOPPING=1 when draining, and gets
    its watchdog pinged from this event loop.
    """
    notifier = notifier or Notifier()
    tls = None
    if cfg.tls:
        tls = ensure_tls(cfg.data_dir, cfg.tls_cert, cfg.tls_key)
        if tls.generated:
            log.info("event=tls.generated cert=%s", tls.cert)
        log.info("event=tls.ready cert=%s sha256=%s", tls.cert, tls.fingerprint_sha256)
    _check_port_free(cfg)
    hc = _hypercorn_config(cfg, tls)

    state = build_state(cfg, db, clock)

    async with trio.open_nursery() as services:
        if cluster is not None:
            services.start_soon(_watch_cluster, cluster)
        await services.start(notifier.keep_watchdog)
        await start_services(services, state)
        app = create_app(state)
        http = HypercornHTTP(app, hc)
        heartbeat = Heartbeat(cfg.ws_ping_secs, cfg.ws_timeout_secs)
        listener = Listener(hc.ssl_context, partial(open_session, state, heartbeat), http.serve_connection)
        socks = _listen(hc)
        scheme = "https" if hc.ssl_context is not None else "http"
        binds = [f"{scheme}://{repr_socket_addr(s.family, s.getsockname())}" for s in socks]
        async with trio.open_nursery() as web:
            await web.start(http.run)
            web.start_soon(heartbeat.run)
            async with trio.open_nursery() as connections:
                try:
                    async with trio.open_nursery() as accepting:
                        accepting.start_soon(listener.serve, socks, connections)
                        # The origin list needs the real port when port 0 was asked for.
                        port = int(binds[0].rsplit(":", 1)[1]) if binds and not cfg.unix_socket else None
                        state.origins = cfg.origins(port)
                        log.info("event=server.listening urls=%s origins=%s", ",".join(binds), ",".join(state.origins))
                        info = ServeInfo(binds, tls.fingerprint_sha256 if tls else "", state, notifier, tls, hc.ssl_context)
                        # Migrations ran, the pool is open, the listener is bound: systemd may send traffic.
                        notifier.notify("READY=1", f"STATUS=serving {','.join(binds)}", f"MAINPID={os.getpid()}")
                        task_status.started(info)
                        await shutdown.wait()
                        notifier.notify("STOPPING=1", "STATUS=draining")
                        state.draining.set()  # every WebSocket closes with 1001 (chatd.services)
                        log.info("event=server.draining grace_secs=%g", cfg.shutdown_grace_secs)
                        accepting.cancel_scope.cancel()
                finally:
                    for sock in socks:
                        sock.close()
                await http.terminate()  # kept-alive HTTP connections close when idle
                connections.cancel_scope.deadline = trio.current_time() + cfg.shutdown_grace_secs
            web.cancel_scope.cancel()  # the heartbeat; the app's lifespan shuts down first
        # Every connection is closed, or the grace period ran out.
        services.cancel_scope.cancel()
    log.info("event=server.stopped")


async def serve(
    cfg: Config, *, shutdown: trio.Event, task_status: Any = trio.TASK_STATUS_IGNORED
) -> None:
    """The whole daemon: data dir, database (embedded or external), migrations, services."""
    t0 = time.monotonic()
    notifier = Notifier.from_environ()  # before the embedded PostgreSQL could inherit it
    data_dir = prepare_data_dir(cfg.data_dir)
    cluster: EmbeddedCluster | None = None
    async with trio_asyncio.open_loop():
        try:
            if cfg.embedded_db:
                cluster = EmbeddedCluster(data_dir)
                created = await trio.to_thread.run_sync(cluster.prepare)
                # start() spawns the server with a parent-death signal: it must run in this
                # (long-lived) thread, not a worker thread that exits.
                cluster.start()
                dsn = cluster.dsn
                await ensure_embedded_database(cluster)
                log.info("event=db.embedded created=%s pgdata=%s", created, cluster.pgdata)
            else:
                dsn = cfg.database_url
            async with open_database(dsn, cfg.db_pool_size, cfg.db_connect_timeout_secs) as db:
                applied = await apply_migrations(db)
                if applied:
                    log.info("event=migrate.done applied=%s", ",".join(m.path.name for m in applied))
                await ensure_default_channel(db)
                log.info("event=server.ready seconds=%.2f", time.monotonic() - t0)
                await run_services(
                    cfg, db, shutdown=shutdown, cluster=cluster, notifier=notifier, task_status=task_status
                )
        finally:
            if cluster is not None:
                with trio.CancelScope(shield=True):  # also on a forced exit: never orphan it
                    await trio.to_thread.run_sync(cluster.stop)


def print_banner(info: ServeInfo, cfg: Config) -> None:
    """Tell the person at the terminal where to go (stdout; logs stay on stderr)."""
    for url in info.urls:
        print(f"chatd is running at {url}/", flush=True)
    if info.fingerprint_sha256:
        print(f"TLS certificate SHA-256 fingerprint: {info.fingerprint_sha256}", flush=True)
    print(f"data directory: {cfg.data_dir}   (Ctrl-C stops chatd)", flush=True)
