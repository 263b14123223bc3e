"""The chatd under test: ``chatd serve`` as a child process on the embedded default.

The child runs from this checkout (``python -m chatd.cli serve`` with the repository root as its
working directory), on 127.0.0.1 with a fixed port chosen once (so that a restart keeps the URL
clients reconnect to), in its own session (a Ctrl-C in the terminal reaches the runner, which
then stops chatd properly), and with a parent-death signal (if the runner is killed, chatd gets
SIGTERM and stops its PostgreSQL). Its output goes to a log file next to the data directory.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import resource
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
URL_LINE = re.compile(r"chatd is running at (\S+?)/?$", re.M)
START_TIMEOUT_SECS = 120.0  # a first start runs initdb (2-5 s here) and may wait for a busy machine
STOP_TIMEOUT_SECS = 60.0
_PR_SET_PDEATHSIG = 1
NOFILE_WANTED = 65536  # S5 holds 10,000 sockets in chatd; root may raise the hard limit this far


def raise_nofile_limit() -> int:
    """Raise RLIMIT_NOFILE as far as allowed (children inherit it); returns the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(hard, NOFILE_WANTED) if os.geteuid() == 0 else hard
    try:
        nr_open = int(Path("/proc/sys/fs/nr_open").read_text())
        want = min(want, nr_open)
    except (OSError, ValueError):
        pass
    for target_hard in (want, hard):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target_hard, target_hard))
            return target_hard
        except (ValueError, OSError):
            continue
    return soft


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _child_setup() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class ServerError(Exception):
    """chatd did not start or stop as expected; the message carries its log tail."""


@dataclass
class ChatdServer:
    """One data directory and the chatd process currently serving it (if any)."""

    data_dir: Path
    log_dir: Path
    port: int = field(default_factory=free_port)
    tls: bool = True
    proc: subprocess.Popen[bytes] | None = None
    url: str = ""
    starts: int = 0
    log_path: Path | None = None
    # Timings of the last start, in time.monotonic(): spawn, banner printed, first HTTP answer.
    t_spawn: float = 0.0
    t_banner: float = 0.0
    t_accepting: float = 0.0

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def pg_socket_dir(self) -> Path:
        return self.data_dir / "pg-run"

    def start(self, timeout: float = START_TIMEOUT_SECS) -> None:
        """Spawn chatd; return once it answers HTTP(S) on its port and has printed its banner."""
        if self.proc is not None and self.proc.poll() is None:
            raise ServerError("chatd is already running")
        self.starts += 1
        self.log_path = self.log_dir / f"chatd-{self.starts}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHATD_")}
        env["CHATD_VITALS_LOG_SECS"] = "10"  # S12 reads the Trio task count from these lines
        args = [sys.executable, "-m", "chatd.cli", "serve", "--data-dir", str(self.data_dir),
                "--host", "127.0.0.1", "--port", str(self.port)]
        if not self.tls:
            args.append("--no-tls")
        log = self.log_path.open("wb")
        self.t_spawn = time.monotonic()
        self.t_banner = self.t_accepting = 0.0
        self.proc = subprocess.Popen(
            args, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=_child_setup,
        )
        log.close()
        deadline = self.t_spawn + timeout
        while not (self.t_banner and self.t_accepting):
            if self.proc.poll() is not None:
                raise ServerError(f"chatd exited with code {self.proc.returncode}:\n{self.log_tail()}")
            if not self.t_banner:
                m = URL_LINE.search(self._log_text())
                if m:
                    self.t_banner = time.monotonic()
                    self.url = m.group(1).rstrip("/")
            if not self.t_accepting and self._answers():
                self.t_accepting = time.monotonic()
            if time.monotonic() > deadline:
                raise ServerError(f"chatd did not answer within {timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(0.005)

    def _answers(self) -> bool:
        """True iff a TCP connect (+TLS handshake) and an HTTP request get a status line."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as raw:
                sock: socket.socket = raw
                if self.tls:
                    ctx = ssl.create_default_context()
                    ctx.check_hostname = False
                    ctx.verify_mode = ssl.CERT_NONE
                    sock = ctx.wrap_socket(raw)
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                return sock.recv(16).startswith(b"HTTP/")
        except OSError:
            return False

    def stop(self, timeout: float = STOP_TIMEOUT_SECS) -> float:
        """SIGTERM chatd and wait for it (SIGKILL after ``timeout``); returns seconds taken."""
        proc = self.proc
        if proc is None:
            return 0.0
        t0 = time.monotonic()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        self.proc = None
        self._reap_orphan_postgres()
        return time.monotonic() - t0

    def kill(self) -> None:
        """Best-effort cleanup on failure: SIGTERM, then SIGKILL; never raises."""
        with contextlib.suppress(Exception):
            self.stop(timeout=20)
        with contextlib.suppress(Exception):
            if self.proc is not None:
                self.proc.kill()

    def _reap_orphan_postgres(self) -> None:
        # chatd stops its PostgreSQL itself (and a parent-death signal covers SIGKILL); this is the
        # last line: a postmaster still serving our data dir is asked to stop, then killed.
        pidfile = self.data_dir / "pg" / "postmaster.pid"
        try:
            pid = int(pidfile.read_text().splitlines()[0])
        except (OSError, IndexError, ValueError):
            return
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return
        if str(self.data_dir / "pg").encode() not in cmdline:
            return
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            time.sleep(0.05)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)

    def _log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace") if self.log_path else ""
        except OSError:
            return ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self._log_text().splitlines()[-lines:])

    def dsn(self) -> str:
        return f"postgresql://chatd@/chatd?host={self.pg_socket_dir}&port=5432"
