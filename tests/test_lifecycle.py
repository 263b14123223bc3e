"""chatd as an operator runs it: first start, warm start, SIGTERM, kill -9, PostgreSQL dying,
and every start-up mistake the foundation promises a clear error for."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from chatd.tls import generate_self_signed
from tests.helpers.proc import ChatdProcess, run_cli
from tests.helpers.server import http_request_sync

pytestmark = pytest.mark.slow


def _psql(data_dir: Path, sql: str) -> str:
    psql = shutil.which("psql")
    assert psql, "psql is needed for this test"
    out = subprocess.run(
        [psql, "-X", "-tA", "-h", str(data_dir / "pg-run"), "-U", "chatd", "-d", "chatd", "-c", sql],
        capture_output=True, text=True, timeout=30, check=True,
    )
    return out.stdout.strip()


def test_first_start_warm_start_and_graceful_stop(data_dir: Path) -> None:
    t0 = time.monotonic()
    first = ChatdProcess(data_dir).start()
    first_secs = time.monotonic() - t0
    resp = http_request_sync("GET", first.url + "/healthz")
    assert resp.status == 200 and resp.json["database"] == "ok"
    assert "event=pg.initdb" in first.output
    assert "TLS certificate SHA-256 fingerprint:" in first.output
    assert (data_dir / "tls-cert.pem").is_file() and (data_dir / "pg" / "PG_VERSION").is_file()
    assert first.terminate_and_wait() == 0
    assert "event=pg.stopped" in first.output
    assert not (data_dir / "pg" / "postmaster.pid").exists()

    t0 = time.monotonic()
    second = ChatdProcess(data_dir).start()
    warm_secs = time.monotonic() - t0
    assert "event=pg.initdb" not in second.output  # reused, not re-created
    assert "event=tls.generated" not in second.output
    assert http_request_sync("GET", second.url + "/healthz").status == 200
    assert second.terminate_and_wait() == 0
    print(f"first start {first_secs:.2f} s, warm start {warm_secs:.2f} s")


def test_kill_9_then_restart_recovers_with_nothing_lost(data_dir: Path) -> None:
    first = ChatdProcess(data_dir).start()
    _psql(data_dir, "INSERT INTO channels (name, name_key) VALUES ('survivor', 'survivor')")
    pid_file = data_dir / "pg" / "postmaster.pid"
    assert pid_file.exists()
    first.kill()
    # The parent-death signal makes PostgreSQL shut down; a stale pid file may remain either way.
    second = ChatdProcess(data_dir).start()
    assert http_request_sync("GET", second.url + "/healthz").status == 200
    assert _psql(data_dir, "SELECT count(*) FROM channels WHERE name = 'survivor'") == "1"
    assert second.terminate_and_wait() == 0


def test_stale_pid_file_from_a_crash_is_handled(data_dir: Path) -> None:
    first = ChatdProcess(data_dir).start()
    assert first.terminate_and_wait() == 0
    # A pid file naming a process that is not PostgreSQL (pid reuse after a crash).
    (data_dir / "pg" / "postmaster.pid").write_text(f"1\n{data_dir / 'pg'}\n0\n5432\n\n\n\n")
    second = ChatdProcess(data_dir).start()
    assert "event=pg.stale_pid" in second.output
    assert second.terminate_and_wait() == 0


def test_postgres_dying_stops_chatd_non_zero(data_dir: Path) -> None:
    proc = ChatdProcess(data_dir).start()
    pid = int((data_dir / "pg" / "postmaster.pid").read_text().splitlines()[0])
    import os

    os.kill(pid, signal.SIGKILL)
    code = proc.wait(timeout=30)
    assert code != 0
    assert "embedded PostgreSQL exited" in proc.output


def test_port_in_use_is_a_clear_error(data_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--data-dir", str(data_dir), "--port", str(port))
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr


def test_data_dir_that_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "afile"
    target.write_text("x")
    result = run_cli("serve", "--data-dir", str(target), "--port", "0")
    assert result.returncode == 1
    assert f"data_dir {target}" in result.stderr


def test_data_dir_that_cannot_be_created() -> None:
    result = run_cli("serve", "--data-dir", "/proc/chatd-cannot-exist", "--port", "0")
    assert result.returncode == 1
    assert "data_dir /proc/chatd-cannot-exist: cannot create it" in result.stderr


def test_missing_certificate_file(data_dir: Path) -> None:
    result = run_cli(
        "serve", "--data-dir", str(data_dir), "--port", "0",
        env={"CHATD_TLS_CERT": str(data_dir / "nope.pem"), "CHATD_TLS_KEY": str(data_dir / "nope.key")},
    )
    assert result.returncode == 1
    assert "tls_cert" in result.stderr and "does not exist" in result.stderr


def test_certificate_not_matching_key(data_dir: Path) -> None:
    generate_self_signed(data_dir / "a.pem", data_dir / "a.key")
    generate_self_signed(data_dir / "b.pem", data_dir / "b.key")
    result = run_cli(
        "serve", "--data-dir", str(data_dir), "--port", "0",
        env={"CHATD_TLS_CERT": str(data_dir / "a.pem"), "CHATD_TLS_KEY": str(data_dir / "b.key")},
    )
    assert result.returncode == 1
    assert "cannot be used together" in result.stderr


def test_configured_certificate_is_used(data_dir: Path) -> None:
    generate_self_signed(data_dir / "mine.pem", data_dir / "mine.key", hostname="chat.test")
    proc = ChatdProcess(
        data_dir, env={"CHATD_TLS_CERT": str(data_dir / "mine.pem"), "CHATD_TLS_KEY": str(data_dir / "mine.key")}
    ).start()
    from chatd.tls import fingerprint

    assert fingerprint((data_dir / "mine.pem").read_bytes()) in proc.output
    assert not (data_dir / "tls-cert.pem").exists()
    assert proc.terminate_and_wait() == 0


def test_malformed_database_url_exits_2(data_dir: Path) -> None:
    result = run_cli("serve", "--data-dir", str(data_dir), "--database-url", "postgres://h:port/db")
    assert result.returncode == 2
    assert "database_url" in result.stderr


def test_unreachable_database_retries_then_exits(data_dir: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    t0 = time.monotonic()
    result = run_cli(
        "serve", "--data-dir", str(data_dir), "--port", "0",
        "--database-url", f"postgresql://chatd@127.0.0.1:{port}/chatd",
        env={"CHATD_DB_CONNECT_TIMEOUT_SECS": "2"},
    )
    assert result.returncode == 1
    assert time.monotonic() - t0 >= 2
    assert "event=db.connect_retry" in result.stderr
    assert "cannot connect to the database after" in result.stderr


def test_plain_http_listener_for_a_proxy(data_dir: Path) -> None:
    proc = ChatdProcess(data_dir, "--no-tls").start()
    assert proc.url.startswith("http://")
    resp = http_request_sync("GET", proc.url + "/healthz")
    assert resp.status == 200
    assert "strict-transport-security" not in resp.headers  # no HSTS without TLS
    assert proc.terminate_and_wait() == 0


def test_migrate_command_applies_then_has_nothing_to_do(data_dir: Path) -> None:
    proc = ChatdProcess(data_dir).start()
    result = run_cli("migrate", "--data-dir", str(data_dir))  # beside the running daemon
    assert result.returncode == 0, result.stderr
    assert "applied 0 migration(s)" in result.stdout
    assert proc.terminate_and_wait() == 0
    result = run_cli("migrate", "--data-dir", str(data_dir))  # starts the cluster itself
    assert result.returncode == 0, result.stderr
    assert not (data_dir / "pg" / "postmaster.pid").exists()
