"""``--profile DIR``: record chatd with py-spy while a scenario runs, and summarize where time goes.

py-spy samples the chatd process from outside (``--nonblocking``: it does not pause chatd) at
100 Hz, on-CPU samples only, into py-spy's raw "collapsed stacks" format. ``summarize_raw`` turns
that into two short tables: functions by self time (where the CPU is burnt) and by inclusive time
(which call paths cost the most). The sampler itself costs CPU on a 2-core machine: profiled runs
are for reading, never for the medians.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

PY_SPY_RATE_HZ = 100


def _py_spy() -> str | None:
    here = Path(sys.executable).parent / "py-spy"
    return str(here) if here.exists() else shutil.which("py-spy")


class Profiler:
    """Attaches py-spy to each chatd the scenarios start; one raw file per scenario run."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.label = "profile"
        self._proc: subprocess.Popen[bytes] | None = None
        self._files: list[Path] = []
        self._part = 0
        out_dir.mkdir(parents=True, exist_ok=True)
        if _py_spy() is None:
            raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")

    def attach(self, pid: int) -> None:
        """Start recording ``pid`` (stopping any recording in progress first)."""
        self._stop_recorder()
        self._part += 1
        path = self.out_dir / f"{self.label}-part{self._part}.raw"
        exe = _py_spy()
        assert exe is not None
        self._proc = subprocess.Popen(
            [exe, "record", "--pid", str(pid), "--rate", str(PY_SPY_RATE_HZ), "--format", "raw",
             "--output", str(path), "--nonblocking", "--threads"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self._files.append(path)

    def _stop_recorder(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    def detach(self) -> str:
        """Stop recording; write ``<label>.txt`` (summary of every part); returns its path or ''."""
        self._stop_recorder()
        files = [f for f in self._files if f.exists()]
        self._files = []
        self._part = 0
        if not files:
            return ""
        stacks: Counter[str] = Counter()
        for f in files:
            stacks.update(read_raw(f))
        out = self.out_dir / f"{self.label}.txt"
        out.write_text(summarize_raw(stacks))
        merged = self.out_dir / f"{self.label}.raw"
        with merged.open("w") as fh:
            for stack, n in stacks.most_common():
                fh.write(f"{stack} {n}\n")
        for f in files:
            if f != merged:
                with contextlib.suppress(OSError):
                    f.unlink()
        return str(out)


def read_raw(path: Path) -> Counter[str]:
    """py-spy raw output: one ``frame;frame;…;frame count`` line per distinct stack."""
    out: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            out[stack] += int(count)
    return out


def _frame_name(frame: str) -> str:
    # "function (path/to/file.py:123)" → "function (file.py)" so lines of one function add up.
    name, _, where = frame.partition(" (")
    file = where.rstrip(")").rsplit(":", 1)[0]
    short = "/".join(file.split("/")[-2:]) if file else ""
    return f"{name} ({short})" if short else name


# The layers a WebSocket message crosses, each found by a piece of its frames' file paths or
# function names: "which layer costs most" in one look (the per-function tables are long).
LAYERS: list[tuple[str, str]] = [
    ("trio scheduler (unrolled_run)", "unrolled_run"),
    ("TLS (trio SSLStream, ssl)", "trio/_ssl.py"),
    ("TLS handshakes", "do_handshake"),
    ("socket send/recv (trio)", "trio/_socket.py"),
    ("Hypercorn", "hypercorn/"),
    ("wsproto", "wsproto/"),
    ("Quart", "quart/"),
    ("gateway writer (Outbound.write_all)", "Outbound.write_all"),
    ("listener: accept, TLS handshake, request head", "gateway/listener.py"),
    ("chatd's WebSocket (gateway/websocket.py, wsframe.py)", "gateway/websocket.py"),
    ("chatd's socket stream and TLS (gateway/netstream.py)", "gateway/netstream.py"),
    ("fan-out writes (Flusher.flush_marked)", "Flusher.flush_marked"),
    ("backed-up sockets' writer tasks", "Outbound._write_backlog"),
    ("heartbeat (pings, silent peers)", "Heartbeat.beat"),
    ("gateway reader and dispatch", "Session._read_frames"),
    ("hello and replay (chatd/gateway/resume.py)", "gateway/resume.py"),
    ("hub (chatd/hub/)", "chatd/hub/"),
    ("presence pusher", "chatd/presence_push.py"),
    ("trio-asyncio bridge", "trio_asyncio/"),
    ("asyncpg", "asyncpg/"),
    ("CBOR codec (chatd/wire)", "chatd/wire/"),
    ("Hypercorn's WebSocket pings", "_send_pings"),
]


def layer_shares(stacks: Counter[str]) -> list[tuple[str, float]]:
    """Percent of samples whose stack passes through each of ``LAYERS`` (a sample may count in
    several; py-spy cannot read every stack whole, so these are lower bounds)."""
    total = sum(stacks.values())
    if not total:
        return []
    return [(name, 100 * sum(n for stack, n in stacks.items() if key in stack) / total) for name, key in LAYERS]


def summarize_raw(stacks: Counter[str], top: int = 30) -> str:
    """Layer shares, then top functions by self and by inclusive samples (percent of all
    on-CPU samples)."""
    total = sum(stacks.values())
    if not total:
        return "no samples\n"
    self_c: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    for stack, n in stacks.items():
        frames = [_frame_name(f) for f in stack.split(";") if f and not f.startswith("thread ")
                  and not f.startswith("process ")]
        if not frames:
            continue
        self_c[frames[-1]] += n
        for f in set(frames):
            incl[f] += n
    lines = [f"{total} on-CPU samples at {PY_SPY_RATE_HZ} Hz ({total / PY_SPY_RATE_HZ:.1f} CPU-seconds)", "",
             "layers (samples whose stack passes through; lower bounds, a sample counts in several):"]
    lines += [f"  {share:5.1f}%  {name}" for name, share in layer_shares(stacks) if share >= 1]
    lines += ["", "self time (where the CPU is spent):"]
    for name, n in self_c.most_common(top):
        lines.append(f"  {100 * n / total:5.1f}%  {name}")
    lines += ["", "inclusive time (the function and everything it calls):"]
    for name, n in incl.most_common(top):
        lines.append(f"  {100 * n / total:5.1f}%  {name}")
    return "\n".join(lines) + "\n"
