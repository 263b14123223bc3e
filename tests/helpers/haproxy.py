"""A real HAProxy on loopback running the shipped ``haproxy.cfg``, for tests.

The shipped file is the documented one. ``loopback_config`` rewrites only what a test machine needs
different: the listening ports, the certificate path, the backend address, the log target and the
global connection limit (plus timeouts a test asks to shorten). Each rewrite must match the shipped text exactly once, so
a change to the shipped file that a test relies on fails loudly instead of being tested around.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from chatd.tls import generate_self_signed
from tests.helpers.tools import require_tool

SHIPPED = Path(__file__).resolve().parents[2] / "haproxy.cfg"
START_SECS = 20.0


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _replace_once(text: str, old: str, new: str) -> str:
    count = text.count(old)
    assert count == 1, f"haproxy.cfg: expected {old!r} exactly once, found {count}"
    return text.replace(old, new)


def make_pem(folder: Path) -> Path:
    """A self-signed certificate and its key in one PEM file, as HAProxy's ``crt`` wants."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    generate_self_signed(cert, key, "localhost")
    pem = folder / "chat.pem"
    pem.write_bytes(cert.read_bytes() + key.read_bytes())
    return pem


def loopback_config(
    folder: Path, *, https_port: int, http_port: int, backend_port: int, pem: Path,
    timeouts: Mapping[str, str] | None = None,
) -> Path:
    """The shipped configuration for loopback; returns its path in ``folder``."""
    text = SHIPPED.read_text()
    text = _replace_once(text, "bind :443 ssl crt /etc/haproxy/certs/chat.pem",
                         f"bind 127.0.0.1:{https_port} ssl crt {pem}")
    text = _replace_once(text, "bind :80\n", f"bind 127.0.0.1:{http_port}\n")
    text = _replace_once(text, "server chatd1 127.0.0.1:8080 ", f"server chatd1 127.0.0.1:{backend_port} ")
    text = _replace_once(text, "log /dev/log local0", "log stderr format raw local0 info")
    # 20000 connections need 40030 descriptors, more than a test process may have (systemd's
    # haproxy.service raises the limit in production).
    text = _replace_once(text, "    maxconn 20000\n", "    maxconn 1000\n")
    for name, value in (timeouts or {}).items():
        line = next(ln for ln in text.splitlines() if ln.strip().startswith(f"timeout {name} "))
        text = _replace_once(text, line + "\n", f"    timeout {name} {value}\n")
    path = folder / "haproxy.cfg"
    path.write_text(text)
    return path


def check_config(path: Path) -> subprocess.CompletedProcess[str]:
    """``haproxy -c -f path``: exit 0 iff HAProxy accepts the file."""
    binary = require_tool("haproxy", "apt-get install haproxy")
    return subprocess.run([binary, "-c", "-f", str(path)], capture_output=True, text=True, timeout=60)


@dataclass
class RunningHAProxy:
    proc: subprocess.Popen[bytes]
    config: Path
    log: Path
    https_port: int
    http_port: int

    @property
    def https_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def reload(self) -> None:
        """A graceful reload (what ``systemctl reload haproxy`` does): new workers read the
        configuration and certificates; old ones keep their connections."""
        self.proc.send_signal(signal.SIGUSR2)


def _wait_listening(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + START_SECS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"haproxy exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"haproxy did not listen on {port} within {START_SECS} s:\n{log.read_text()}")


@contextmanager
def run_haproxy(
    folder: Path, backend_port: int, *, https_port: int | None = None, timeouts: Mapping[str, str] | None = None
) -> Iterator[RunningHAProxy]:
    """HAProxy (master-worker, foreground) with the shipped configuration in front of
    ``127.0.0.1:backend_port``; stopped when the block exits."""
    binary = require_tool("haproxy", "apt-get install haproxy")
    https_port = https_port or free_port()
    http_port = free_port()
    pem = make_pem(folder)
    config = loopback_config(folder, https_port=https_port, http_port=http_port, backend_port=backend_port,
                         pem=pem, timeouts=timeouts)
    log = folder / "haproxy.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen([binary, "-W", "-db", "-f", str(config)], stdout=fh, stderr=fh,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_listening(proc, https_port, log)
        yield RunningHAProxy(proc, config, log, https_port, http_port)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # its own session: the master and its workers
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
