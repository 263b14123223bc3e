"""chatd's configuration: defaults, then a TOML file, then ``CHATD_*`` variables, then flags.

Every key is declared once in ``FIELDS`` with its type, default and check. ``load_config`` merges
the sources and validates every value; a bad value raises ``ConfigError`` naming the key, the value
and what was expected (the CLI turns it into exit code 2). An unknown key in the file is refused
for the same reason a typo must not pass silently: ``sesion_idle_secs = 60`` would otherwise leave
sessions at their default lifetime without a word. Unknown ``CHATD_*`` variables only warn, since
the environment is shared with other tools.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENV_PREFIX = "CHATD_"
CONFIG_FILE_NAME = "chatd.toml"
# Environment variables that are not configuration keys but are read elsewhere.
ENV_NOT_KEYS = frozenset({"CHATD_PG_BIN", "CHATD_CONFIG"})
SECRET_KEYS = frozenset({"database_url", "metrics_token"})
METRICS_TOKEN_MIN_CHARS = 16


class ConfigError(Exception):
    """A configuration value is invalid. ``str()`` is the message for the operator."""

    def __init__(self, key: str, value: object, expected: str, source: str = "") -> None:
        self.key, self.value, self.expected, self.source = key, value, expected, source
        where = f" (from {source})" if source else ""
        super().__init__(f"invalid configuration {key}={value!r}{where}: expected {expected}")


def default_data_dir() -> Path:
    """``/var/lib/chatd`` for root (the service account's home), else the XDG data folder."""
    if os.geteuid() == 0:
        return Path("/var/lib/chatd")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "chatd"


@dataclass(frozen=True)
class Config:
    """The effective configuration. Field docs are in docs/configuration.md."""

    data_dir: Path = field(default_factory=default_data_dir)
    host: str = "127.0.0.1"
    port: int = 8443
    unix_socket: str = ""
    tls: bool = True
    tls_cert: str = ""
    tls_key: str = ""
    public_origins: tuple[str, ...] = ()
    database_url: str = ""
    db_connect_timeout_secs: float = 60.0
    db_pool_size: int = 10
    log_level: str = "info"
    access_log: str = "auto"
    registration: str = "open"
    session_idle_secs: int = 14 * 24 * 3600
    session_max_secs: int = 90 * 24 * 3600
    max_body_bytes: int = 16 * 1024
    max_frame_bytes: int = 64 * 1024
    resume_cap: int = 500
    ws_ping_secs: float = 10.0
    ws_timeout_secs: float = 25.0
    shutdown_grace_secs: float = 10.0
    session_check_secs: float = 30.0
    outbound_queue_frames: int = 8192
    trusted_proxies: tuple[str, ...] = ()
    metrics: str = "off"
    metrics_token: str = ""
    files_max_bytes: int = 100 * 1024 * 1024
    files_quota_bytes: int = 10 * 1024 * 1024 * 1024
    files_pending_max: int = 5
    files_reserve_bytes: int = 1024 * 1024 * 1024
    files_unattached_secs: int = 24 * 3600
    # Registrations with valid fields an address may attempt per hour (a burst of that many, then
    # refilled over the hour), and the whole server in open mode; 0: no limit (docs/operate.md).
    registrations_per_hour_per_address: int = 10
    registrations_per_hour: int = 60
    # Open WebSockets per user (all devices and tabs) and per client address (IPv6: per /64;
    # loopback peers — a local proxy or tool — are not counted); 0: no limit.
    max_connections_per_user: int = 32
    max_connections_per_address: int = 128
    vitals_log_secs: float = 600.0  # event=server.vitals (memory, fds, tasks) this often; 0: never

    @property
    def embedded_db(self) -> bool:
        return not self.database_url

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    def origins(self, bound_port: int | None = None) -> tuple[str, ...]:
        """Origins the WebSocket upgrade and state-changing requests accept.

        The configured ``public_origins``, else the listener's own https origins on loopback names.
        """
        if self.public_origins:
            return self.public_origins
        port = bound_port or self.port
        hosts = {self.host, "localhost", "127.0.0.1", "[::1]"}
        return tuple(sorted(f"{self.scheme}://{h}:{port}" for h in hosts if h not in ("0.0.0.0", "::")))

    def masked(self) -> dict[str, Any]:
        """The configuration as plain values with secrets masked (``config show``)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in SECRET_KEYS and value:
                value = _mask_url(value) if f.name == "database_url" else "***"
            if isinstance(value, Path):
                value = str(value)
            if isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out


def _mask_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


# --- checks: each returns the converted value or raises ValueError(expected) ---


def _int_range(lo: int, hi: int) -> Callable[[Any], int]:
    def check(v: Any) -> int:
        if isinstance(v, bool):
            raise ValueError(f"an integer from {lo} to {hi}")
        if isinstance(v, str):
            try:
                v = int(v.strip())
            except ValueError:
                raise ValueError(f"an integer from {lo} to {hi}") from None
        if not isinstance(v, int) or not lo <= v <= hi:
            raise ValueError(f"an integer from {lo} to {hi}")
        return v

    return check


def _float_range(lo: float, hi: float) -> Callable[[Any], float]:
    def check(v: Any) -> float:
        if isinstance(v, bool):
            raise ValueError(f"a number from {lo:g} to {hi:g}")
        if isinstance(v, str):
            try:
                v = float(v.strip())
            except ValueError:
                raise ValueError(f"a number from {lo:g} to {hi:g}") from None
        if not isinstance(v, int | float) or not lo <= v <= hi:
            raise ValueError(f"a number from {lo:g} to {hi:g}")
        return float(v)

    return check


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if isinstance(v, str) and v.strip().lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError("true or false")


def _choice(*options: str) -> Callable[[Any], str]:
    def check(v: Any) -> str:
        if not isinstance(v, str) or v.strip().lower() not in options:
            raise ValueError("one of " + ", ".join(options))
        return v.strip().lower()

    return check


def _text(v: Any) -> str:
    if not isinstance(v, str):
        raise ValueError("a string")
    return v


def _host(v: Any) -> str:
    if not isinstance(v, str) or not v.strip() or any(c.isspace() for c in v.strip()):
        raise ValueError("a host name or IP address, such as 127.0.0.1")
    return v.strip()


def _path(v: Any) -> Path:
    if not isinstance(v, str | Path) or not str(v).strip():
        raise ValueError("a folder path")
    return Path(v).expanduser()


def _str_list(what: str, item: Callable[[str], str]) -> Callable[[Any], tuple[str, ...]]:
    def check(v: Any) -> tuple[str, ...]:
        if isinstance(v, str):
            v = [p for p in (s.strip() for s in v.split(",")) if p]
        if not isinstance(v, list | tuple) or not all(isinstance(s, str) for s in v):
            raise ValueError(what)
        return tuple(item(s) for s in v)

    return check


def _origin(v: str) -> str:
    parts = urlsplit(v.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise ValueError("a list of origins such as https://chat.example.org (scheme://host[:port])")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _database_url(v: Any) -> str:
    if not isinstance(v, str):
        raise ValueError("a PostgreSQL URL such as postgresql://chatd@localhost/chatd")
    if not v:
        return v
    parts = urlsplit(v)
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValueError("a PostgreSQL URL with a numeric port") from None
    if parts.scheme not in ("postgresql", "postgres") or not (parts.netloc or "host=" in parts.query):
        raise ValueError("a PostgreSQL URL such as postgresql://chatd@localhost/chatd")
    return v


CHECKS: Mapping[str, Callable[[Any], Any]] = {
    "data_dir": _path,
    "host": _host,
    "port": _int_range(0, 65535),
    "unix_socket": _text,
    "tls": _bool,
    "tls_cert": _text,
    "tls_key": _text,
    "public_origins": _str_list("a list of origins such as https://chat.example.org", _origin),
    "database_url": _database_url,
    "db_connect_timeout_secs": _float_range(0, 3600),
    "db_pool_size": _int_range(2, 200),
    "log_level": _choice("debug", "info", "warning", "error"),
    "access_log": _choice("auto", "on", "off"),
    "registration": _choice("open", "invite", "closed"),
    "session_idle_secs": _int_range(60, 10 * 365 * 86400),
    "session_max_secs": _int_range(60, 10 * 365 * 86400),
    "max_body_bytes": _int_range(1, 60 * 1024),
    "max_frame_bytes": _int_range(1024, 16 * 1024 * 1024),
    "resume_cap": _int_range(1, 1_000_000),
    "ws_ping_secs": _float_range(0.1, 3600),
    "ws_timeout_secs": _float_range(0.2, 7200),
    "shutdown_grace_secs": _float_range(0, 600),
    "session_check_secs": _float_range(0.05, 3600),
    "outbound_queue_frames": _int_range(16, 1_000_000),
    "trusted_proxies": _str_list("a list of IP addresses", _host),
    "metrics": _choice("off", "loopback", "token"),
    "metrics_token": _text,
    "files_max_bytes": _int_range(1, 1 << 40),
    "files_quota_bytes": _int_range(0, 1 << 50),
    "files_pending_max": _int_range(1, 1000),
    "files_reserve_bytes": _int_range(0, 1 << 50),
    "files_unattached_secs": _int_range(60, 365 * 86400),
    "registrations_per_hour_per_address": _int_range(0, 1_000_000),
    "registrations_per_hour": _int_range(0, 1_000_000),
    "max_connections_per_user": _int_range(0, 1_000_000),
    "max_connections_per_address": _int_range(0, 1_000_000),
    "vitals_log_secs": _float_range(0, 86400),
}
assert set(CHECKS) == {f.name for f in fields(Config)}, "every key needs a check"


def _apply(values: dict[str, Any], raw: Mapping[str, Any], source: str) -> None:
    for key, value in raw.items():
        check = CHECKS.get(key)
        if check is None:
            raise ConfigError(key, value, "a known key (see `chatd config show` for the list)", source)
        try:
            values[key] = check(value)
        except ValueError as exc:
            raise ConfigError(key, value, str(exc), source) from None


def load_config(
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    warn: Callable[[str], None] | None = None,
) -> Config:
    """Merge defaults < TOML file < ``CHATD_*`` environment < ``overrides`` (CLI flags).

    The file is ``config_file`` if given (it must exist), else ``CHATD_CONFIG``, else
    ``<data_dir>/chatd.toml`` when that exists. Raises ConfigError on any invalid value.
    """
    env = dict(os.environ) if env is None else dict(env)
    overrides = dict(overrides or {})
    values: dict[str, Any] = {}

    env_raw = {
        k[len(ENV_PREFIX):].lower(): v
        for k, v in env.items()
        if k.startswith(ENV_PREFIX) and k not in ENV_NOT_KEYS
    }
    unknown_env = sorted(k for k in env_raw if k not in CHECKS)
    for k in unknown_env:
        if warn:
            warn(f"ignoring unknown environment variable {ENV_PREFIX}{k.upper()}")
        del env_raw[k]

    # The data dir decides where the default config file lives, so settle it first.
    pre: dict[str, Any] = {}
    _apply(pre, {k: v for k, v in env_raw.items() if k == "data_dir"}, "environment")
    _apply(pre, {k: v for k, v in overrides.items() if k == "data_dir"}, "command line")

    path = config_file or (Path(env["CHATD_CONFIG"]) if env.get("CHATD_CONFIG") else None)
    explicit = path is not None
    if path is None:
        path = Path(pre.get("data_dir", default_data_dir())) / CONFIG_FILE_NAME
    if path.exists() or explicit:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError("config", str(path), "an existing TOML file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError("config", str(path), f"a readable UTF-8 file ({exc})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError("config", str(path), f"valid TOML ({exc})") from None
        _apply(values, raw, str(path))
    _apply(values, env_raw, "environment")
    _apply(values, overrides, "command line")
    cfg = replace(Config(), **values)
    if cfg.session_max_secs < cfg.session_idle_secs:
        raise ConfigError(
            "session_max_secs", cfg.session_max_secs, f"at least session_idle_secs ({cfg.session_idle_secs})"
        )
    if cfg.ws_timeout_secs <= cfg.ws_ping_secs:
        raise ConfigError("ws_timeout_secs", cfg.ws_timeout_secs, f"more than ws_ping_secs ({cfg.ws_ping_secs:g})")
    if cfg.metrics == "token" and len(cfg.metrics_token) < METRICS_TOKEN_MIN_CHARS:
        raise ConfigError("metrics_token", "***" if cfg.metrics_token else "",
                          f"at least {METRICS_TOKEN_MIN_CHARS} characters when metrics = \"token\"")
    if bool(cfg.tls_cert) != bool(cfg.tls_key):
        key = "tls_key" if cfg.tls_cert else "tls_cert"
        raise ConfigError(key, "", "both tls_cert and tls_key, or neither (a self-signed pair is generated)")
    return cfg
