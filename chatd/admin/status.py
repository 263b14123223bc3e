"""``chatd status``: the running daemon's health and metrics, and the database's size, for a person.

It reads what Prometheus reads — ``/healthz`` and ``/metrics`` of the configured listener (with
``metrics_token`` when ``metrics = "token"``) — and counts rows in the database.
"""

from __future__ import annotations

import argparse
import json
import re
import ssl
import urllib.error
import urllib.request
from pathlib import Path

import trio

from chatd.admin.common import AddCommon, SubParsers, leaf
from chatd.config import Config
from chatd.store import Database, inventory

_SAMPLE = re.compile(r'^([a-z_]+)(?:\{le="([^"]+)"\})? (\S+)$')
FETCH_SECS = 10.0


def local_url(cfg: Config) -> str:
    """The daemon's own listener as this machine reaches it."""
    host = "127.0.0.1" if cfg.host in ("0.0.0.0", "::", "") else cfg.host
    host = f"[{host}]" if ":" in host else host
    return f"{cfg.scheme}://{host}:{cfg.port}"


def _ssl_context(cfg: Config) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    cert = Path(cfg.tls_cert) if cfg.tls_cert else cfg.data_dir / "tls-cert.pem"
    if cert.is_file():
        ctx.load_verify_locations(cert)  # the self-signed certificate is its own anchor
        ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    ctx.check_hostname = False  # a loopback address; the certificate itself is verified
    return ctx


def _get(url: str, cfg: Config, token: str) -> tuple[int, str]:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=FETCH_SECS, context=_ssl_context(cfg)) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
    except (OSError, ValueError) as exc:
        return 0, str(exc)


def parse_text(text: str) -> dict[str, float]:
    """Samples of chatd's own exposition text: ``name`` or ``name{le}`` → value."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        m = _SAMPLE.match(line)
        if m:
            key = f"{m.group(1)}{{{m.group(2)}}}" if m.group(2) else m.group(1)
            out[key] = float(m.group(3))
    return out


def quantile(samples: dict[str, float], name: str, q: float) -> str:
    """The bucket bound under which ``q`` of the observations fall (``≤ 5 ms``)."""
    total = samples.get(f"{name}_count", 0)
    if not total:
        return "-"
    for key, value in samples.items():
        if key.startswith(f"{name}_bucket{{") and value >= q * total:
            bound = key[len(name) + 8:-1]
            return "> 5 s" if bound == "+Inf" else f"≤ {float(bound) * 1000:g} ms"
    return "-"


def _human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000:
            return f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} PB"


async def cmd_status(args: argparse.Namespace, cfg: Config, db: Database) -> int:
    url = (args.url or local_url(cfg)).rstrip("/")
    status, health = await trio.to_thread.run_sync(_get, url + "/healthz", cfg, "")
    if status in (200, 503):
        h = json.loads(health)
        print(f"chatd at {url}: {h['status']} (database {h['database']}, version {h['version']}, "
              f"up {h['uptime_secs'] // 3600} h {h['uptime_secs'] // 60 % 60} min)")
    else:
        print(f"chatd at {url}: not answering ({health or status})")
    counts = await inventory.table_counts(db)
    print(f"database: schema {await inventory.schema_version(db)}, {counts['messages']} messages, "
          f"{counts['channels']} channels, {counts['users']} users, {counts['sessions']} sessions")
    if cfg.metrics == "off":
        print('metrics: off (set metrics = "loopback" or "token" to see live figures here and in Prometheus)')
        return 0
    status, text = await trio.to_thread.run_sync(_get, url + "/metrics", cfg, cfg.metrics_token)
    if status != 200:
        print(f"metrics: not available ({status}: {text[:200]})")
        return 0
    s = parse_text(text)
    pool = f"{s.get('chatd_db_pool_in_use', 0):.0f} in use of {s.get('chatd_db_pool_connections', 0):.0f} open"
    replays = s.get("chatd_replay_messages_count", 0)
    rows = [
        ("connections", f"{s.get('chatd_connections', 0):.0f}"),
        ("messages sent", f"{s.get('chatd_messages_sent_total', 0):.0f} since start"),
        ("ack latency", f"p50 {quantile(s, 'chatd_ack_latency_seconds', 0.5)}, "
                        f"p99 {quantile(s, 'chatd_ack_latency_seconds', 0.99)}"),
        ("deliveries", f"{s.get('chatd_deliveries_total', 0):.0f}"),
        ("slow-consumer closes", f"{s.get('chatd_slow_consumer_closes_total', 0):.0f}"),
        ("resumes", f"{replays:.0f}, {s.get('chatd_replay_messages_sum', 0) / max(replays, 1):.1f} messages "
                    f"replayed on average; {s.get('chatd_resyncs_total', 0):.0f} resyncs"),
        ("database pool", f"{pool} (max {s.get('chatd_db_pool_max', 0):.0f})"),
        ("disk free (files)", _human_bytes(s.get("chatd_disk_free_bytes", 0))),
        ("uploads", f"{s.get('chatd_uploads_total', 0):.0f}"),
        ("memory (RSS)", _human_bytes(s.get("chatd_resident_memory_bytes", 0))),
    ]
    for label, value in rows:
        print(f"  {label:<22}{value}")
    return 0


def add_commands(sub: SubParsers, common: AddCommon) -> None:
    p = leaf(sub, common, "status", "show the running chatd's health and live figures",
             "Print /healthz and /metrics of the running chatd in words, and the database's size.",
             "  chatd status\n  chatd status --url http://127.0.0.1:8080\n", cmd_status)
    p.add_argument("--url", help="the daemon's base URL (default: its configured listener on this machine)")
