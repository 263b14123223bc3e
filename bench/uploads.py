"""S10: file uploads (issue 12) — throughput against the transport's own rate, memory during a
1 GiB upload, and the cost of a thumbnail.

1. **Throughput.** The same bytes, from a separate process (bench/upload_client.py, TLS on
   loopback), to ``POST /api/files`` (streamed to disk, hashed, fsynced, recorded) and to
   ``POST /api/files/discard`` (the same body reading, then thrown away: the transport's own
   rate — TLS, Hypercorn, Quart), alternating, twice each; single (one upload) and 8 parallel.
   Metric: MB/s (MiB/s) of each, and uploads ÷ discard (target ≥ 0.7).
2. **Memory.** chatd's peak resident size is reset (``/proc/PID/clear_refs``), one 1 GiB upload
   runs, and the growth is VmHWM − VmRSS before (target < 20 MiB).
3. **Thumbnails.** chatd's thumbnailer on a 12 MP and a 48 MP JPEG, each in a fresh process
   (bench/thumbs.py): median time of 3 and peak memory (targets for 12 MP: ≤ 250 ms, ≤ 64 MiB).

chatd must accept 1 GiB files and many uploads per user: the runner's data directory gets a
chatd.toml saying so (``CHATD_TOML``); with ``--url`` configure the server the same way.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import seed
from bench.procstat import read_status_kb

# What the bench's chatd needs for S10 (written to DATA_DIR/chatd.toml by the runner).
CHATD_TOML = """\
# Written by the bench (S10 uploads 1 GiB files, several at once).
files_max_bytes = 2147483648
files_quota_bytes = 0
files_pending_max = 64
"""

MiB = 1024 * 1024
REPO_ROOT = Path(__file__).resolve().parents[1]


def _client(url: str, token: str, parallel: int, mib: int, path: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.upload_client", url, token, "--parallel", str(parallel), "--mib", str(mib),
         "--path", path],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=900, check=False,
    )
    try:
        report: dict[str, Any] = json.loads(out.stdout)
    except json.JSONDecodeError:
        raise RuntimeError(f"upload client failed: {out.stdout[-500:]} {out.stderr[-2000:]}") from None
    return report


def _reset_peak(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM to the current VmRSS
    except OSError:
        return False
    return True


def _thumbnail(mp: int, width: int, height: int, tmp: Path) -> dict[str, Any]:
    photo = tmp / f"{mp}mp.jpg"
    subprocess.run([sys.executable, "-m", "bench.thumbs", "make", str(photo), str(width), str(height)],
                   cwd=REPO_ROOT, check=True, timeout=300)
    out = subprocess.run([sys.executable, "-m", "bench.thumbs", "measure", str(photo)], cwd=REPO_ROOT,
                         capture_output=True, text=True, check=True, timeout=300)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def run_s10(ctx: Any) -> dict[str, Any]:
    sid = "S10"
    url = f"{'https' if ctx.tls else 'http'}://{ctx.host}:{ctx.port}"
    tag = ctx.tag(sid)

    [user] = ctx.db(lambda conn: seed.create_users(conn, tag, 1))
    ctx.fresh_server()
    errors: list[str] = []
    uploads = failed = 0
    rates: dict[str, list[float]] = {}
    from bench.scenarios import Window

    win = Window(ctx.sampler)
    win.start()
    for mode, parallel, mib in (("single", 1, ctx.p(sid, "single_mib")), ("parallel", 8, ctx.p(sid, "parallel_mib"))):
        for _ in range(ctx.p(sid, "repeats")):
            for kind, path in (("discard", "/api/files/discard"), ("upload", "/api/files")):
                report = _client(url, user.token, parallel, mib, path)
                ok = [s for s, _ in report["results"] if 200 <= s < 300]
                failed += len(report["results"]) - len(ok)
                uploads += len(ok) if kind == "upload" else 0
                if len(ok) < parallel:
                    errors.append(f"{kind} {mode}: answers {[s for s, _ in report['results']]}")
                rates.setdefault(f"{kind}_{mode}", []).append(report["mb_per_s"])
    res = win.stop()
    metrics: dict[str, Any] = {f"{k}_mb_s": statistics.median(v) for k, v in rates.items()}
    for mode in ("single", "parallel"):
        metrics[f"ratio_{mode}"] = metrics[f"upload_{mode}_mb_s"] / metrics[f"discard_{mode}_mb_s"]

    pid = ctx.server.pid if ctx.server is not None else ctx.sampler.server_pid
    big = ctx.p(sid, "big_mib")
    if pid is not None and _reset_peak(pid):
        before = read_status_kb(pid, "VmRSS") or 0
        report = _client(url, user.token, 1, big, "/api/files")
        peak = read_status_kb(pid, "VmHWM") or 0
        uploads += sum(1 for s, _ in report["results"] if s == 201)
        failed += sum(1 for s, _ in report["results"] if s != 201)
        metrics["big_upload_mib"] = big
        metrics["big_upload_rss_growth_mib"] = (peak - before) / 1024
        metrics["big_upload_mb_s"] = report["mb_per_s"]
    else:
        errors.append("cannot read or reset chatd's peak memory (/proc/PID/clear_refs): run as chatd's user")

    with tempfile.TemporaryDirectory() as tmp:
        for mp, (w, h) in ((12, (4000, 3000)), (48, (8000, 6000))):
            t = _thumbnail(mp, w, h, Path(tmp))
            metrics[f"thumb_{mp}mp_ms"] = t["ms"]
            metrics[f"thumb_{mp}mp_peak_mib"] = t["peak_mib"]

    stored = ctx.db(lambda c: c.fetchval("SELECT count(*) FROM attachments WHERE user_id = $1", user.id))
    if stored != uploads:
        errors.append(f"{uploads} uploads answered 201 but {stored} are stored")
    correctness = {"lost": 0, "duplicated": 0, "out_of_order": 0, "unacked_sends": failed,
                   "detail": {"stored": stored, "uploads": uploads, "failed_uploads": failed}}
    return {"metrics": metrics, "correctness": correctness, "resources": res, "errors": errors, "info": {}}
