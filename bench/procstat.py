"""CPU and memory of the processes under test, read from /proc (Linux only).

A ``Sampler`` thread reads, every ``interval`` seconds: chatd (its own CPU, RSS, peak RSS), the
embedded PostgreSQL (the postmaster and every backend: CPU including reaped backends, summed
PSS), the load generator (the runner and its worker processes), the whole machine's busy CPU and
the load average. Counters are cumulative across server restarts (a new chatd pid adds to what the
previous one used), so a scenario's cost is the difference between two samples.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

TICKS_PER_SEC = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass(frozen=True)
class ProcStat:
    """One /proc/PID/stat reading: CPU in seconds (own, and reaped children), RSS in KiB."""

    cpu_secs: float
    children_cpu_secs: float
    rss_kb: int


def read_stat(pid: int) -> ProcStat | None:
    """The process's CPU and RSS, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    rest = raw[raw.rindex(b")") + 2 :].split()
    # rest[0] is field 3 (state): utime=14, stime=15, cutime=16, cstime=17, rss=24.
    utime, stime, cutime, cstime = (int(x) for x in rest[11:15])
    return ProcStat((utime + stime) / TICKS_PER_SEC, (cutime + cstime) / TICKS_PER_SEC, int(rest[21]) * PAGE_KB)


def read_status_kb(pid: int, key: str) -> int | None:
    """A ``kB`` field of /proc/PID/status (``VmHWM``, ``VmRSS``), or None."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def read_pss_kb(pid: int) -> int:
    """Proportional set size: shared pages (PostgreSQL's shared buffers) counted once overall."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def children_of(pid: int) -> list[int]:
    """Direct children of ``pid`` (from every thread's ``children`` list)."""
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            out.extend(int(x) for x in Path(f"/proc/{pid}/task/{tid}/children").read_text().split())
        except OSError:
            continue
    return out


def system_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    values = [int(x) for x in fields[:8]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values)
    return (total - idle) / TICKS_PER_SEC, total / TICKS_PER_SEC


def loadavg() -> tuple[float, float, float]:
    a, b, c = Path("/proc/loadavg").read_text().split()[:3]
    return float(a), float(b), float(c)


@dataclass
class Sample:
    """Cumulative counters at time ``t`` (time.monotonic)."""

    t: float
    chatd_cpu: float
    chatd_rss_kb: int
    chatd_hwm_kb: int
    pg_cpu: float
    pg_pss_kb: int
    loadgen_cpu: float
    sys_busy: float
    sys_total: float
    load1: float


@dataclass
class _Instance:
    """What the sampler last saw of one server instance (chatd + its PostgreSQL)."""

    chatd_cpu: float = 0.0
    pg_cpu: float = 0.0


@dataclass
class Sampler:
    """Background sampling thread; ``server_pid`` and ``worker_pids`` may change at any time."""

    interval: float = 0.2
    pss_every: int = 5  # PSS costs more to read; every 5th sample is enough for a peak
    server_pid: int | None = None
    worker_pids: list[int] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    _instances: dict[int, _Instance] = field(default_factory=dict)
    _workers_last: dict[int, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _pss_last: int = 0
    _n: int = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> Sample:
        """Take one sample now (also called by the scenarios at window edges)."""
        with self._lock:
            self._n += 1
            pid = self.server_pid
            rss = hwm = 0
            if pid is not None:
                inst = self._instances.setdefault(pid, _Instance())
                st = read_stat(pid)
                if st is not None:
                    inst.chatd_cpu = st.cpu_secs
                    rss = st.rss_kb
                    hwm = read_status_kb(pid, "VmHWM") or 0
                    pg_cpu, pss = self._pg(pid, self._n % self.pss_every == 0)
                    if pg_cpu is not None:
                        inst.pg_cpu = pg_cpu
                    if pss is not None:
                        self._pss_last = pss
            for wpid in self.worker_pids:
                st = read_stat(wpid)
                if st is not None:
                    self._workers_last[wpid] = st.cpu_secs
            me = os.times()
            busy, total = system_cpu()
            s = Sample(
                t=time.monotonic(),
                chatd_cpu=sum(i.chatd_cpu for i in self._instances.values()),
                chatd_rss_kb=rss,
                chatd_hwm_kb=hwm,
                pg_cpu=sum(i.pg_cpu for i in self._instances.values()),
                pg_pss_kb=self._pss_last,
                loadgen_cpu=sum(self._workers_last.values()) + me.user + me.system,
                sys_busy=busy,
                sys_total=total,
                load1=loadavg()[0],
            )
            self.samples.append(s)
            return s

    @staticmethod
    def _pg(chatd_pid: int, with_pss: bool) -> tuple[float | None, int | None]:
        """CPU of the postmaster (with its reaped backends) plus its live children; their PSS."""
        total: float | None = None
        pss: int | None = 0 if with_pss else None
        for pm in children_of(chatd_pid):
            st = read_stat(pm)
            if st is None or not _is_postgres(pm):
                continue
            total = (total or 0.0) + st.cpu_secs + st.children_cpu_secs
            if pss is not None:
                pss += read_pss_kb(pm)
            for child in children_of(pm):
                cst = read_stat(child)
                if cst is not None:
                    total += cst.cpu_secs
                    if pss is not None:
                        pss += read_pss_kb(child)
        return total, pss

    def between(self, start: Sample, end: Sample) -> dict[str, float]:
        """Resource use between two samples, and the peaks seen in between."""
        inside = [s for s in self.samples if start.t <= s.t <= end.t] or [end]
        secs = max(end.t - start.t, 1e-9)
        sys_busy = end.sys_busy - start.sys_busy
        chatd = end.chatd_cpu - start.chatd_cpu
        pg = end.pg_cpu - start.pg_cpu
        loadgen = end.loadgen_cpu - start.loadgen_cpu
        # The busiest ~1 s of chatd: 100 means its one event loop was saturated.
        peak = 0.0
        j = 0
        for i, s in enumerate(inside):
            # j: the latest sample at least 1 s before sample i
            while j + 1 < i and s.t - inside[j + 1].t >= 1.0:
                j += 1
            if s.t - inside[j].t >= 1.0:
                peak = max(peak, 100 * (s.chatd_cpu - inside[j].chatd_cpu) / (s.t - inside[j].t))
        return {
            "seconds": secs,
            "chatd_cpu_s": chatd,
            "chatd_cpu_pct": 100 * chatd / secs,
            "chatd_cpu_pct_peak_1s": peak,
            "chatd_peak_rss_mib": max(max(s.chatd_rss_kb for s in inside), end.chatd_rss_kb) / 1024,
            "chatd_vmhwm_mib": max(s.chatd_hwm_kb for s in inside) / 1024,
            "pg_cpu_s": pg,
            "pg_cpu_pct": 100 * pg / secs,
            "pg_peak_pss_mib": max(s.pg_pss_kb for s in inside) / 1024,
            "loadgen_cpu_s": loadgen,
            "loadgen_cpu_pct": 100 * loadgen / secs,
            "machine_busy_pct": 100 * sys_busy / secs,  # of one core; 200 = both cores busy
            "others_cpu_pct": 100 * max(0.0, sys_busy - chatd - pg - loadgen) / secs,
            "load1_max": max(s.load1 for s in inside),
        }


def _is_postgres(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip().startswith("postgres")
    except OSError:
        return False


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.01) -> bool:
    """Poll ``predicate`` until true or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
