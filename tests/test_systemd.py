"""systemd: the shipped unit passes ``systemd-analyze verify`` and scores <= 2.0 in ``systemd-analyze
security --offline=true``; chatd speaks sd_notify (READY=1 only once it serves, watchdog pings
from the event loop, STOPPING=1 on SIGTERM) to a fake NOTIFY_SOCKET."""

from __future__ import annotations

import array
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trio
import trio.testing

from chatd.sdnotify import Notifier
from tests.helpers.proc import ChatdProcess
from tests.helpers.server import http_request_sync
from tests.helpers.tools import require_tool

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "systemd" / "chatd.service"
MAX_EXPOSURE = 2.0


def unit_for_this_checkout(folder: Path, name: str = "chatd.service") -> Path:
    """A shipped unit with /opt/chatd (the documented install path) replaced by this checkout,
    so that ``verify`` finds the executables it names; every other line is the shipped one."""
    text = (UNIT.parent / name).read_text()
    assert "/opt/chatd/.venv/bin/chatd" in text
    path = folder / name
    path.write_text(text.replace("/opt/chatd", str(ROOT)))
    return path


def _analyze(*args: str) -> subprocess.CompletedProcess[str]:
    tool = require_tool("systemd-analyze", "apt-get install systemd")
    # verify also loads the units a unit refers to; run it from a neutral folder.
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=120, cwd="/")


def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    result = _analyze("verify", str(unit_for_this_checkout(tmp_path)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "chatd.service" not in result.stderr, result.stderr  # no warning about our unit either


def test_backup_timer_and_service_pass_verify(tmp_path: Path) -> None:
    service = unit_for_this_checkout(tmp_path, "chatd-backup.service")
    timer = tmp_path / "chatd-backup.timer"
    timer.write_text((UNIT.parent / "chatd-backup.timer").read_text())
    result = _analyze("verify", str(timer), str(service))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "chatd-backup" not in result.stderr, result.stderr


def test_unit_exposure_score_is_at_most_two(tmp_path: Path) -> None:
    result = _analyze("security", "--offline=true", str(unit_for_this_checkout(tmp_path)))
    assert result.returncode == 0, result.stdout + result.stderr
    m = re.search(r"Overall exposure level for chatd\.service: (\d+\.\d+)", result.stdout)
    assert m, result.stdout
    print(f"systemd-analyze security: {m.group(1)}")
    assert float(m.group(1)) <= MAX_EXPOSURE, result.stdout


def test_unit_runs_the_notify_protocol_chatd_speaks() -> None:
    text = UNIT.read_text()
    for line in ("Type=notify", "NotifyAccess=main", "WatchdogSec=30", "ExecReload=/bin/kill -HUP $MAINPID"):
        assert re.search(rf"^{re.escape(line)}$", text, re.M), line


# --- sd_notify against a fake NOTIFY_SOCKET ---------------------------------------------------


@dataclass
class FakeNotifySocket:
    """A unix datagram socket standing in for systemd: records (sender pid, message, time)."""

    path: Path
    sock: socket.socket
    received: list[tuple[int, str, float]] = field(default_factory=list)

    def _pump(self) -> None:
        creds_size = struct.calcsize("3i")
        while True:
            try:
                data, ancdata, _flags, _addr = self.sock.recvmsg(4096, socket.CMSG_SPACE(creds_size))
            except OSError:
                return
            pid = 0
            for level, kind, payload in ancdata:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = array.array("i", payload[:creds_size])[0]
            self.received.append((pid, data.decode(), time.monotonic()))

    def wait_for(self, line: str, timeout: float = 60) -> tuple[int, str, float]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for item in self.received:
                if line in item[1].splitlines():
                    return item
            time.sleep(0.01)
        raise AssertionError(f"no {line!r} within {timeout} s; got {self.received}")


@pytest.fixture
def notify_socket() -> Iterator[FakeNotifySocket]:
    folder = Path(tempfile.mkdtemp(prefix="chatd-notify-"))
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    sock.bind(str(folder / "notify"))
    fake = FakeNotifySocket(folder / "notify", sock)
    thread = threading.Thread(target=fake._pump, daemon=True)
    thread.start()
    yield fake
    sock.shutdown(socket.SHUT_RDWR)
    sock.close()
    thread.join(5)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_ready_only_when_serving_then_watchdog_then_stopping(data_dir: Path, notify_socket: FakeNotifySocket) -> None:
    proc = ChatdProcess(data_dir, env={"NOTIFY_SOCKET": str(notify_socket.path), "WATCHDOG_USEC": "1000000"})
    proc.start(wait=False)
    assert proc.proc is not None
    pid, message, _ = notify_socket.wait_for("READY=1")
    assert pid == proc.proc.pid  # chatd itself, not its PostgreSQL (which also speaks sd_notify)
    status = next(line for line in message.splitlines() if line.startswith("STATUS="))
    url = status.removeprefix("STATUS=serving ").split(",")[0]
    # READY=1 came after migrations, the pool and the listener: the server answers at once.
    health = http_request_sync("GET", url + "/healthz")
    assert health.status == 200 and health.json["database"] == "ok"
    assert f"MAINPID={pid}" in message.splitlines()

    # WATCHDOG_USEC=1 s: a ping every 0.5 s from the event loop.
    ready_at = notify_socket.wait_for("READY=1")[2]
    time.sleep(1.6)
    pings = [t for p, m, t in notify_socket.received if m == "WATCHDOG=1" and t >= ready_at and p == pid]
    assert len(pings) >= 2, notify_socket.received

    proc.signal(signal.SIGTERM)
    notify_socket.wait_for("STOPPING=1")
    assert proc.wait() == 0
    senders = {p for p, _, _ in notify_socket.received}
    assert senders == {pid}, f"only chatd may notify, got messages from {senders}"


def test_notifier_speaks_to_abstract_sockets_and_is_silent_without_one() -> None:
    name = f"chatd-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        assert Notifier("@" + name).notify("READY=1", "STATUS=x")
        assert sock.recv(100) == b"READY=1\nSTATUS=x"
    assert Notifier().notify("READY=1") is False


def test_from_environ_takes_the_variables_away_from_children() -> None:
    env = {"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid()), "PATH": "/bin"}
    notifier = Notifier.from_environ(env)
    assert (notifier.address, notifier.watchdog_secs) == ("/run/x", 15.0)
    assert env == {"PATH": "/bin"}
    other = Notifier.from_environ({"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"})
    assert other.watchdog_secs == 0.0  # the watchdog was meant for another process


async def test_watchdog_pings_at_half_the_interval(autojump_clock: trio.testing.MockClock) -> None:
    sent: list[float] = []

    class Recording(Notifier):
        def notify(self, *lines: str) -> bool:
            sent.append(trio.current_time())
            return True

    async with trio.open_nursery() as nursery:
        await nursery.start(Recording("/run/x", 30_000_000).keep_watchdog)
        await trio.sleep(61)
        nursery.cancel_scope.cancel()
    assert [round(t - sent[0]) for t in sent] == [0, 15, 30, 45, 60]
